package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/report"
)

// printSummary writes the short human summary to stdout: the counts, why
// the run stopped (runErr, aborted), and the command that finishes it.
func (j *job) printSummary(s report.Summary, aborted *string, runErr error, jsonOK bool, finish []string) {
	w := j.e.stdout
	c := j.plan.Counts
	if j.o.dryRun {
		fmt.Fprintf(w, "Dry run: nothing was sent.\n")
		fmt.Fprintf(w, "Would send %d of %d rows to %s.\n", c.Send, c.Rows, j.client.Host())
		if c.Send > 0 {
			fmt.Fprintf(w, "%s\n", paceEstimate(c.Send, j.o.rate, j.o.maxRate))
		}
		fmt.Fprintf(w, "Skipped: %d invalid, %d duplicate, %d carried from --resume", c.Invalid, c.Duplicate, c.Carried)
		if c.OtherShard > 0 {
			fmt.Fprintf(w, ", %d in other shards", c.OtherShard)
		}
		fmt.Fprintln(w, ".")
	} else {
		fmt.Fprintf(w, "%d rows in %s: %d final, %d not final.\n", s.Total, round(time.Duration(s.DurationMS)*time.Millisecond), s.Final, s.NotFinal)
		for _, o := range batch.Outcomes {
			n := s.ByOutcome[o]
			if n == 0 {
				continue
			}
			extra := ""
			if a := s.Ambiguous - s.AmbiguousNotFinal; o == batch.NotCancelable && a > 0 {
				extra = fmt.Sprintf("  (%d ambiguous: an earlier attempt may have canceled them)", a)
			}
			fmt.Fprintf(w, "  %-20s %8d%s\n", o, n, extra)
		}
		if s.AmbiguousNotFinal > 0 {
			fmt.Fprintf(w, "%d rows not final are ambiguous: a request for them may have reached the API, so their calls may already be canceled; --resume treats them as possibly sent.\n", s.AmbiguousNotFinal)
		}
		fmt.Fprintf(w, "Requests: %d (%d retries), %.1f/s.", s.Attempts, s.Retries, s.AchievedRPS)
		if s.Carried > 0 {
			fmt.Fprintf(w, " Carried from %s without sending: %d.", j.o.resume, s.Carried)
		}
		fmt.Fprintln(w)
		if line := paceSummary(s.Rate, j.o.shards.N); line != "" {
			fmt.Fprintln(w, line)
		}
	}
	if jsonOK {
		fmt.Fprintf(w, "Report: %s.csv and %s.json\n", j.prefix, j.prefix)
	} else {
		fmt.Fprintf(w, "Report: %s.csv (the JSON report could not be written)\n", j.prefix)
	}
	wrongWorkspace := errors.Is(runErr, batch.ErrWrongWorkspace)
	switch {
	case wrongWorkspace:
		fmt.Fprintf(w, "Stopped: %s.\n", *aborted)
		fmt.Fprintf(w, "To check: look one of these IDs up in the SubVerse dashboard of the workspace this key belongs to, and check that %s holds the call IDs (--column).\n", j.columnRead())
		// A --resume would carry the not_found rows as final, which is
		// right only when the calls are really gone.
		fmt.Fprintln(w, "Once the key or the column is right, run the job again with a new --report, not --resume: --resume would carry these not_found rows as final.")
	case aborted != nil && s.NotFinal == 0:
		fmt.Fprintf(w, "Error: %s.\n", *aborted) // every row done: nothing stopped early
	case aborted != nil:
		fmt.Fprintf(w, "Stopped early: %s.\n", *aborted)
	case s.Sent > 0 && j.sentNotFound*2 > s.Sent:
		fmt.Fprintf(w, "Warning: %d of the %d IDs sent were not found. If these calls should exist, check that the key belongs to their workspace and that %s holds the call IDs.\n",
			j.sentNotFound, s.Sent, j.columnRead())
	}
	if s.Unwritten > 0 {
		fmt.Fprintf(w, "The report is incomplete: %d rows could not be written to it and count as not final", s.Unwritten)
		if s.UnwrittenSent > 0 {
			fmt.Fprintf(w, "; %d of them were sent, so their calls may have been canceled", s.UnwrittenSent)
		}
		fmt.Fprintln(w, ".")
	}
	switch {
	case finish == nil:
	case wrongWorkspace:
		j.printCommand("If these calls may really all be gone, finish the job with:", finish)
	case errors.Is(runErr, batch.ErrUnauthorized):
		j.printCommand("Fix the key, then finish the job with:", finish)
	default:
		j.printCommand("To finish the job (final rows are not sent again), run:", finish)
	}
}

// printCommand prints lead and then args as one shell command line.
func (j *job) printCommand(lead string, args []string) {
	fmt.Fprintln(j.e.stdout, lead)
	fmt.Fprintf(j.e.stdout, "  %s\n", shellJoin(args))
	if j.o.input == "-" {
		fmt.Fprintln(j.e.stdout, "  (pipe the same input to it again)")
	}
}

// columnRead names the column the IDs were read from.
func (j *job) columnRead() string {
	if j.in == nil || j.in.Column == "" {
		return "the first column"
	}
	return fmt.Sprintf("the column %q", j.in.Column)
}

