package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// TestRunRefuses: every refusal is exit 2, names what is wrong (the cause
// and the fix, for the common mistakes), sends nothing, creates no report
// file and never repeats a value that could be the key.
func TestRunRefuses(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	srv.Add("q1", fake.StatusQueued)
	dir := t.TempDir()
	good := faketest.WriteFile(t, dir, "good.csv", "call_id,status\nq1,call_in_queue\n")
	bareQuote := faketest.WriteFile(t, dir, "bare.csv", "call_id\nq1\nq\"2\nq3\n")
	noColumn := faketest.WriteFile(t, dir, "nocol.csv", "name,phone\nq1,1\n")
	faketest.WriteFile(t, dir, "taken.json", "{}")
	jsonReport := faketest.WriteFile(t, dir, "abort-0412.json", `{"run_id":"x"}`)
	jsonAsTxt := faketest.WriteFile(t, dir, "abort-0412.txt", "\n  {\"run_id\":\"x\"}")
	export, _ := exportInput(t, srv, ";", 25)
	both := faketest.WriteFile(t, dir, "both.csv", "a;b\tc\n1;2\t3\n")
	noKey := map[string]string{"SUBVERSE_API_KEY": ""}
	const secret = "sk-live-0123456789abcdef"
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		args    []string
		want    []string // in stderr
		never   []string // in stdout or stderr
		console bool     // --log-format console, else json
	}{
		{"no input", nil, []string{"--base-url", base}, []string{"missing INPUT"}, nil, false},
		{"two inputs", nil, []string{"--base-url", base, good, good}, []string{"expected one INPUT"}, nil, false},
		{"unknown flag", nil, []string{"--base-url", base, "--bogus", good}, []string{"unknown flag -bogus"}, nil, false},
		{"bad number", nil, []string{"--base-url", base, "--concurrency", "many", good}, []string{"concurrency"}, nil, false},
		{"zero concurrency", nil, []string{"--base-url", base, "--concurrency", "0", good}, []string{"concurrency must be at least 1"}, nil, false},
		{"negative rate", nil, []string{"--base-url", base, "--rate", "-1", good}, []string{"want auto, or a number"}, nil, false},
		{"bad shard", nil, []string{"--base-url", base, "--shard", "4/4", good}, []string{"0 <= K < N"}, nil, false},
		{"bad log level", nil, []string{"--base-url", base, "--log-level", "loud", good}, []string{"--log-level"}, nil, false},
		{"failure rate over 1", nil, []string{"--base-url", base, "--max-failure-rate", "2", good}, []string{"max-failure-rate"}, nil, false},
		{"missing key", noKey, []string{"--base-url", base, good}, []string{"no API key"}, nil, false},
		{"key file missing", noKey, []string{"--base-url", base, "--api-key-file", filepath.Join(dir, "nokey"), good}, []string{"cannot read"}, nil, false},
		{"key with a space", map[string]string{"SUBVERSE_API_KEY": "ab cd"}, []string{"--base-url", base, good}, []string{"white space"}, nil, false},
		{"key only white space", map[string]string{"SUBVERSE_API_KEY": " \t "}, []string{"--base-url", base, good}, []string{"only white space"}, nil, false},
		{"missing file", nil, []string{"--base-url", base, filepath.Join(dir, "nope.csv")}, []string{"nope.csv: cannot open"}, nil, false},
		{"directory", nil, []string{"--base-url", base, dir}, []string{"is a directory"}, nil, false},
		{"missing column", nil, []string{"--base-url", base, noColumn}, []string{"nocol.csv:1: no ID column"}, nil, false},
		{"named column missing", nil, []string{"--base-url", base, "--column", "uuid", good}, []string{`no column \"uuid\" in the header`}, nil, false},
		{"malformed CSV", nil, []string{"--base-url", base, bareQuote}, []string{"bare.csv:3: a quote"}, nil, false},
		{"http to a remote host", nil, []string{"--base-url", "http://203.0.113.10/api", good}, []string{"not loopback"}, nil, false},
		{"query in base URL", nil, []string{"--base-url", base + "?x=1", good}, []string{"query"}, nil, false},
		{"report exists", nil, []string{"--base-url", base, "--report", filepath.Join(dir, "taken"), good}, []string{"taken.json already exists"}, nil, false},
		{"report directory missing", nil, []string{"--base-url", base, "--report", filepath.Join(dir, "nodir", "r"), good}, []string{"nodir does not exist"}, nil, false},
		{"resume missing", nil, []string{"--base-url", base, "--resume", filepath.Join(dir, "old.csv"), good}, []string{"old.csv: cannot open"}, nil, false},
		{"resume not a report", nil, []string{"--base-url", base, "--resume", noColumn, good}, []string{"not a bulkcancel report"}, nil, false},
		{"base URL without a scheme", nil, []string{"--base-url", "127.0.0.1:8080/api", good},
			[]string{"--base-url: bad base URL: it has no scheme", "did you mean http://127.0.0.1:8080/api?"}, nil, true},
		{"remote base URL without a scheme", nil, []string{"--base-url", "api.subverseai.com/api", good},
			[]string{"did you mean https://api.subverseai.com/api?"}, nil, true},
		{"base URL without a scheme from the environment", map[string]string{"SUBVERSE_BASE_URL": "localhost:8080/api"}, []string{good},
			[]string{"SUBVERSE_BASE_URL: bad base URL: it has no scheme", "did you mean http://localhost:8080/api?"}, nil, true},
		{"JSON report to --resume", nil, []string{"--base-url", base, "--resume", jsonReport, good},
			[]string{"abort-0412.json: this is a JSON report", "pass --resume " + filepath.Join(dir, "abort-0412.csv")}, []string{"bare"}, true},
		{"missing JSON report to --resume", nil, []string{"--base-url", base, "--resume", filepath.Join(dir, "gone.json"), good},
			[]string{"gone.json: cannot open the report to resume from"}, []string{"this is a JSON report"}, true},
		{"JSON report under another name to --resume", nil, []string{"--base-url", base, "--resume", jsonAsTxt, good},
			[]string{"abort-0412.txt: this is a JSON report", "PREFIX.csv"}, []string{"bare"}, true},
		{"--api-key", nil, []string{"--base-url", base, "--api-key", secret, good},
			[]string{"there is no --api-key flag", "SUBVERSE_API_KEY", "--api-key-file", "shell history"}, []string{secret}, true},
		{"--api-key=", nil, []string{"--base-url", base, "--api-key=" + secret, good},
			[]string{"there is no --api-key flag", "shell history"}, []string{secret}, true},
		{"--key after INPUT", nil, []string{"--base-url", base, good, "--key", secret},
			[]string{"there is no --key flag", "shell history"}, []string{secret}, true},
		{"--apikey", nil, []string{"--base-url", base, "-apikey=" + secret, good},
			[]string{"there is no --apikey flag"}, []string{secret}, true},
		{"--api_key", nil, []string{"--base-url", base, "--api_key", secret, good},
			[]string{"there is no --api_key flag"}, []string{secret}, true},
		{"the key run on from the flag", nil, []string{"--base-url", base, "--api-key" + secret, good},
			[]string{"there is no --api-key flag"}, []string{secret}, true},
		{"the key run on from --x-api-key", nil, []string{"--base-url", base, "--x-api-key" + secret, good},
			[]string{"there is no --x-api-key flag"}, []string{secret}, true},
		{"the key run on from --key", nil, []string{"--base-url", base, "--key" + secret, good},
			[]string{"there is no --key flag"}, []string{secret}, true},
		{"--token", nil, []string{"--base-url", base, "--token", secret, good},
			[]string{"there is no --token flag"}, []string{secret}, true},
		{"--dryrun", nil, []string{"--base-url", base, "--dryrun", good},
			[]string{"unknown flag -dryrun (did you mean --dry-run?)"}, nil, true},
		{"--colum with a value", nil, []string{"--base-url", base, "--colum=" + secret, good},
			[]string{"unknown flag -colum (did you mean --column?)"}, []string{secret}, true},
		{"--api-key-fil", nil, []string{"--base-url", base, "--api-key-fil", "k", good},
			[]string{"did you mean --api-key-file?"}, []string{"no --api-key"}, true},
		{"--yess", nil, []string{"--base-url", base, "--yess", good},
			[]string{"did you mean --yes?"}, nil, true},
		{"far from any flag", nil, []string{"--base-url", base, "--verbose", good},
			[]string{"unknown flag -verbose"}, []string{"did you mean"}, true},
		{"--column one edit off", nil, []string{"--base-url", base, "--column", "callid", good},
			[]string{`no column "callid"`, "did you mean --column call_id?"}, nil, true},
		{"--column two edits off", nil, []string{"--base-url", base, "--column", "stauts", good},
			[]string{"did you mean --column status?"}, nil, true},
		// The ways a semicolon export used to be misread.
		{"--no-header on the export", nil, []string{"--base-url", base, "--no-header", export},
			[]string{"export.csv:1:", `starts with "call_id", a column name`, "drop --no-header"}, nil, true},
		{"--no-header and a comma delimiter", nil, []string{"--base-url", base, "--no-header", "--delimiter", ",", export},
			[]string{"export.csv:1:", "holds a ';'", "--delimiter ';'"}, nil, true},
		{"comma delimiter on the export", nil, []string{"--base-url", base, "--delimiter", ",", export},
			[]string{"export.csv:1: no ID column", "looks separated by ';'", "--delimiter ';'"}, nil, true},
		{"both separators", nil, []string{"--base-url", base, both}, []string{"both.csv:1:", "--delimiter ';' or --delimiter tab"}, nil, true},
		{"bad delimiter", nil, []string{"--base-url", base, "--delimiter", "ab", export}, []string{`--delimiter "ab"`, "tab"}, nil, true},
		{"quote as delimiter", nil, []string{"--base-url", base, "--delimiter", `"`, export}, []string{"double quote"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := filepath.Join(t.TempDir(), "r")
			format := map[bool]string{false: "json", true: "console"}[tc.console]
			args := append([]string{"--report", prefix, "--log-format", format}, tc.args...)
			if tc.name == "report exists" {
				args = tc.args
			}
			res := runCmd(t, tc.vars, "", args...)
			if res.code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", res.code, res.stderr)
			}
			checkSays(t, "stderr", res.stderr, tc.want...)
			for _, n := range tc.never {
				if strings.Contains(res.stderr+res.stdout, n) {
					t.Errorf("the output holds %q:\n%s%s", n, res.stdout, res.stderr)
				}
			}
			if !tc.console {
				checkJSONLines(t, res.stderr)
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
	t.Cleanup(func() {
		if n := srv.Stats().Requests; n != 0 {
			t.Errorf("refused runs sent %d requests", n)
		}
	})
}

func TestRunFlagsAfterInput(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	srv.Add("q1", fake.StatusQueued)
	dir := t.TempDir()
	in := faketest.WriteFile(t, dir, "in.csv", "q1\n")
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
	srv, base := faketest.StartFake(t, fake.Options{})
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

// TestRunHelpWord: "bulkcancel help" prints the help.
func TestRunHelpWord(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"help", "calls.csv"}, {"--rate", "5", "help"}} {
		res := runCmd(t, nil, "", args...)
		if res.code != 0 || !strings.HasPrefix(res.stdout, "bulkcancel cancels queued outbound calls") || res.stderr != "" {
			t.Errorf("%q: exit %d, stdout %.60q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
	}
}

// TestRunFileNamedHelp: in a directory holding a file named help, the
// word help still asks for the help, and ./help reads the file. Not
// parallel: it changes the working directory.
func TestRunFileNamedHelp(t *testing.T) {
	_, base := faketest.StartFake(t, fake.Options{})
	dir := t.TempDir()
	t.Chdir(dir)
	faketest.WriteFile(t, dir, "help", "call_id\nq1\n")
	if res := runCmd(t, nil, "", "--base-url", base, "--dry-run", "help"); res.code != 0 || !strings.HasPrefix(res.stdout, "bulkcancel cancels queued outbound calls") {
		t.Errorf("help beside a file named help: exit %d\n%.60q", res.code, res.stdout)
	}
	res := runCmd(t, nil, "", "--base-url", base, "--dry-run", "--report", "r", "./help")
	if res.code != 0 || !strings.Contains(res.stdout, "Would send 1 of 1 rows") {
		t.Errorf("./help: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
