package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/internal/testutil"
)

// TestRunMistakeMessages: each common mistake is exit 2 with nothing sent
// and a message that names the cause and the fix, never repeating a value
// that could be the key.
func TestRunMistakeMessages(t *testing.T) {
	t.Parallel()
	srv, base := testutil.StartFake(t, fake.Options{})
	srv.Add("q1", fake.StatusQueued)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", "call_id,status\nq1,call_in_queue\n")
	jsonReport := writeFile(t, dir, "abort-0412.json", `{"run_id":"x"}`)
	jsonAsTxt := writeFile(t, dir, "abort-0412.txt", "\n  {\"run_id\":\"x\"}")
	const secret = "sk-live-0123456789abcdef"
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		args  []string
		want  []string
		never []string
	}{
		{"base URL without a scheme", nil, []string{"--base-url", "127.0.0.1:8080/api", good},
			[]string{"--base-url: bad base URL: it has no scheme", "did you mean http://127.0.0.1:8080/api?"}, nil},
		{"remote base URL without a scheme", nil, []string{"--base-url", "api.subverseai.com/api", good},
			[]string{"did you mean https://api.subverseai.com/api?"}, nil},
		{"base URL without a scheme from the environment", map[string]string{"SUBVERSE_BASE_URL": "localhost:8080/api"}, []string{good},
			[]string{"SUBVERSE_BASE_URL: bad base URL: it has no scheme", "did you mean http://localhost:8080/api?"}, nil},
		{"JSON report to --resume", nil, []string{"--base-url", base, "--resume", jsonReport, good},
			[]string{"abort-0412.json: this is a JSON report", "pass --resume " + filepath.Join(dir, "abort-0412.csv")}, []string{"bare"}},
		{"missing JSON report to --resume", nil, []string{"--base-url", base, "--resume", filepath.Join(dir, "gone.json"), good},
			[]string{"gone.json: cannot open the report to resume from"}, []string{"this is a JSON report"}},
		{"JSON report under another name to --resume", nil, []string{"--base-url", base, "--resume", jsonAsTxt, good},
			[]string{"abort-0412.txt: this is a JSON report", "PREFIX.csv"}, []string{"bare"}},
		{"--api-key", nil, []string{"--base-url", base, "--api-key", secret, good},
			[]string{"there is no --api-key flag", "SUBVERSE_API_KEY", "--api-key-file", "shell history"}, []string{secret}},
		{"--api-key=", nil, []string{"--base-url", base, "--api-key=" + secret, good},
			[]string{"there is no --api-key flag", "shell history"}, []string{secret}},
		{"--key after INPUT", nil, []string{"--base-url", base, good, "--key", secret},
			[]string{"there is no --key flag", "shell history"}, []string{secret}},
		{"--apikey", nil, []string{"--base-url", base, "-apikey=" + secret, good},
			[]string{"there is no --apikey flag"}, []string{secret}},
		{"--api_key", nil, []string{"--base-url", base, "--api_key", secret, good},
			[]string{"there is no --api_key flag"}, []string{secret}},
		{"the key run on from the flag", nil, []string{"--base-url", base, "--api-key" + secret, good},
			[]string{"there is no --api-key flag"}, []string{secret}},
		{"the key run on from --x-api-key", nil, []string{"--base-url", base, "--x-api-key" + secret, good},
			[]string{"there is no --x-api-key flag"}, []string{secret}},
		{"the key run on from --key", nil, []string{"--base-url", base, "--key" + secret, good},
			[]string{"there is no --key flag"}, []string{secret}},
		{"--token", nil, []string{"--base-url", base, "--token", secret, good},
			[]string{"there is no --token flag"}, []string{secret}},
		{"--dryrun", nil, []string{"--base-url", base, "--dryrun", good},
			[]string{"unknown flag -dryrun (did you mean --dry-run?)"}, nil},
		{"--colum with a value", nil, []string{"--base-url", base, "--colum=" + secret, good},
			[]string{"unknown flag -colum (did you mean --column?)"}, []string{secret}},
		{"--api-key-fil", nil, []string{"--base-url", base, "--api-key-fil", "k", good},
			[]string{"did you mean --api-key-file?"}, []string{"no --api-key"}},
		{"--yess", nil, []string{"--base-url", base, "--yess", good},
			[]string{"did you mean --yes?"}, nil},
		{"far from any flag", nil, []string{"--base-url", base, "--verbose", good},
			[]string{"unknown flag -verbose"}, []string{"did you mean"}},
		{"--column one edit off", nil, []string{"--base-url", base, "--column", "callid", good},
			[]string{`no column "callid"`, "did you mean --column call_id?"}, nil},
		{"--column two edits off", nil, []string{"--base-url", base, "--column", "stauts", good},
			[]string{"did you mean --column status?"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prefix := filepath.Join(t.TempDir(), "r")
			args := append([]string{"--log-format", "console", "--report", prefix}, tc.args...)
			res := runCmd(t, tc.vars, "", args...)
			if res.code != 2 {
				t.Errorf("exit %d, want 2\n%s", res.code, res.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, res.stderr)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(res.stderr+res.stdout, n) {
					t.Errorf("the output holds %q:\n%s%s", n, res.stdout, res.stderr)
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
	_, base := testutil.StartFake(t, fake.Options{})
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "help", "call_id\nq1\n")
	if res := runCmd(t, nil, "", "--base-url", base, "--dry-run", "help"); res.code != 0 || !strings.HasPrefix(res.stdout, "bulkcancel cancels queued outbound calls") {
		t.Errorf("help beside a file named help: exit %d\n%.60q", res.code, res.stdout)
	}
	res := runCmd(t, nil, "", "--base-url", base, "--dry-run", "--report", "r", "./help")
	if res.code != 0 || !strings.Contains(res.stdout, "Would send 1 of 1 rows") {
		t.Errorf("./help: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