// finishArgs is the command line that finishes this job, as an argument
// list: every flag given, the base URL named even when it came from
// SUBVERSE_BASE_URL, --resume resume (none when ""), --report prefix, and
// INPUT last, after "--" when it looks like a flag. Run in a fresh shell
// with only the key set, it does what this run left to do.
func (j *job) finishArgs(resume, prefix string) []string {
	args := []string{j.e.argv0(), "--base-url", j.o.baseURL}
	j.o.flags.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "base-url", "resume", "report", "yes", "help", "version":
			return
		}
		v := f.Value.String()
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			args = append(args, "--"+f.Name+"="+v)
			return
		}
		args = append(args, "--"+f.Name, v)
	})
	if resume != "" {
		args = append(args, "--resume", resume)
	}
	args = append(args, "--report", prefix)
	if strings.HasPrefix(j.o.input, "-") && j.o.input != "-" {
		args = append(args, "--")
	}
	return append(args, j.o.input)
}

// shellJoin quotes args for a POSIX shell.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = batch.ShellQuote(a)
	}
	return strings.Join(q, " ")
}

// nextPrefix is the report prefix for the run that resumes prefix:
// abort-0412 is followed by abort-0412-2, and abort-0412-2 (a run that
// resumed abort-0412.csv) by abort-0412-3; a prefix whose .csv, .json or
// .journal exists is skipped.
func nextPrefix(prefix, resumed string) string {
	base, n := prefix, 2
	if resumed != "" {
		p := filepath.Clean(strings.TrimSuffix(resumed, ".csv"))
		if rest, ok := strings.CutPrefix(filepath.Clean(prefix), p+"-"); ok {
			if k, err := strconv.Atoi(rest); err == nil && k >= 2 && strconv.Itoa(k) == rest {
				base, n = strings.TrimSuffix(prefix, "-"+rest), k+1
			}
		}
	}
	for ; ; n++ {
		c := base + "-" + strconv.Itoa(n)
		if existingReport(c) == "" {
			return c
		}
	}
}

// existingReport returns the first of the files a run with prefix would
// write (report, JSON report, dispatch journal) that exists already; ""
// when none does.
func existingReport(prefix string) string {
	for _, p := range []string{prefix + ".csv", prefix + ".json", report.JournalPath(prefix + ".csv")} {
		if _, err := os.Lstat(p); err == nil {
			return p
		}
	}
	return ""
}

// paceSummary says how the pace went, for people: where it ended, what
// held it, and what the API allowed, which a later --rate can start at.
// For a shard of shards (more than one) that is its share of the key's
// limit, so it names the way to the whole instead, unless the shards read
// one another's pace and shared the limit evenly.
func paceSummary(r *batch.RateReport, shards int) string {
	if r == nil {
		return ""
	}
	rate := func(v float64) string {
		if v == 0 {
			return "no ceiling"
		}
		return trimRate(v) + "/s"
	}
	held := heldLabel(r.HeldBy, r.Final == 0)
	if held == "rising" {
		held = "nothing, still rising"
	}
	line := fmt.Sprintf("Pace: %s at the end (started %s, highest %s), held by: %s.", rate(r.Final), rate(r.Start), rate(r.Highest), held)
	switch {
	case r.Allowed > 0 && shards > 1 && r.Peers > 0:
		others := fmt.Sprintf("%d other shards", r.Peers)
		if r.Peers == 1 {
			others = "another shard"
		}
		line += fmt.Sprintf(" The API allowed this shard about %s, its share of the key's limit: it read the pace of %s beside the reports, and they shared the limit by their rows left.", rate(r.Allowed), others)
	case r.Allowed > 0 && shards > 1:
		line += fmt.Sprintf(" The API allowed this shard about %s, its share of the key's limit; it read no other shard's pace, so the %d shards shared it unequally. Shards whose reports are in one directory read one another's pace and share the limit evenly; where they cannot, a run without --shard names the whole limit, and --rate of that over %d on every shard uses it best.", rate(r.Allowed), shards, shards)
	case r.Allowed > 0:
		line += fmt.Sprintf(" The API allowed about %s; --rate %s starts there next time (and never goes above it).", rate(r.Allowed), trimRate(r.Allowed))
	}
	if r.Noise > 0 {
		line += fmt.Sprintf(" About %s%% of answers were refusals that came whatever the pace (a 503, or a 429 naming no Retry-After): a fault of the API, not its limit, so they did not hold the pace down.", trimRate(r.Noise*100))
	}
	if r.HeldBy == batch.HeldByConcurrency {
		line += " Every request slot was busy: --concurrency, not the rate, set the pace."
	}
	return line
}

// paceEstimate says how long n requests may take. The API's limit cannot
// be known before a run, so it names the rates it assumes.
func paceEstimate(n int, r rateFlag, maxRate float64) string {
	at := func(rate float64) string { return fmt.Sprintf("about %s at %g/s", estimate(n, rate), rate) }
	switch {
	case r.auto && maxRate > 0 && maxRate <= batch.AutoStartRate:
		return fmt.Sprintf("Time: %s (--max-rate), or longer if the API pushes back.", at(maxRate))
	case r.auto:
		high := 100.0
		if maxRate > 0 {
			high = maxRate
		}
		return fmt.Sprintf("Time: the API's rate limit cannot be known before a run; --rate auto starts at %d/s and rises to what the API allows: %s, %s.",
			batch.AutoStartRate, at(batch.AutoStartRate), at(high))
	case r.n > 0:
		return fmt.Sprintf("Time: %s (the --rate ceiling), or longer if the API pushes back.", at(r.n))
	}
	return "Time: no --rate ceiling: as fast as --concurrency and the API allow (the API's limit cannot be known before a run)."
}

// estimate is how long n requests take at rate per second ("" when rate
// is 0, unlimited).
func estimate(n int, rate float64) string {
	if rate <= 0 || n == 0 {
		return ""
	}
	return round(time.Duration(float64(n) / rate * float64(time.Second))).String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
