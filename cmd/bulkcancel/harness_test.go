package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// harnessKey is the key runCmd and the processes send; a fake accepts it
// unless its options say another.
const harnessKey = fake.DefaultAPIKey

// cmdResult is what one in-process run of the command left behind.
type cmdResult struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command in-process with env vars vars (SUBVERSE_API_KEY
// defaults to harnessKey) and stdin.
func runCmd(t *testing.T, vars map[string]string, stdin string, args ...string) cmdResult {
	t.Helper()
	return runWith(harnessGetenv(vars), strings.NewReader(stdin), false, args...)
}

// runOnTTY runs the command in-process as if stderr were a terminal (no
// confirmation is asked: there is no terminal to open), with env vars.
func runOnTTY(t *testing.T, vars map[string]string, args ...string) cmdResult {
	t.Helper()
	return runWith(harnessGetenv(vars), strings.NewReader(""), true, args...)
}

// harnessGetenv looks names up in vars; SUBVERSE_API_KEY defaults to
// harnessKey.
func harnessGetenv(vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok || k != "SUBVERSE_API_KEY" {
			return v
		}
		return harnessKey
	}
}

// runWith runs the command in-process with getenv and stdin, stderr a
// terminal or not, capturing stdout and stderr.
func runWith(getenv func(string) string, stdin io.Reader, tty bool, args ...string) cmdResult {
	var out, errw faketest.Buffer
	e := &env{stdin: stdin, stdout: &out, stderr: &errw, getenv: getenv,
		signals: make(chan os.Signal), now: time.Now, stderrTTY: tty}
	code := run(args, e)
	return cmdResult{code, out.String(), errw.String()}
}

// checkSays fails the test for each of wants that text (what) does not
// hold.
func checkSays(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, text)
		}
	}
}

// checkJSONLines fails the test for each line of stderr that is not JSON;
// an empty stderr is one such line.
func checkJSONLines(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("stderr line is not JSON: %s", line)
		}
	}
}

// idsInput writes ids as a one-column CSV with a call_id header in a new
// directory, and returns the directory and the file.
func idsInput(t *testing.T, ids []string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	return dir, faketest.WriteFile(t, dir, "in.csv", "call_id\n"+strings.Join(ids, "\n")+"\n")
}

// seededInput serves a fake built from opts with n seeded calls and
// writes their IDs as an input in a new directory. It returns the server,
// its base URL, the IDs, the input and the report prefix r beside it.
func seededInput(t *testing.T, opts fake.Options, n int) (*fake.Server, string, []string, string, string) {
	t.Helper()
	srv, base := faketest.StartFake(t, opts)
	ids := srv.Seed(n)
	dir, in := idsInput(t, ids)
	return srv, base, ids, in, filepath.Join(dir, "r")
}

// queuedIDs is the set of ids whose calls the fake holds queued.
func queuedIDs(srv *fake.Server, ids []string) map[string]bool {
	queued := map[string]bool{}
	for _, id := range ids {
		if c, _ := srv.Call(id); c.Status == fake.StatusQueued {
			queued[id] = true
		}
	}
	return queued
}

// readReport reads PREFIX.csv as maps keyed by column, in file order.
func readReport(t *testing.T, prefix string) []map[string]string {
	t.Helper()
	data, err := os.ReadFile(prefix + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	return csvRows(t, prefix+".csv", data)
}

// csvRows reads the CSV report data (of file name) as maps keyed by
// column, in file order.
func csvRows(t *testing.T, name string, data []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, col := range recs[0] {
			m[col] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// jsonReport is the part of PREFIX.json the tests look at.
type jsonReport struct {
	RunID string `json:"run_id"`
	Input struct {
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
		Rows   int    `json:"rows"`
	} `json:"input"`
	Config  map[string]any `json:"config"`
	Summary struct {
		Total     int            `json:"total"`
		ByOutcome map[string]int `json:"by_outcome"`
		Attempts  int            `json:"attempts"`
		Retries   int            `json:"retries"`
		Carried   int            `json:"carried"`
		Rate      map[string]any `json:"rate"`
	} `json:"summary"`
	Aborted  *string          `json:"aborted"`
	ExitCode int              `json:"exit_code"`
	Results  []map[string]any `json:"results"`
	Finish   []string         `json:"finish_command"`
}

func readJSONReport(t *testing.T, prefix string) jsonReport {
	t.Helper()
	b, err := os.ReadFile(prefix + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var r jsonReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s.json: %v", prefix, err)
	}
	return r
}
