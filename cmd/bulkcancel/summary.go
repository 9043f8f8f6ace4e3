package main

import (
	"fmt"

	"net/url"
	"strings"
	"time"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/report"
)

// printSummary writes the short human summary to stdout.
func (j *job) printSummary(s report.Summary, code int, aborted *string, keyRejected, jsonOK bool) {
	w := j.e.stdout
	c := j.plan.Counts
	if j.o.dryRun {
		fmt.Fprintf(w, "Dry run: nothing was sent.\n")
		fmt.Fprintf(w, "Would send %d of %d rows to %s.\n", c.Send, c.Rows, host(j.o.baseURL))
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
			if o == batch.NotCancelable && s.Ambiguous > 0 {
				extra = fmt.Sprintf("  (%d ambiguous: an earlier attempt may have canceled them)", s.Ambiguous)
			}
			fmt.Fprintf(w, "  %-20s %8d%s\n", o, n, extra)
		}
		fmt.Fprintf(w, "Requests: %d (%d retries), %.1f/s.", s.Attempts, s.Retries, s.AchievedRPS)
		if s.Carried > 0 {
			fmt.Fprintf(w, " Carried from %s without sending: %d.", j.o.resume, s.Carried)
		}
		fmt.Fprintln(w)
	}
	if jsonOK {
		fmt.Fprintf(w, "Report: %s.csv and %s.json\n", j.prefix, j.prefix)
	} else {
		fmt.Fprintf(w, "Report: %s.csv (the JSON report could not be written)\n", j.prefix)
	}
	switch {
	case j.wrongWorkspace:
		j.printWrongWorkspace(s, *aborted)
		return
	case aborted != nil:
		fmt.Fprintf(w, "Stopped early: %s.\n", *aborted)
	case s.Sent > 0 && j.sentNotFound*2 > s.Sent:
		fmt.Fprintf(w, "Warning: %d of the %d IDs sent were not found. If these calls should exist, check that the key belongs to their workspace and that %s holds the call IDs.\n",
			j.sentNotFound, s.Sent, j.columnRead())
	}
	if code != exitOK && !j.o.dryRun && s.NotFinal > 0 {
		if keyRejected {
			fmt.Fprintln(w, "Fix the key, then finish the job with:")
		} else {
			fmt.Fprintln(w, "To finish the job (final rows are not sent again), run:")
		}
		fmt.Fprintf(w, "  %s\n", j.resumeCommand())
		if j.o.input == "-" {
			fmt.Fprintln(w, "  (with the same input on standard input)")
		}
	}
}

// printWrongWorkspace ends the summary of a run the wrong-workspace guard
// stopped: the likely causes, how to check them, and how to go on. A
// --resume would carry the not_found rows as final, which is right only
// when the calls are really gone.
func (j *job) printWrongWorkspace(s report.Summary, why string) {
	w := j.e.stdout
	fmt.Fprintf(w, "Stopped: %s.\n", why)
	fmt.Fprintf(w, "To check: look one of these IDs up in the SubVerse dashboard of the workspace this key belongs to, and check that %s holds the call IDs (--column).\n", j.columnRead())
	fmt.Fprintln(w, "Once the key or the column is right, run the job again with a new --report, not --resume: --resume would carry these not_found rows as final.")
	if s.NotFinal > 0 {
		fmt.Fprintln(w, "If these calls may really all be gone, finish the job with:")
		fmt.Fprintf(w, "  %s\n", strings.Replace(j.resumeCommand(), " --resume ", " --expect-not-found --resume ", 1))
		if j.o.input == "-" {
			fmt.Fprintln(w, "  (with the same input on standard input)")
		}
	}
}

// columnRead names the column the IDs were read from.
func (j *job) columnRead() string {
	if j.in == nil || j.in.Column == "" {
		return "the first column"
	}
	return fmt.Sprintf("the column %q", j.in.Column)
}

// resumeCommand is the command line that finishes this job: the same
// arguments, with --resume pointing at this report and no --report.
func (j *job) resumeCommand() string {
	out := []string{"bulkcancel"}
	args := j.o.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		if a == name || a == "-" || a == "--" {
			out = append(out, shellQuote(a))
			continue
		}
		base, _, hasValue := strings.Cut(name, "=")
		if base == "resume" || base == "report" || base == "yes" {
			if !hasValue && base != "yes" {
				i++ // skip the value
			}
			continue
		}
		out = append(out, shellQuote(a))
	}
	// put --resume before INPUT, which is last unless flags followed it
	res := []string{"--resume", shellQuote(j.prefix + ".csv")}
	for i := len(out) - 1; i > 0; i-- {
		if out[i] == shellQuote(j.o.input) {
			out = append(out[:i], append(res, out[i:]...)...)
			return strings.Join(out, " ")
		}
	}
	return strings.Join(append(out, res...), " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func host(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return base
	}
	return u.Host
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
