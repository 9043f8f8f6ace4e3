package main

// The confirmation question through a fake terminal: asked, answered,
// refused, interrupted, and when it is not asked at all. pty_test.go
// meets the same under a real pseudo-terminal.

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// ttyStartFake serves a fake API with key "k" and n queued-or-not calls;
// it returns the server, its base URL and the call IDs.
func ttyStartFake(t *testing.T, opts fake.Options, n int) (*fake.Server, string, []string) {
	t.Helper()
	opts.APIKey = "k"
	srv, base := faketest.StartFake(t, opts)
	return srv, base, srv.Seed(n)
}

// ttyEnv is an env for run with the key and base URL set, stdin as given,
// and stdout and stderr captured. stderr is not a terminal and openTTY is
// nil unless the test sets them.
func ttyEnv(base, stdin string) (*env, *faketest.Buffer, *faketest.Buffer) {
	var stdout, stderr faketest.Buffer
	vars := map[string]string{"SUBVERSE_API_KEY": "k", "SUBVERSE_BASE_URL": base}
	return &env{
		stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		getenv:  func(k string) string { return vars[k] },
		signals: make(chan os.Signal, 2),
		now:     time.Now,
	}, &stdout, &stderr
}

// ttyFake is a terminal for the confirmation: what the tool writes is
// kept, what it reads comes from a pipe the test writes the answer into.
type ttyFake struct {
	faketest.Buffer
	in     *io.PipeReader
	mu     sync.Mutex // guards closed
	closed bool
}

func (f *ttyFake) Read(p []byte) (int, error) { return f.in.Read(p) }

func (f *ttyFake) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return f.in.Close()
}

// ttyAnswering returns an openTTY whose terminal gets answer typed into it
// (nil: nothing is ever typed; "": the terminal reaches EOF), and the
// terminal, set once opened.
func ttyAnswering(t *testing.T, answer *string) (func() (io.ReadWriteCloser, error), **ttyFake) {
	t.Helper()
	var opened *ttyFake
	open := func() (io.ReadWriteCloser, error) {
		if opened != nil {
			t.Error("the terminal was opened twice")
		}
		r, w := io.Pipe()
		opened = &ttyFake{in: r}
		t.Cleanup(func() { w.Close() })
		if answer != nil {
			go func() {
				io.WriteString(w, *answer)
				if *answer == "" {
					w.Close()
				}
			}()
		}
		return opened, nil
	}
	return open, &opened
}

func ttyExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func TestTTYConfirm(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name   string
		answer *string
		run    bool
	}{
		{"y", str("y\n"), true},
		{"yes", str("yes\n"), true},
		{"Y with spaces", str("  Y \n"), true},
		{"n", str("n\n"), false},
		{"empty line", str("\n"), false},
		{"EOF", str(""), false},
		{"anything else", str("sure\n"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, base, ids := ttyStartFake(t, fake.Options{}, 3)
			// The CSV comes on stdin; the answer from the terminal.
			e, stdout, stderr := ttyEnv(base, "call_id\n"+ids[0]+"\n"+ids[1]+"\n"+ids[0]+"\n"+ids[2]+"\n")
			e.stderrTTY = true
			var tty **ttyFake
			e.openTTY, tty = ttyAnswering(t, tc.answer)
			prefix := filepath.Join(t.TempDir(), "r")
			code := run([]string{"--report", prefix, "--log-format", "json", "-"}, e)

			if *tty == nil {
				t.Fatalf("the question was not asked; stderr:\n%s", stderr)
			}
			asked := (*tty).String()
			host := strings.TrimPrefix(strings.TrimSuffix(base, "/api"), "http://")
			wantQ := "standard input: 4 rows; 3 to send, 1 duplicate.\nCancel 3 calls at " + host + "? [y/N] "
			if asked != wantQ {
				t.Errorf("terminal got %q, want %q", asked, wantQ)
			}
			if !(*tty).closed {
				t.Error("the terminal was not closed")
			}
			sent := srv.Stats().Requests
			if tc.run {
				if code != exitOK || sent != 3 || !ttyExists(prefix+".csv") || !ttyExists(prefix+".json") {
					t.Errorf("answer %q: exit %d, %d requests, want 0 and 3 and a report; stderr:\n%s", *tc.answer, code, sent, stderr)
				}
				return
			}
			if code != exitUsage || sent != 0 {
				t.Errorf("answer %q: exit %d, %d requests; want exit 2 and nothing sent", *tc.answer, code, sent)
			}
			if ttyExists(prefix+".csv") || ttyExists(prefix+".json") {
				t.Errorf("answer %q: a report file was created", *tc.answer)
			}
			if !strings.Contains(stderr.String(), "not confirmed: nothing was sent") {
				t.Errorf("stderr does not say why:\n%s", stderr)
			}
			if stdout.String() != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
}

// TestTTYConfirmNotAsked: --yes, --dry-run and a stderr that is not a
// terminal (cron, CI) never open the terminal.
func TestTTYConfirmNotAsked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		tty   bool
		sends int64
	}{
		{"--yes", []string{"--yes"}, true, 2},
		{"-yes", []string{"-yes"}, true, 2},
		{"--dry-run", []string{"--dry-run"}, true, 0},
		{"no terminal", nil, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, base, ids := ttyStartFake(t, fake.Options{}, 2)
			e, _, stderr := ttyEnv(base, "id\n"+ids[0]+"\n"+ids[1]+"\n")
			e.stderrTTY = tc.tty
			e.openTTY = func() (io.ReadWriteCloser, error) {
				t.Error("the terminal was opened")
				return nil, errors.New("no")
			}
			args := append(tc.args, "--report", filepath.Join(t.TempDir(), "r"), "--log-format", "json", "--progress", "off", "-")
			if code := run(args, e); code != exitOK {
				t.Errorf("exit %d; stderr:\n%s", code, stderr)
			}
			if got := srv.Stats().Requests; got != tc.sends {
				t.Errorf("%d requests, want %d", got, tc.sends)
			}
		})
	}
}

// TestTTYConfirmRefused: a terminal that cannot be opened, and a signal
// while the question waits, are a no: exit 2, nothing sent, no report.
func TestTTYConfirmRefused(t *testing.T) {
	t.Parallel()
	t.Run("terminal cannot be opened", func(t *testing.T) {
		t.Parallel()
		srv, base, ids := ttyStartFake(t, fake.Options{}, 1)
		e, _, stderr := ttyEnv(base, "id\n"+ids[0]+"\n")
		e.stderrTTY = true
		e.openTTY = func() (io.ReadWriteCloser, error) { return nil, errors.New("open /dev/tty: no such device") }
		prefix := filepath.Join(t.TempDir(), "r")
		code := run([]string{"--report", prefix, "--log-format", "json", "-"}, e)
		if code != exitUsage || srv.Stats().Requests != 0 || ttyExists(prefix+".csv") {
			t.Errorf("exit %d, %d requests, report %v; want 2, 0, none", code, srv.Stats().Requests, ttyExists(prefix+".csv"))
		}
		if !strings.Contains(stderr.String(), "--yes") {
			t.Errorf("stderr should point at --yes:\n%s", stderr)
		}
	})
	t.Run("signal at the question", func(t *testing.T) {
		t.Parallel()
		srv, base, ids := ttyStartFake(t, fake.Options{}, 1)
		e, _, stderr := ttyEnv(base, "id\n"+ids[0]+"\n")
		e.stderrTTY = true
		var tty **ttyFake
		e.openTTY, tty = ttyAnswering(t, nil) // nobody answers
		sigs := make(chan os.Signal, 1)
		sigs <- syscall.SIGINT
		e.signals = sigs
		prefix := filepath.Join(t.TempDir(), "r")
		code := run([]string{"--report", prefix, "--log-format", "json", "-"}, e)
		if code != exitUsage || srv.Stats().Requests != 0 || ttyExists(prefix+".csv") {
			t.Errorf("exit %d, %d requests, report %v; want 2, 0, none", code, srv.Stats().Requests, ttyExists(prefix+".csv"))
		}
		if *tty == nil || !(*tty).closed {
			t.Error("the terminal was not opened and closed")
		}
		if !strings.Contains(stderr.String(), "interrupted at the confirmation") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
}
