package main

import (
	"bufio"
	"fmt"
	"strings"
)

// confirm asks "Cancel N calls at HOST? [y/N]" on the terminal, read from
// the terminal itself even when the CSV comes on stdin. It is not asked
// with --yes, --dry-run, nothing to send, or no terminal (cron, CI).
func (j *job) confirm() bool {
	n := j.plan.Counts.Send
	if j.o.yes || j.o.dryRun || n == 0 || !j.e.stderrTTY || j.e.openTTY == nil {
		return true
	}
	tty, err := j.e.openTTY()
	if err != nil {
		j.log.Warn().Err(err).Msg("cannot open the terminal to ask for confirmation; pass --yes to run without asking")
		return false
	}
	defer tty.Close()
	fmt.Fprintf(tty, "Cancel %d calls at %s? [y/N] ", n, host(j.o.baseURL))
	line, _ := bufio.NewReader(tty).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
