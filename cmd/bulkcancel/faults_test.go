package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// runFileLimited runs the binary with its file size limited to about
// limitKiB (writes past it fail with EFBIG, as on a full disk) and
// returns the exit code, stdout and stderr.
func runFileLimited(t *testing.T, limitKiB int, args ...string) cmdResult {
	t.Helper()
	// ulimit -f counts blocks of 512 bytes in dash and POSIX mode, 1024 in
	// bash: either way the limit is far below the report's size.
	script := fmt.Sprintf(`ulimit -f %d && exec "$0" "$@"`, limitKiB)
	var out, errw faketest.Buffer
	cmd := startCmd(t, script, &out, &errw, args...)
	return cmdResult{exitCode(t, cmd), out.String(), errw.String()}
}

// finishCommand returns the printed "finish the job" command, parsed
// back into arguments, without the program name.
func finishCommand(t *testing.T, stdout string) []string {
	t.Helper()
	lines := strings.Split(stdout, "\n")
	for i, l := range lines {
		if (strings.Contains(l, "finish the job") || strings.Contains(l, "run the same command again")) && i+1 < len(lines) {
			args := shellSplit(t, strings.TrimSpace(lines[i+1]))
			return args[1:]
		}
	}
	t.Fatalf("no finish command in:\n%s", stdout)
	return nil
}

// shellSplit undoes shellQuote: words separated by spaces, single-quoted
// where needed, with '\” for a quote.
func shellSplit(t *testing.T, s string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	in, word := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in && c == '\'':
			in = false
		case in:
			cur.WriteByte(c)
		case c == '\'':
			in, word = true, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			word = true
		case c == ' ':
			if word {
				args = append(args, cur.String())
				cur.Reset()
				word = false
			}
		default:
			if strings.ContainsRune("\"$`*?[]{}~<>|&;()#!", rune(c)) {
				t.Fatalf("unquoted %q in %s", c, s)
			}
			cur.WriteByte(c)
			word = true
		}
	}
	if in {
		t.Fatalf("unterminated quote in %s", s)
	}
	if word {
		args = append(args, cur.String())
	}
	return args
}

// TestReportFailsWhileCarrying: when the report cannot be written while
// the rows carried from --resume are, no report is published (a partial
// one would make the next --resume send final IDs again), nothing is
// sent, the exit is 3, and the printed command redoes the whole job.
func TestReportFailsWhileCarrying(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	ids := srv.Seed(3000)
	dir, in := idsInput(t, ids)
	full := filepath.Join(dir, "full")
	if r := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--report", full, in); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	requests := srv.Stats().Requests
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	r := runFileLimited(t, 64, "--base-url", base, "--rate", "0", "--log-format", "json", "--resume", full+".csv", "--report", filepath.Join(out, "carry"), in)
	if r.code != 3 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("left in the report directory: %v", ents)
	}
	if got := srv.Stats().Requests; got != requests {
		t.Errorf("%d requests sent", got-requests)
	}
	args := finishCommand(t, r.stdout)
	if !strings.Contains(r.stdout, "Nothing was sent") || !strings.Contains(strings.Join(args, " "), "--resume "+full+".csv") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	// Run as printed, with room: nothing final is sent again.
	if r := runCmd(t, nil, "", args...); r.code != 0 || srv.Stats().Requests != requests {
		t.Errorf("the printed command: exit %d, %d requests\n%s", r.code, srv.Stats().Requests-requests, r.stderr)
	}
}

