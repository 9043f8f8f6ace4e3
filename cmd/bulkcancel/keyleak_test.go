package main

// The key must appear in no output of the command: not on stdout or stderr
// (debug logs included), not in PREFIX.csv or PREFIX.json, not in --help,
// whatever the run meets: retries, drops, a wrong key, a server that
// echoes the key back.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// leakKey is recognisable anywhere it might turn up.
const leakKey = "sk-LEAKCHECK-7f3a9c"

// leakRun runs the command in-process with the variables vars (nothing
// else is set) and stdin.
func leakRun(t *testing.T, vars map[string]string, stdin io.Reader, args ...string) cmdResult {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	return runWith(func(k string) string { return vars[k] }, stdin, false, args...)
}

// leakScan fails the test if the key is in any of outs or in any file
// under dir except the key files named in allowed.
func leakScan(t *testing.T, o cmdResult, dir string, allowed ...string) {
	t.Helper()
	if strings.Contains(o.stdout, leakKey) {
		t.Errorf("the key is on stdout:\n%s", o.stdout)
	}
	if strings.Contains(o.stderr, leakKey) {
		t.Errorf("the key is on stderr:\n%s", o.stderr)
	}
	if dir == "" {
		return
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, a := range allowed {
			if p == a {
				return nil
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if i := bytes.Index(b, []byte(leakKey)); i >= 0 {
			t.Errorf("the key is in %s at byte %d: …%s…", p, i, b[max(i-80, 0):i])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// leakInput writes an input CSV mixing valid, unknown, invalid and
// duplicate IDs and returns its path and its number of data rows.
func leakInput(t *testing.T, dir string, valid []string) (string, int) {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"name", "call_id"})
	rows := 0
	add := func(id string) {
		w.Write([]string{fmt.Sprintf("n%d", rows), id})
		rows++
	}
	for _, id := range valid {
		add(id)
	}
	for i := range 5 {
		add(fmt.Sprintf("665f0000000000000000%04d", i)) // unknown to the fake
	}
	for _, id := range []string{"  ", "..", strings.Repeat("z", 129), "a\x00b", "a\nb"} {
		add(id)
	}
	add(valid[0]) // duplicates
	add(" " + valid[1] + " ")
	w.Flush()
	return faketest.WriteFile(t, dir, "input.csv", b.String()), rows
}

// leakKeyFile writes the key (with a trailing newline, as editors do) to
// a file with mode perm.
func leakKeyFile(t *testing.T, dir string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, "key")
	if err := os.WriteFile(p, []byte(leakKey+"\n"), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	return p
}

// leakCheckReport checks that the run wrote both reports with one row per
// input row and that every stderr line is JSON.
func leakCheckReport(t *testing.T, o cmdResult, prefix string, rows int) {
	t.Helper()
	if got := len(readReport(t, prefix)); got != rows {
		t.Errorf("CSV report has %d rows, input has %d", got, rows)
	}
	readJSONReport(t, prefix) // fails the test unless it is JSON
	checkJSONLines(t, o.stderr)
}

// leakArgs are the flags every full run uses: debug JSON logs, no pacing,
// millisecond backoff.
func leakArgs(base, prefix string) []string {
	return []string{"--base-url", base, "--report", prefix, "--log-level", "debug", "--log-format", "json",
		"--rate", "0", "--concurrency", "4", "--max-attempts", "4", "--max-backoff", "2ms",
		"--timeout", "10s", "--progress", "off"}
}

func TestKeyleakFullRun(t *testing.T) {
	t.Parallel()
	faults := fake.Faults{Seed: 11, P500: 0.1, P503: 0.05, P429: 0.1, PBadGateway: 0.1,
		PDropBefore: 0.1, PDropAfter: 0.1, PMalformed: 0.05, PTruncated: 0.05, FirstN: 2}
	for _, tc := range []struct {
		name      string
		serverKey string // the key the fake accepts
		keyFile   os.FileMode
		wantCodes []int
		wantWarn  bool
	}{
		{name: "env key", serverKey: leakKey, wantCodes: []int{exitOK, exitNotFinal}},
		{name: "key file 0600", serverKey: leakKey, keyFile: 0o600, wantCodes: []int{exitOK, exitNotFinal}},
		{name: "key file 0644", serverKey: leakKey, keyFile: 0o644, wantCodes: []int{exitOK, exitNotFinal}, wantWarn: true},
		{name: "wrong key", serverKey: "the-right-key", wantCodes: []int{exitAborted}},
		{name: "wrong key from file", serverKey: "the-right-key", keyFile: 0o600, wantCodes: []int{exitAborted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv, base := faketest.StartFake(t, fake.Options{APIKey: tc.serverKey, Faults: faults})
			input, rows := leakInput(t, dir, srv.Seed(40))
			prefix := filepath.Join(dir, "report")
			args := leakArgs(base, prefix)
			vars := map[string]string{}
			var allowed []string
			if tc.keyFile != 0 {
				kf := leakKeyFile(t, dir, tc.keyFile)
				allowed = append(allowed, kf)
				args = append(args, "--api-key-file", kf)
			} else {
				vars["SUBVERSE_API_KEY"] = leakKey
			}
			o := leakRun(t, vars, nil, append(args, input)...)
			ok := false
			for _, c := range tc.wantCodes {
				ok = ok || o.code == c
			}
			if !ok {
				t.Fatalf("exit %d, want one of %v\nstdout:\n%s\nstderr:\n%s", o.code, tc.wantCodes, o.stdout, o.stderr)
			}
			leakCheckReport(t, o, prefix, rows)
			if !strings.Contains(o.stderr, `"message":"result"`) {
				t.Errorf("no debug result lines on stderr: the scan saw less than it should")
			}
			if st := srv.Stats(); st.Requests == 0 || (tc.serverKey == leakKey && st.Injected == 0) {
				t.Errorf("fake stats %+v: the run did not meet the faults it was meant to", st)
			}
			warned := strings.Contains(o.stderr, "chmod 600")
			if warned != tc.wantWarn {
				t.Errorf("permission warning on stderr = %v, want %v", warned, tc.wantWarn)
			}
			leakScan(t, o, dir, allowed...)
		})
	}
}

// TestKeyleakEchoingServer runs the whole command against a server that
// puts the request's key into its answers: in an envelope message, in an
// HTML error page (retried as a 502), in a redirect target, and finally in
// the message of a 401 that aborts the run.
func TestKeyleakEchoingServer(t *testing.T) {
	t.Parallel()
	var seen atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		key := r.Header.Get("x-api-key")
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		switch id {
		case "found":
			fmt.Fprintf(w, `{"responseCode":200,"message":"Call canceled successfully! (key %s)","data":{"removedJobs":1}}`, key)
		case "gone":
			fmt.Fprintf(w, `{"responseCode":400,"message":"User call not found. Key: %s","data":null}`, key)
		case "odd":
			fmt.Fprintf(w, `{"responseCode":400,"message":"Unheard of: %s","data":null}`, key)
		case "html":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<html><body>bad x-api-key %s</body></html>", key)
		case "gateway":
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body>upstream refused %s</body></html>", key)
		case "busy":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"responseCode":503,"message":"busy, key %s","data":null}`, key)
		case "moved":
			w.Header().Set("Location", "https://elsewhere.example/"+key+"/x?key="+key)
			w.WriteHeader(http.StatusMovedPermanently)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"responseCode":401,"message":"Invalid API key %s","data":null}`, key)
		}
	}))
	defer ts.Close()
	dir := t.TempDir()
	input := faketest.WriteFile(t, dir, "input.csv", "call_id\nfound\ngone\nodd\nhtml\ngateway\nbusy\nmoved\nlast\nnever\n")
	prefix := filepath.Join(dir, "report")
	// --concurrency 1: rows go in order, and "last" aborts the run.
	args := append(leakArgs(ts.URL, prefix), "--concurrency", "1")
	o := leakRun(t, map[string]string{"SUBVERSE_API_KEY": leakKey}, nil, append(args, input)...)
	if o.code != exitAborted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", o.code, exitAborted, o.stderr)
	}
	leakCheckReport(t, o, prefix, 9)
	if seen.Load() < 8 {
		t.Errorf("the server saw %d requests; the run stopped before meeting every echo", seen.Load())
	}
	leakScan(t, o, dir)
}

func TestKeyleakHelpAndRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	input := faketest.WriteFile(t, dir, "input.csv", "call_id\nabc\n")
	twoLines := faketest.WriteFile(t, dir, "two-lines", leakKey+"\nsecond line\n")
	spaced := faketest.WriteFile(t, dir, "spaced", leakKey+" trailing words\n")
	nonASCII := faketest.WriteFile(t, dir, "non-ascii", leakKey+"é\n")
	env := map[string]string{"SUBVERSE_API_KEY": leakKey}
	envSpaced := map[string]string{"SUBVERSE_API_KEY": leakKey + " x"}
	envCtl := map[string]string{"SUBVERSE_API_KEY": leakKey + "\x01"}
	report := filepath.Join(dir, "never")
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		code int
	}{
		{"help", env, []string{"--help"}, exitOK},
		{"-h", env, []string{"-h"}, exitOK},
		{"version", env, []string{"--version"}, exitOK},
		{"key as a flag", env, []string{"--api-key=" + leakKey, input}, exitUsage},
		{"key as a flag, spaced", env, []string{"--api-key", leakKey, "--report", report, input}, exitUsage},
		{"key file with two lines", nil, []string{"--api-key-file", twoLines, "--report", report, input}, exitUsage},
		{"key file with words", nil, []string{"--api-key-file", spaced, "--report", report, input}, exitUsage},
		{"key file not ASCII", nil, []string{"--api-key-file", nonASCII, "--report", report, input}, exitUsage},
		{"env key with words", envSpaced, []string{"--report", report, input}, exitUsage},
		{"env key with control", envCtl, []string{"--report", report, input}, exitUsage},
		{"plain http base", env, []string{"--base-url", "http://203.0.113.10/api", "--report", report, input}, exitUsage},
		{"bad flag value", env, []string{"--rate", "fast", "--report", report, input}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, format := range []string{"json", "console"} {
				args := append([]string{"--log-format", format}, tc.args...)
				o := leakRun(t, tc.vars, nil, args...)
				if o.code != tc.code {
					t.Errorf("--log-format %s: exit %d, want %d\nstderr:\n%s", format, o.code, tc.code, o.stderr)
				}
				if strings.HasPrefix(tc.name, "help") || tc.name == "-h" {
					if !strings.Contains(o.stdout, "SUBVERSE_API_KEY") {
						t.Errorf("--help does not mention SUBVERSE_API_KEY:\n%s", o.stdout)
					}
				}
				leakScan(t, o, "")
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		leakScan(t, cmdResult{}, dir, twoLines, spaced, nonASCII)
		for _, p := range []string{report + ".csv", report + ".json"} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("a refused run created %s", p)
			}
		}
	})
}

