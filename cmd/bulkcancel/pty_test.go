package main

// The real binary under a real pseudo-terminal: the live progress bar and
// the confirmation question.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// ttyBuild returns the bulkcancel binary the process tests build once.
func ttyBuild(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no pseudo-terminals on Windows")
	}
	return bulkcancelBinary(t)
}

// ttyOutput collects what a pseudo-terminal shows.
type ttyOutput struct {
	watchWriter
	done chan struct{}
}

func ttyCollect(r io.Reader) *ttyOutput {
	o := &ttyOutput{done: make(chan struct{})}
	go func() {
		defer close(o.done)
		io.Copy(&o.watchWriter, r) // EIO once the process and its terminal are gone
	}()
	return o
}

// waitFor waits until the output holds s, the output ends, or ctx ends.
func (o *ttyOutput) waitFor(ctx context.Context, s string) bool {
	select {
	case <-o.seen(s):
		return true
	case <-o.done:
		return strings.Contains(o.String(), s)
	case <-ctx.Done():
		return false
	}
}

// ttyStart runs bin (from ttyBuild) with args under a new pseudo-terminal:
// its stdout, stderr and controlling terminal, and its stdin unless
// stdinFile is given, in which case stdin is that file, as in
// "bulkcancel - < calls.csv" typed at a terminal. It skips the test when
// there is no pty to be had.
func ttyStart(t *testing.T, ctx context.Context, bin, base, stdinFile string, args ...string) (*exec.Cmd, *os.File, *ttyOutput) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	if stdinFile != "" {
		// The shell starts on the terminal, so it stays the controlling
		// terminal, and only then is stdin redirected.
		cmd = exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", `exec "$0" "$@" < "$TTY_TEST_STDIN"`, bin}, args...)...)
	}
	cmd.Env = []string{"SUBVERSE_API_KEY=k", "SUBVERSE_BASE_URL=" + base, "TERM=xterm-256color",
		"HOME=" + t.TempDir(), "TTY_TEST_STDIN=" + stdinFile}
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 150})
	if err != nil {
		t.Skipf("no pseudo-terminal available (%v): the terminal tests need one", err)
	}
	t.Cleanup(func() { f.Close() })
	return cmd, f, ttyCollect(f)
}

var (
	ttyANSI      = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	ttyLogMarker = regexp.MustCompile(`\b(DBG|INF|WRN|ERR)\b`)
	ttyLogLine   = regexp.MustCompile(`^\d\d:\d\d:\d\d (DBG|INF|WRN|ERR) \S`)
	ttyBarLine   = regexp.MustCompile(`^ *(\d+)% \[[=>-]*\] (\d+)/(\d+) rows \| .* \| canceled \d+ \| not final \d+$`)
	ttyCSI       = regexp.MustCompile(`^\x1b\[([0-9;?]*)([A-Za-z])`)
)

