package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// confirm asks "Cancel N calls at HOST? [y/N]" on the terminal, read from
// the terminal itself even when the CSV comes on stdin, and reports
// whether the answer was yes. It is not asked with --yes, --dry-run or
// nothing to send, nor when stderr is not a terminal (cron, CI, a
// Kubernetes Job): there it returns true. No answer (empty, EOF, anything
// but y or yes), a terminal that cannot be opened or a signal while it
// waits is a no.
func (j *job) confirm() bool {
	c := j.plan.Counts
	if j.o.yes || j.o.dryRun || c.Send == 0 || !j.e.stderrTTY || j.e.openTTY == nil {
		return true
	}
	j.asked = true
	tty, err := j.e.openTTY()
	if err != nil {
		j.log.Warn().Err(err).Msg("cannot open the terminal to ask for confirmation; pass --yes to run without asking")
		return false
	}
	defer tty.Close() // also ends the read below if a signal came first

	fmt.Fprintf(tty, "%s\n", j.planLine())
	fmt.Fprintf(tty, "Cancel %s at %s? [y/N] ", countNoun(c.Send, "call"), j.client.Host())
	answer := make(chan string, 1)
	go func() { answer <- readAnswer(tty) }()
	select {
	case a := <-answer:
		return a == "y" || a == "yes"
	case sig := <-j.e.signals:
		fmt.Fprintln(tty)
		j.log.Warn().Str("signal", signalName(sig)).Msg("interrupted at the confirmation")
		return false
	}
}

// planLine says what the run would do, so the question is not asked blind.
func (j *job) planLine() string {
	c := j.plan.Counts
	var b strings.Builder
	in := j.o.input
	if in == "-" {
		in = "standard input"
	}
	fmt.Fprintf(&b, "%s: %s", in, countNoun(c.Rows, "row"))
	if c.OtherShard > 0 {
		fmt.Fprintf(&b, ", %d in shard %s", c.Shard, j.o.shard)
	}
	fmt.Fprintf(&b, "; %d to send", c.Send)
	for _, s := range []struct {
		n    int
		what string
	}{{c.Invalid, "invalid"}, {c.Duplicate, "duplicate"}, {c.Carried, "carried from --resume"}} {
		if s.n > 0 {
			fmt.Fprintf(&b, ", %d %s", s.n, s.what)
		}
	}
	b.WriteString(".")
	return b.String()
}

// readAnswer reads one line and returns it trimmed and lower-cased; at
// EOF or on an error, what came before it ("" when nothing did).
func readAnswer(r io.Reader) string {
	line, _ := bufio.NewReader(r).ReadString('\n')
	return strings.ToLower(strings.TrimSpace(line))
}

// countNoun is "1 call" or "2 calls".
func countNoun(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
