package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// bulkcancelBinary builds the command once for the tests that need a real
// process (signals, kill -9).
func bulkcancelBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bulkcancel-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "bulkcancel")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("build: %v", binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// startCmd starts the binary with args and the harness key in its
// environment, under sh -c script ("$0" is the binary) unless script is "".
func startCmd(t *testing.T, script string, stdout, stderr io.Writer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bulkcancelBinary(t), args...)
	if script != "" {
		cmd = exec.Command("sh", append([]string{"-c", script, bulkcancelBinary(t)}, args...)...)
	}
	cmd.Env = append(os.Environ(), "SUBVERSE_API_KEY="+harnessKey)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// startProcess starts the binary with the harness key in its environment.
func startProcess(t *testing.T, args ...string) (*exec.Cmd, *faketest.Buffer, *watchWriter) {
	t.Helper()
	var out faketest.Buffer
	errw := &watchWriter{}
	return startCmd(t, "", &out, errw, args...), &out, errw
}

// watchWriter collects output and tells when a string has appeared in it.
type watchWriter struct {
	faketest.Buffer
	mu      sync.Mutex
	watches []watch
}

type watch struct {
	s    string
	seen chan struct{}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	all := w.Buffer.String()
	w.mu.Lock()
	keep := w.watches[:0]
	for _, x := range w.watches {
		if strings.Contains(all, x.s) {
			close(x.seen)
		} else {
			keep = append(keep, x)
		}
	}
	w.watches = keep
	w.mu.Unlock()
	return n, err
}

// seen returns a channel closed once s has been written.
func (w *watchWriter) seen(s string) <-chan struct{} {
	c := make(chan struct{})
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(w.Buffer.String(), s) {
		close(c)
		return c
	}
	w.watches = append(w.watches, watch{s, c})
	return c
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// TestSignalStopsCleanly: SIGINT (or SIGTERM) while requests are in
// flight lets them finish, writes the rest as not_attempted and exits
// 130 (143) with both reports whole.
func TestSignalStopsCleanly(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			srv, base, ids, in, prefix := seededInput(t, fake.Options{}, 500)
			var cmd *exec.Cmd
			var started sync.WaitGroup
			started.Add(1)
			release := make(chan struct{})
			var n atomic.Int64
			srv.SetHook(func(ctx context.Context, id string, _ int) {
				if n.Add(1) == 50 {
					started.Wait()
					cmd.Process.Signal(sig)
				}
				if n.Load() >= 50 {
					<-release // hold what is in flight when the signal lands
				}
			})
			cmd, _, stderr := startProcess(t, "--base-url", base, "--rate", "0", "--concurrency", "4", "--report", prefix, "--log-format", "json", in)
			started.Done()
			// Release the held requests once the tool has logged that it is stopping.
			go func() {
				<-stderr.seen("stopping")
				close(release)
			}()
			code := exitCode(t, cmd)
			if want := 128 + int(sig); code != want {
				t.Fatalf("exit %d, want %d\n%s", code, want, stderr.String())
			}
			rows := readReport(t, prefix)
			if len(rows) != len(ids) {
				t.Fatalf("%d rows for %d IDs", len(rows), len(ids))
			}
			attempts, notAttempted := 0, 0
			for _, r := range rows {
				switch r["outcome"] {
				case "not_attempted":
					notAttempted++
				case "canceled", "not_cancelable":
				default:
					t.Errorf("row %s: %s (%s)", r["row"], r["outcome"], r["error"])
				}
				if r["attempts"] == "1" {
					attempts++
				}
			}
			if int64(attempts) != srv.Stats().Requests {
				t.Errorf("report counts %d requests, server saw %d", attempts, srv.Stats().Requests)
			}
			if notAttempted < len(ids)/2 {
				t.Errorf("only %d not_attempted", notAttempted)
			}
			rep := readJSONReport(t, prefix)
			if rep.ExitCode != code || rep.Aborted == nil || !strings.Contains(*rep.Aborted, "interrupted") || len(rep.Results) != len(ids) {
				t.Errorf("JSON exit %d aborted %v results %d", rep.ExitCode, rep.Aborted, len(rep.Results))
			}
		})
	}
}

// TestSecondSignalAbandons: a second SIGINT cuts the wait for requests in
// flight short; the report is still complete.
func TestSecondSignalAbandons(t *testing.T) {
	t.Parallel()
	srv, base, ids, in, prefix := seededInput(t, fake.Options{}, 100)
	held := make(chan struct{}, 100)
	srv.SetHook(func(ctx context.Context, id string, _ int) {
		held <- struct{}{}
		<-ctx.Done() // never answers: only the client giving up ends it
	})
	cmd, _, stderr := startProcess(t, "--base-url", base, "--rate", "0", "--concurrency", "3", "--timeout", "1h", "--report", prefix, "--log-format", "json", in)
	for range 3 {
		<-held
	}
	cmd.Process.Signal(syscall.SIGINT)
	<-stderr.seen("signal again")
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, cmd); code != 130 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	rows := readReport(t, prefix)
	out := map[string]int{}
	for _, r := range rows {
		out[r["outcome"]]++
	}
	if len(rows) != len(ids) || out["transport_error"] != 3 || out["not_attempted"] != len(ids)-3 {
		t.Errorf("outcomes %v", out)
	}
}

// TestSignalWaitsAtMostOneTimeout: requests in flight that never get an
// answer hold the exit back only until their --timeout.
func TestSignalWaitsAtMostOneTimeout(t *testing.T) {
	t.Parallel()
	srv, base, ids, in, prefix := seededInput(t, fake.Options{}, 50)
	held := make(chan struct{}, 100)
	srv.SetHook(func(ctx context.Context, id string, _ int) {
		held <- struct{}{}
		<-ctx.Done()
	})
	cmd, _, stderr := startProcess(t, "--base-url", base, "--rate", "0", "--concurrency", "2", "--timeout", "1s", "--max-attempts", "1", "--report", prefix, "--log-format", "json", in)
	<-held
	<-held
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, cmd); code != 130 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	out := map[string]int{}
	for _, r := range readReport(t, prefix) {
		out[r["outcome"]]++
		if r["outcome"] == "transport_error" && !strings.Contains(r["error"], "timeout") {
			t.Errorf("row %s: %s", r["row"], r["error"])
		}
	}
	if out["transport_error"] != 2 || out["not_attempted"] != len(ids)-2 {
		t.Errorf("outcomes %v", out)
	}
}
