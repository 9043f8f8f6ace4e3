package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/internal/testutil"
)

// TestRunRefuses: every refusal is exit 2, names what is wrong, sends
// nothing and creates no report file.
func TestRunRefuses(t *testing.T) {
	t.Parallel()
	srv, base := testutil.StartFake(t, fake.Options{})
	srv.Add("q1", fake.StatusQueued)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", "call_id\nq1\n")
	bareQuote := writeFile(t, dir, "bare.csv", "call_id\nq1\nq\"2\nq3\n")
	noColumn := writeFile(t, dir, "nocol.csv", "name,phone\nq1,1\n")
	writeFile(t, dir, "taken.json", "{}")
	noKey := map[string]string{"SUBVERSE_API_KEY": ""}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		want string // in stderr
	}{
		{"no input", nil, []string{"--base-url", base}, "missing INPUT"},
		{"two inputs", nil, []string{"--base-url", base, good, good}, "expected one INPUT"},
		{"unknown flag", nil, []string{"--base-url", base, "--bogus", good}, "unknown flag -bogus"},
		{"bad number", nil, []string{"--base-url", base, "--concurrency", "many", good}, "concurrency"},
		{"zero concurrency", nil, []string{"--base-url", base, "--concurrency", "0", good}, "concurrency must be at least 1"},
		{"negative rate", nil, []string{"--base-url", base, "--rate", "-1", good}, "want auto, or a number"},
		{"bad shard", nil, []string{"--base-url", base, "--shard", "4/4", good}, "0 <= K < N"},
		{"bad log level", nil, []string{"--base-url", base, "--log-level", "loud", good}, "--log-level"},
		{"failure rate over 1", nil, []string{"--base-url", base, "--max-failure-rate", "2", good}, "max-failure-rate"},
		{"missing key", noKey, []string{"--base-url", base, good}, "no API key"},
		{"key file missing", noKey, []string{"--base-url", base, "--api-key-file", filepath.Join(dir, "nokey"), good}, "cannot read"},
		{"key with a space", map[string]string{"SUBVERSE_API_KEY": "ab cd"}, []string{"--base-url", base, good}, "white space"},
		{"missing file", nil, []string{"--base-url", base, filepath.Join(dir, "nope.csv")}, "nope.csv: cannot open"},
		{"directory", nil, []string{"--base-url", base, dir}, "is a directory"},
		{"missing column", nil, []string{"--base-url", base, noColumn}, "nocol.csv:1: no ID column"},
		{"named column missing", nil, []string{"--base-url", base, "--column", "uuid", good}, `no column \"uuid\" in the header`},
		{"malformed CSV", nil, []string{"--base-url", base, bareQuote}, "bare.csv:3: a quote"},
		{"http to a remote host", nil, []string{"--base-url", "http://203.0.113.10/api", good}, "not loopback"},
		{"query in base URL", nil, []string{"--base-url", base + "?x=1", good}, "query"},
		{"report exists", nil, []string{"--base-url", base, "--report", filepath.Join(dir, "taken"), good}, "taken.json already exists"},
		{"report directory missing", nil, []string{"--base-url", base, "--report", filepath.Join(dir, "nodir", "r"), good}, "nodir does not exist"},
		{"resume missing", nil, []string{"--base-url", base, "--resume", filepath.Join(dir, "old.csv"), good}, "old.csv: cannot open"},
		{"resume not a report", nil, []string{"--base-url", base, "--resume", noColumn, good}, "not a bulkcancel report"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "r")
			args := append([]string{"--report", prefix, "--log-format", "json"}, tc.args...)
			if tc.name == "report exists" {
				args = tc.args
			}
			res := runCmd(t, tc.vars, "", args...)
			if res.code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, res.stderr)
			}
			for _, line := range strings.Split(strings.TrimSpace(res.stderr), "\n") {
				if !json.Valid([]byte(line)) {
					t.Errorf("stderr line is not JSON: %s", line)
				}
			}
			if res.stdout != "" {
				t.Errorf("stdout: %q", res.stdout)
			}
			for _, ext := range []string{".csv", ".json"} {
				if _, err := os.Stat(prefix + ext); err == nil {
					t.Errorf("a refused run created %s", prefix+ext)
				}
			}
		})
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("refused runs sent %d requests", n)
	}
}

func TestRunFlagsAfterInput(t *testing.T) {
	t.Parallel()
	srv, base := testutil.StartFake(t, fake.Options{})
	srv.Add("q1", fake.StatusQueued)
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", "q1\n")
	prefix := filepath.Join(dir, "r")
	res := runCmd(t, nil, "", in, "--base-url", base, "-no-header", "--report="+prefix, "--rate", "0")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if rows := readReport(t, prefix); len(rows) != 1 || rows[0]["outcome"] != "canceled" {
		t.Errorf("rows %v", rows)
	}
}

func TestRunStdin(t *testing.T) {
	t.Parallel()
	srv, base := testutil.StartFake(t, fake.Options{})
	srv.Add("q1", fake.StatusQueued)
	srv.Add("p1", fake.StatusPlaced)
	prefix := filepath.Join(t.TempDir(), "r")
	res := runCmd(t, nil, "callId\nq1\np1\n", "--base-url", base, "--report", prefix, "--rate", "0", "-")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	rep := readJSONReport(t, prefix)
	if rep.Input.Path != "-" || rep.Input.Rows != 2 || rep.Summary.ByOutcome["canceled"] != 1 || rep.Summary.ByOutcome["not_cancelable"] != 1 {
		t.Errorf("report %+v", rep)
	}
}
