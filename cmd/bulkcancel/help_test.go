package main

import (
	"runtime"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/batch"
)

// ttySpecFlags is the documented set of flags: every flag with its default
// as --help must show it ("" for none; bool flags default to false and show
// none). A flag added, removed or given another default changes it here.
var ttySpecFlags = []struct{ name, def string }{
	{"base-url", "https://api.subverseai.com/api"},
	{"api-key-file", ""},
	{"column", "auto"},
	{"delimiter", "auto"},
	{"no-header", ""},
	{"concurrency", "8"},
	{"rate", "auto"},
	{"burst", "1"},
	{"max-attempts", "5"},
	{"timeout", "30s"},
	{"max-backoff", "1m0s"},
	{"report", "bulkcancel-<UTC yyyymmddThhmmssZ>"},
	{"resume", ""},
	{"dry-run", ""},
	{"yes", ""},
	{"max-failure-rate", "0.5"},
	{"min-sample", "100"},
	{"expect-not-found", ""},
	{"shard", ""},
	{"log-format", "auto"},
	{"log-level", "info"},
	{"progress", "auto"},
	{"quiet", ""},
	{"version", ""},
	{"help", ""},
}

func TestTTYHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--help", "-help", "-h"} {
		e, stdout, stderr := ttyEnv("", "")
		e.getenv = func(string) string { return "" }
		if code := run([]string{arg}, e); code != exitOK {
			t.Errorf("%s: exit %d", arg, code)
		}
		if stderr.String() != "" {
			t.Errorf("%s: stderr %q", arg, stderr)
		}
		help := stdout.String()
		lines := strings.Split(help, "\n")
		for _, f := range ttySpecFlags {
			var found []string
			for _, l := range lines {
				if strings.HasPrefix(strings.TrimSpace(l), "--"+f.name+" ") || strings.TrimSpace(l) == "--"+f.name {
					found = append(found, l)
				}
			}
			if len(found) != 1 {
				t.Errorf("%s: --%s is listed %d times", arg, f.name, len(found))
				continue
			}
			l := found[0]
			if f.def != "" && !strings.Contains(l, "(default "+f.def+")") {
				t.Errorf("%s: --%s does not show its default %q: %q", arg, f.name, f.def, l)
			}
			if strings.Count(l, "default") > 1 {
				t.Errorf("%s: --%s shows two defaults: %q", arg, f.name, l)
			}
		}
		checkSays(t, arg, help, "Input:", "API:", "Pace and retries:", "Safety:", "Output:", "Examples:",
			"Abort a campaign", "From cron", "--resume", "Check first", "bulkcancel --dry-run calls.csv", "Outcomes",
			// the finish command as nextPrefix names it, and every exit 3
			"--resume abort-0412.csv --report "+nextPrefix("abort-0412", ""), "nothing reaches the API")
		examples := help[strings.Index(help, "Examples:"):]
		if n := strings.Count(examples, "\n  # "); n != 4 {
			t.Errorf("%s: %d examples, want 4", arg, n)
		}
		// Every outcome on one line of its own, saying whether it is final.
		for _, o := range batch.Outcomes {
			var found []string
			for _, l := range lines {
				if f := strings.Fields(l); len(f) > 1 && f[0] == string(o) {
					found = append(found, l)
				}
			}
			if len(found) != 1 || !strings.Contains(found[0], "final") {
				t.Errorf("%s: outcome %s is on %d lines: %q", arg, o, len(found), found)
			}
		}
	}
}

func TestTTYVersion(t *testing.T) {
	t.Parallel()
	e, stdout, _ := ttyEnv("", "")
	if code := run([]string{"--version"}, e); code != exitOK {
		t.Errorf("exit %d", code)
	}
	want := versionLine() + "\n"
	if got := stdout.String(); got != want || !strings.HasPrefix(got, "bulkcancel ") || !strings.Contains(got, runtime.Version()) ||
		strings.Contains(got, "commit unknown") || strings.Contains(got, "commit ,") {
		t.Errorf("--version: %q, want %q", got, want)
	}
}