// leakStdin is a standard input that records being read.
type leakStdin struct{ read atomic.Bool }

func (s *leakStdin) Read(p []byte) (int, error) {
	s.read.Store(true)
	return copy(p, "call_id\nabc\n"), io.EOF
}

// TestKeyleakBaseURLRefusedBeforeInput: a base URL that is not https to a
// remote host (or carries userinfo, a query or a fragment) is exit 2
// before the input is even read, so before any connection.
func TestKeyleakBaseURLRefusedBeforeInput(t *testing.T) {
	t.Parallel()
	for _, base := range []string{
		"http://203.0.113.10/api",
		"http://api.subverseai.com/api",
		"https://user:pw-9c1e@api.subverseai.com/api",
		"https://api.subverseai.com/api?token=q-4d2b",
		"https://api.subverseai.com/api#frag-77a1",
		"ftp://api.subverseai.com/api",
	} {
		for _, via := range []string{"flag", "env"} {
			t.Run(via+" "+base, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				prefix := filepath.Join(dir, "report")
				vars := map[string]string{"SUBVERSE_API_KEY": leakKey}
				args := []string{"--log-format", "json", "--report", prefix, "-"}
				if via == "env" {
					vars["SUBVERSE_BASE_URL"] = base
				} else {
					args = append([]string{"--base-url", base}, args...)
				}
				stdin := &leakStdin{}
				o := leakRun(t, vars, stdin, args...)
				if o.code != exitUsage {
					t.Fatalf("exit %d, want %d\nstderr:\n%s", o.code, exitUsage, o.stderr)
				}
				if stdin.read.Load() {
					t.Error("the input was read before the base URL was refused")
				}
				if !strings.Contains(o.stderr, "base") {
					t.Errorf("the error does not name the base URL:\n%s", o.stderr)
				}
				for _, secret := range []string{"pw-9c1e", "q-4d2b", "frag-77a1"} {
					if strings.Contains(o.stderr, secret) {
						t.Errorf("stderr repeats %q from the URL:\n%s", secret, o.stderr)
					}
				}
				checkJSONLines(t, o.stderr)
				entries, err := os.ReadDir(dir)
				if err != nil || len(entries) != 0 {
					t.Errorf("a refused run left files behind: %v %v", entries, err)
				}
				leakScan(t, o, dir)
			})
		}
	}
}