// ttyScreen replays terminal output the way a terminal shows it, as far
// as this tool's output needs: text overwrites, CR, LF, cursor up (CSI A),
// erase to the end of the screen (CSI J) or line (CSI K); colours and
// other sequences are dropped. Lines do not wrap. It returns every line
// left in the scrollback and on the screen.
func ttyScreen(raw string) []string {
	lines := [][]rune{nil}
	row, col := 0, 0
	for i := 0; i < len(raw); {
		if m := ttyCSI.FindStringSubmatch(raw[i:]); m != nil {
			i += len(m[0])
			n := 1
			fmt.Sscan(m[1], &n)
			switch m[2] {
			case "A":
				row = max(row-n, 0)
			case "J", "K":
				if col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
				if m[2] == "J" {
					lines = lines[:row+1]
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(raw[i:])
		i += size
		switch r {
		case '\r':
			col = 0
		case '\n':
			row++
			if row == len(lines) {
				lines = append(lines, nil)
			}
		case '\x1b':
		default:
			for len(lines[row]) < col {
				lines[row] = append(lines[row], ' ')
			}
			if col < len(lines[row]) {
				lines[row][col] = r
			} else {
				lines[row] = append(lines[row], r)
			}
			col++
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	return out
}

// TestTTYProgressBar runs bulkcancel under a real pseudo-terminal against
// a fake that fails some first attempts (so warnings are logged while the
// bar is drawn): the bar appears, moves and ends at 100%; replayed as a
// terminal shows it, every log line is whole and none was erased by a
// redraw, one bar is left (the last), and the summary follows it.
func TestTTYProgressBar(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the bar test runs for about 5 s")
	}
	bin := ttyBuild(t)
	srv, base, ids := ttyStartFake(t, fake.Options{Faults: fake.Faults{Seed: 7, P500: 0.03, FirstN: 1}}, 2000)
	dir := t.TempDir()
	input := faketest.WriteFile(t, dir, "calls.csv", "call_id\n"+strings.Join(ids, "\n")+"\n")
	prefix := filepath.Join(dir, "r")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd, _, out := ttyStart(t, ctx, bin, base, "",
		"--rate", "400", "--yes", "--max-backoff", "20ms", "--log-level", "debug", "--report", prefix, input)
	code := exitCode(t, cmd)
	<-out.done
	raw := out.String()
	if code != 0 {
		t.Fatalf("bulkcancel: exit %d\n%s", code, raw)
	}
	if got := srv.Stats().Requests; got < 2000 {
		t.Fatalf("%d requests, want at least 2000", got)
	}

	// What was written: the bar frames in order, and the log lines.
	var pcts []int
	var firstBar = -1
	var warnDuringBar int
	written := map[string]bool{}
	for i, line := range strings.Split(raw, "\n") {
		line = ttyANSI.ReplaceAllString(strings.TrimSuffix(line, "\r"), "")
		if m := ttyBarLine.FindStringSubmatch(line); m != nil {
			var pct int
			fmt.Sscan(m[1], &pct)
			pcts = append(pcts, pct)
			if firstBar < 0 {
				firstBar = i
			}
		} else if ttyLogLine.MatchString(line) {
			written[line] = true
			// On a terminal retries are debug lines (the bar counts them).
			if firstBar >= 0 && strings.Contains(line, " DBG ") && strings.Contains(line, "retrying") {
				warnDuringBar++
			}
		}
	}
	// What the terminal shows at the end.
	screen := ttyScreen(raw)
	shown := map[string]bool{}
	lastBar, summaryAt, bars := -1, -1, 0
	for i, line := range screen {
		switch {
		case ttyBarLine.MatchString(line):
			bars++
			lastBar = i
		case ttyLogLine.MatchString(line):
			shown[line] = true
			if strings.Contains(line, " rows | ") {
				t.Errorf("screen line %d: the bar ran into a log line: %q", i+1, line)
			}
		case ttyLogMarker.MatchString(line) || strings.Contains(line, " rows | "):
			t.Errorf("screen line %d is garbled (a log line or bar that does not start the line): %q", i+1, line)
		case strings.HasPrefix(line, "2000 rows in "):
			summaryAt = i
		}
	}
	for line := range written {
		if !shown[line] {
			t.Errorf("a log line was erased by a redraw of the bar: %q", line)
		}
	}
	if bars != 1 {
		t.Errorf("%d bars left on the screen, want 1 (the last)", bars)
	}
	if t.Failed() {
		t.Logf("screen:\n%s", strings.Join(screen, "\n"))
	}
	if len(pcts) < 3 {
		t.Fatalf("the bar was drawn %d times; want it to move:\n%s", len(pcts), raw)
	}
	checkBarMoves(t, pcts, 3)
	if last := pcts[len(pcts)-1]; last != 100 || lastBar < 0 || !strings.Contains(screen[lastBar], "2000/2000 rows") {
		t.Errorf("the bar ended at %d%%", last)
	}
	if warnDuringBar == 0 {
		t.Errorf("no retry line was logged while the bar was drawn; the test did not check interleaving")
	}
	if summaryAt < lastBar {
		t.Errorf("the summary (line %d) does not follow the finished bar (line %d)", summaryAt+1, lastBar+1)
	}
	if !strings.Contains(raw, "Report: "+prefix+".csv and "+prefix+".json") {
		t.Errorf("no report paths in the summary")
	}
}

// TestTTYConfirmOnTerminal answers the question on a real terminal while
// the CSV comes on stdin: "y" runs; Enter, and Ctrl-C at the question, end
// with exit 2, nothing sent and no report.
func TestTTYConfirmOnTerminal(t *testing.T) {
	t.Parallel()
	bin := ttyBuild(t)
	for _, tc := range []struct {
		name, keys string
		code       int
	}{
		{"y", "y\n", exitOK},
		{"Enter", "\n", exitUsage},
		{"Ctrl-C", "\x03", exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, base, ids := ttyStartFake(t, fake.Options{}, 3)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			dir := t.TempDir()
			input := faketest.WriteFile(t, dir, "calls.csv", "id\n"+strings.Join(ids, "\n")+"\n")
			prefix := filepath.Join(dir, "r")
			cmd, term, out := ttyStart(t, ctx, bin, base, input, "--report", prefix, "-")
			if !out.waitFor(ctx, "Cancel 3 calls at ") || !out.waitFor(ctx, "? [y/N] ") {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no question on the terminal:\n%s", out)
			}
			if srv.Stats().Requests != 0 {
				t.Fatal("requests were sent before the answer")
			}
			if _, err := io.WriteString(term, tc.keys); err != nil {
				t.Fatal(err)
			}
			code := exitCode(t, cmd)
			<-out.done
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			want, report := int64(0), false
			if tc.code == exitOK {
				want, report = 3, true
			}
			if got := srv.Stats().Requests; got != want {
				t.Errorf("%d requests, want %d:\n%s", got, want, out)
			}
			if ttyExists(prefix+".csv") != report || ttyExists(prefix+".json") != report {
				t.Errorf("report files exist: %v, want %v", ttyExists(prefix+".csv"), report)
			}
		})
	}
}