// TestReportFailsMidRun: a report that cannot be written mid-run (its
// last row may be cut short where the disk filled up) stops the sending
// at once, waits for the requests in flight, exits 3, says
// the report is incomplete and how to finish; finishing it sends no final
// ID again, cancels every queued call once, and marks ambiguous the calls
// the failed run canceled without recording it.
func TestReportFailsMidRun(t *testing.T) {
	t.Parallel()
	srv, base, ids, in, prefix := seededInput(t, fake.Options{}, 3000)
	queued := queuedIDs(srv, ids)
	const conc = 8
	r := runFileLimited(t, 64, "--base-url", base, "--rate", "0", "--concurrency", fmt.Sprint(conc), "--log-format", "json", "--report", prefix, in)
	if r.code != 3 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "retrying") || !strings.Contains(r.stdout, "The report is incomplete") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	rows, _ := reportLines(t, prefix+".csv") // the row whose write failed may be cut short
	if len(rows) == 0 || len(rows) >= len(ids) {
		t.Fatalf("%d rows written", len(rows))
	}
	sentInReport := 0
	final := map[string]bool{}
	for _, row := range rows {
		if row["attempts"] != "0" {
			sentInReport++
		}
		if row["final"] == "true" {
			final[row["call_id"]] = true
		}
	}
	// Only what was in flight or queued for the writer went out after the
	// failure.
	if extra := int(srv.Stats().Requests) - sentInReport; extra < 0 || extra > 2*conc+1 {
		t.Errorf("%d requests beyond the %d the report records", extra, sentInReport)
	}
	if _, err := os.Stat(prefix + ".journal"); err != nil {
		t.Errorf("the journal of an incomplete report is gone: %v", err)
	}
	before := map[string]int{}
	for id := range final {
		c, _ := srv.Call(id)
		before[id] = c.Requests
	}
	args := finishCommand(t, r.stdout)
	r2 := runCmd(t, nil, "", args...)
	if r2.code != 0 {
		t.Fatalf("finish: exit %d\n%s\n%s", r2.code, r2.stdout, r2.stderr)
	}
	for id, n := range before {
		if c, _ := srv.Call(id); c.Requests != n {
			t.Errorf("%s was final and was sent again", id)
		}
	}
	next := readReport(t, prefix+"-2")
	if len(next) != len(ids) {
		t.Errorf("%d rows for %d IDs", len(next), len(ids))
	}
	for _, row := range next {
		id := row["call_id"]
		if c, _ := srv.Call(id); queued[id] && c.Cancels != 1 {
			t.Errorf("%s canceled %d times", id, c.Cancels)
		}
		if queued[id] && row["outcome"] == "not_cancelable" && row["ambiguous"] != "true" {
			t.Errorf("%s: canceled by the failed run, not marked ambiguous", id)
		}
	}
	if _, err := os.Stat(prefix + "-2.journal"); !os.IsNotExist(err) {
		t.Errorf("a complete run left its journal: %v", err)
	}
}

// TestSIGHUPStops: SIGHUP (a closed terminal or SSH session) stops a run
// like SIGTERM, with exit 129 and a complete report; under nohup (SIGHUP
// ignored at start) the run goes on.
func TestSIGHUPStops(t *testing.T) {
	t.Parallel()
	for _, ignored := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignored=%v", ignored), func(t *testing.T) {
			t.Parallel()
			srv, base, ids, in, prefix := seededInput(t, fake.Options{}, 200)
			held, release := make(chan struct{}, 300), make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free) // before the server closes, should the test fail
			srv.SetHook(func(ctx context.Context, id string, _ int) {
				held <- struct{}{}
				<-release
			})
			args := []string{"--base-url", base, "--rate", "0", "--concurrency", "2", "--report", prefix, "--log-format", "json", in}
			script := `exec "$0" "$@"`
			if ignored {
				script = `trap "" HUP; exec "$0" "$@"`
			}
			stderr := &watchWriter{}
			cmd := startCmd(t, script, nil, stderr, args...)
			<-held
			<-held
			cmd.Process.Signal(syscall.SIGHUP)
			if ignored {
				free() // an ignored signal is dropped when sent
			} else {
				go func() {
					<-stderr.seen("stopping")
					free()
				}()
			}
			code := exitCode(t, cmd)
			rep := readJSONReport(t, prefix)
			if ignored {
				if code != 0 || rep.Aborted != nil {
					t.Fatalf("under nohup: exit %d\n%s", code, stderr.String())
				}
				return
			}
			if code != 129 || rep.ExitCode != 129 || rep.Aborted == nil || !strings.Contains(*rep.Aborted, "SIGHUP") || len(rep.Results) != len(ids) {
				t.Fatalf("exit %d, JSON exit %d aborted %v, %d rows\n%s", code, rep.ExitCode, rep.Aborted, len(rep.Results), stderr.String())
			}
		})
	}
}

// TestClosedPipe: "bulkcancel ... 2>&1 | head -1": once the reader is
// gone, every write to stdout and stderr fails with EPIPE, and the run
// still finishes, writes both reports and exits with its own code.
func TestClosedPipe(t *testing.T) {
	t.Parallel()
	srv, base, ids, in, prefix := seededInput(t, fake.Options{}, 300)
	gone := make(chan struct{})
	var n atomic.Int64
	srv.SetHook(func(ctx context.Context, id string, _ int) {
		if n.Add(1) > 5 {
			<-gone // the rest is sent, and logged, after the reader has gone
		}
	})
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := startCmd(t, "", pw, pw, "--base-url", base, "--rate", "0", "--log-level", "debug", "--report", prefix, in)
	pw.Close()
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	pr.Close() // head -1 exits
	close(gone)
	code := exitCode(t, cmd)
	rep := readJSONReport(t, prefix)
	if code != 0 || rep.ExitCode != code || len(rep.Results) != len(ids) {
		t.Fatalf("exit %d (JSON %d), %d rows of %d", code, rep.ExitCode, len(rep.Results), len(ids))
	}
	// The fake has no faults: every row is final, the closed pipe cost none.
	if by := rep.Summary.ByOutcome; by["not_found"]+by["canceled"]+by["not_cancelable"] != len(ids) {
		t.Errorf("outcomes %v", by)
	}
}
