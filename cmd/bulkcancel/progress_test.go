package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
	"github.com/subverseai/bulkcancel/report"
)

// progSource is a summarySource that answers from a script: the first
// read (when the progress starts) gets the first summary, each later read
// the next one, and the last one from then on. A read happens once a tick
// and once at stop, so what each tick sees does not depend on timing.
type progSource struct {
	mu    sync.Mutex
	steps []report.Summary
	reads int
}

func (p *progSource) Summary() report.Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.steps[min(p.reads, len(p.steps)-1)]
	p.reads++
	return s
}

// progSum is a summary of settled rows written before the progress
// started (duplicates), plus done rows (canceled of them canceled,
// notFinal not final) after attempts requests.
func progSum(settled, done, canceled, notFinal, attempts int) report.Summary {
	return report.Summary{
		Total:     settled + done,
		ByOutcome: map[batch.Outcome]int{batch.Duplicate: settled, batch.Canceled: canceled},
		Final:     settled + done - notFinal,
		NotFinal:  notFinal,
		Attempts:  attempts,
	}
}

var progT0 = time.Date(2025, 4, 12, 9, 30, 0, 0, time.UTC)

// progClock is the job's clock; the test moves it.
type progClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *progClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *progClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// progJob is a job with just what the progress needs: send rows to send,
// --progress mode, --log-level level, stderr a terminal or not. Its clock
// stands at progT0 until the test moves it.
func progJob(t *testing.T, send int, mode, level string, tty bool, logFormat string) (*job, *faketest.Buffer, *progClock) {
	t.Helper()
	buf := &faketest.Buffer{}
	clock := &progClock{t: progT0}
	e := &env{stderr: buf, stderrTTY: tty, now: clock.now, getenv: func(string) string { return "" }}
	e = e.withLogOutput()
	o := &options{progress: mode, logLevel: level, logFormat: logFormat}
	j := &job{o: o, e: e, log: newLogger(e, logFormat, level, "run-1"), plan: &batch.Plan{Counts: batch.PlanCounts{Send: send}}}
	return j, buf, clock
}

func TestProgressMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag string
		tty  bool
		want progressMode
	}{
		{"auto", true, progressBar},
		{"auto", false, progressLog},
		{"on", true, progressBar},
		{"on", false, progressLog}, // a bar needs a terminal
		{"off", true, progressOff},
		{"off", false, progressOff},
	} {
		j, _, _ := progJob(t, 10, tc.flag, "info", tc.tty, "json")
		if got := j.progressMode(); got != tc.want {
			t.Errorf("--progress %s, terminal %v: mode %d, want %d", tc.flag, tc.tty, got, tc.want)
		}
	}
}

func TestProgressMeter(t *testing.T) {
	t.Parallel()
	sum := progSum
	base := sum(50, 0, 0, 0, 0) // 50 duplicates written before the first request
	m := newMeter(1000, base, progT0)
	steps := []struct {
		at                                 time.Duration
		done, canceled, notFinal, attempts int // the summary, and what the meter must show
		wantRPS                            float64
		wantETA                            time.Duration
	}{
		// 100 rows and 110 requests in 10 s: 11/s, 900 rows left at 10 rows/s.
		{10 * time.Second, 100, 90, 2, 110, 11, 90 * time.Second},
		// The rate looks back to the newest reading at least 10 s old, here
		// the start: 200 rows and 210 requests in 15 s.
		{15 * time.Second, 200, 180, 2, 210, 14, 60 * time.Second},
		// From the reading at 10 s: a slowdown to 110 rows in 10 s.
		{20 * time.Second, 210, 190, 2, 220, 11, 71800 * time.Millisecond},
		// Nothing moved for 10 s: rate 0, ETA unknown.
		{30 * time.Second, 210, 190, 2, 220, 0, -1},
		// Every row done: ETA 0.
		{31 * time.Second, 1000, 900, 5, 1100, 80, 0},
	}
	for _, s := range steps {
		st := m.add(progT0.Add(s.at), sum(50, s.done, s.canceled, s.notFinal, s.attempts))
		if st.Done != s.done || st.Total != 1000 || st.Canceled != s.canceled || st.NotFinal != s.notFinal {
			t.Errorf("at %s: done %d/%d canceled %d not final %d, want %d/1000 %d %d",
				s.at, st.Done, st.Total, st.Canceled, st.NotFinal, s.done, s.canceled, s.notFinal)
		}
		if diff := st.RPS - s.wantRPS; diff > 0.01 || diff < -0.01 {
			t.Errorf("at %s: rps %.2f, want %.2f", s.at, st.RPS, s.wantRPS)
		}
		if d := st.ETA - s.wantETA; d > time.Second || d < -time.Second {
			t.Errorf("at %s: eta %s, want %s", s.at, st.ETA, s.wantETA)
		}
		if st.Elapsed != s.at {
			t.Errorf("at %s: elapsed %s", s.at, st.Elapsed)
		}
	}
	if len(m.samples) > 3 {
		t.Errorf("meter keeps %d samples; it should drop those outside the window", len(m.samples))
	}
}

func TestProgressBarText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s           progressStats
		pct         int
		text        string
		description string
	}{
		{progressStats{Done: 0, Total: 2000, ETA: -1}, 0,
			"0/2000 rows | 0.0 req/s | ETA ? | canceled 0 | not final 0", "no rate yet"},
		{progressStats{Done: 740, Total: 2000, Canceled: 700, NotFinal: 3, RPS: 399.96, ETA: 3150 * time.Millisecond}, 37,
			"740/2000 rows | 400.0 req/s | ETA 3.2s | canceled 700 | not final 3", "running"},
		{progressStats{Done: 1999, Total: 2000, ETA: time.Millisecond}, 99,
			"1999/2000 rows | 0.0 req/s | ETA 1ms | canceled 0 | not final 0", "never 100% before the last row"},
		{progressStats{Done: 2000, Total: 2000, Canceled: 1990, NotFinal: 1, RPS: 401, Elapsed: 5049 * time.Millisecond}, 100,
			"2000/2000 rows | 401.0 req/s | done in 5s | canceled 1990 | not final 1", "done"},
		{progressStats{Done: 740, Total: 2000, Canceled: 700, RPS: 12, Elapsed: 61 * time.Second, Stopped: true}, 37,
			"740/2000 rows | 12.0 req/s | stopped after 1m1s | canceled 700 | not final 0", "stopped"},
	} {
		if got := tc.s.percent(); got != tc.pct {
			t.Errorf("%s: percent %d, want %d", tc.description, got, tc.pct)
		}
		if got := tc.s.barText(200); got != tc.text {
			t.Errorf("%s:\n got %q\nwant %q", tc.description, got, tc.text)
		}
	}
	// On a narrow terminal the figures give way, least needed first.
	// With the engine's pace, what holds it outlasts every other figure
	// but the rows, so an 80-column terminal still tells who sets the pace.
	plain := progressStats{Done: 740, Total: 2000, Canceled: 700, NotFinal: 3, RPS: 400, ETA: 3 * time.Second}
	s := plain
	s.HasPace, s.Pace, s.HeldBy, s.Retries, s.Waiting = true, 150, batch.HeldByAPI, 4, 2
	for _, tc := range []struct {
		s     progressStats
		width int
		want  string
	}{
		{plain, 65, "740/2000 rows | 400.0 req/s | ETA 3s | canceled 700 | not final 3"},
		{plain, 64, "740/2000 rows | ETA 3s | canceled 700 | not final 3"},
		{plain, 50, "740/2000 rows | ETA 3s | not final 3"},
		{plain, 35, "740/2000 rows | not final 3"},
		{plain, 26, "740/2000 rows"},
		{plain, 5, "740/2000 rows"},
		{s, 200, "740/2000 rows | 400.0 req/s | pace 150/s: API limit | retries 4 (2 waiting) | ETA 3s | canceled 700 | not final 3"},
		{s, 80, "740/2000 rows | pace 150/s: API limit | ETA 3s | canceled 700 | not final 3"},
		{s, 50, "740/2000 rows | pace 150/s: API limit"},
	} {
		if got := tc.s.barText(tc.width); got != tc.want {
			t.Errorf("width %d, pace %v: %q, want %q", tc.width, tc.s.HasPace, got, tc.want)
		}
	}
	for held, want := range map[batch.HeldBy]string{batch.HeldByConcurrency: "pace 150/s: --concurrency",
		batch.HeldByNothing: "pace 150/s: rising", batch.HeldByMaxRate: "pace 150/s: --max-rate"} {
		s.HeldBy = held
		if got := s.paceText(); got != want {
			t.Errorf("held by %s: %q, want %q", held, got, want)
		}
	}
	s.Pace, s.HeldBy = math.Inf(1), batch.HeldByConcurrency
	if got := s.paceText(); got != "pace no ceiling: --concurrency" {
		t.Errorf("no ceiling: %q", got)
	}
	if s.HeldBy = batch.HeldByNothing; s.paceText() != "pace no ceiling: nothing" {
		t.Errorf("no ceiling, nothing holds it: %q", s.paceText())
	}
}

// TestProgressLogLine drives the off-terminal progress through its tick
// channel: one info line per tick with the figures, none after stop.
func TestProgressLogLine(t *testing.T) {
	t.Parallel()
	j, buf, _ := progJob(t, 1000, "auto", "info", false, "json")
	src := &progSource{steps: []report.Summary{
		progSum(20, 0, 0, 0, 0),
		progSum(20, 100, 95, 1, 104),
		progSum(20, 300, 290, 2, 310),
		progSum(20, 1000, 990, 2, 1020),
	}}
	ticks := make(chan time.Time)
	p := j.runProgress(src, progressLog, ticks)
	ticks <- progT0.Add(10 * time.Second)
	ticks <- progT0.Add(20 * time.Second)
	p.stop()
	p.stop() // twice is fine

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 progress lines, got %d:\n%s", len(lines), buf)
	}
	want := []map[string]any{
		{"level": "info", "message": "progress", "done": 100.0, "total": 1000.0, "canceled": 95.0, "not_final": 1.0, "attempts": 104.0, "rps": 10.4, "eta": "1m30s"},
		// the rate over the last 10 s: 200 rows, 206 requests.
		{"level": "info", "message": "progress", "done": 300.0, "total": 1000.0, "canceled": 290.0, "not_final": 2.0, "attempts": 310.0, "rps": 20.6, "eta": "35s"},
	}
	for i, line := range lines {
		var got map[string]any
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("line %d: %s = %v, want %v\n%s", i+1, k, got[k], v, line)
			}
		}
	}
}

// TestProgressOnOverridesLogLevel: --progress on logs its info line even
// with --log-level warn; auto does not.
func TestProgressOnOverridesLogLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag  string
		lines int
	}{{"on", 1}, {"auto", 0}, {"off", 0}} {
		j, buf, _ := progJob(t, 10, tc.flag, "warn", false, "json")
		src := &progSource{steps: []report.Summary{progSum(0, 0, 0, 0, 0), progSum(0, 5, 5, 0, 5)}}
		ticks := make(chan time.Time)
		mode := j.progressMode()
		p := j.runProgress(src, mode, ticks)
		if mode != progressOff {
			ticks <- progT0.Add(10 * time.Second)
		}
		p.stop()
		if got := strings.Count(buf.String(), `"message":"progress"`); got != tc.lines {
			t.Errorf("--progress %s --log-level warn: %d progress lines, want %d:\n%s", tc.flag, got, tc.lines, buf)
		}
		if tc.lines > 0 && !strings.Contains(buf.String(), `"level":"info"`) {
			t.Errorf("--progress on: the line should still be info:\n%s", buf)
		}
	}
}

var (
	progBarLine = regexp.MustCompile(`^ *(\d+)% \[[=>-]*\] (\d+)/(\d+) rows \| `)
	progLogLine = regexp.MustCompile(`^\d\d:\d\d:\d\d (DBG|INF|WRN|ERR) `)
)

// progStrip removes terminal escape sequences (colours, cursor moves).
func progStrip(s string) string { return ttyANSI.ReplaceAllString(s, "") }

// checkBarMoves fails the test unless the bar's percentages pcts never go
// back and take at least distinct values.
func checkBarMoves(t *testing.T, pcts []int, distinct int) {
	t.Helper()
	seen := map[int]bool{}
	for i, pct := range pcts {
		seen[pct] = true
		if i > 0 && pct < pcts[i-1] {
			t.Errorf("the bar went back from %d%% to %d%%: %v", pcts[i-1], pct, pcts)
		}
	}
	if len(seen) < distinct {
		t.Errorf("the bar did not move: %v", pcts)
	}
}

// TestProgressBarKeepsLogLinesWhole draws the bar (on a buffer, so without
// cursor movement) while log lines are written: every line of output is a
// whole bar or a whole log line, the bar moves, it ends at 100%, and after
// stop log lines go straight to stderr.
func TestProgressBarKeepsLogLinesWhole(t *testing.T) {
	t.Parallel()
	j, buf, clock := progJob(t, 2000, "auto", "info", true, "console")
	src := &progSource{steps: []report.Summary{progSum(0, 0, 0, 0, 0)}}
	for i := 1; i <= 5; i++ {
		src.steps = append(src.steps, progSum(0, i*300, i*290, i, i*310))
	}
	src.steps = append(src.steps, progSum(0, 2000, 1985, 6, 2100))
	ticks := make(chan time.Time)
	p := j.runProgress(src, progressBar, ticks)
	for i := 1; i <= 5; i++ {
		j.log.Warn().Int("step", i).Msg("a retry, say")
		ticks <- progT0.Add(time.Duration(i) * time.Second)
	}
	clock.set(progT0.Add(5500 * time.Millisecond))
	p.stop()
	j.log.Info().Msg("after the bar")

	var pcts []int
	var logs []string
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		line = progStrip(line)
		switch m := progBarLine.FindStringSubmatch(line); {
		case m != nil:
			var pct int
			fmt.Sscan(m[1], &pct)
			pcts = append(pcts, pct)
			if progLogLine.MatchString(line) || strings.Contains(line, "WRN") {
				t.Errorf("bar line holds a log line: %q", line)
			}
		case progLogLine.MatchString(line):
			if progBarLine.MatchString(line) || strings.Contains(line, "rows |") {
				t.Errorf("log line holds the bar: %q", line)
			}
			logs = append(logs, line)
		default:
			t.Errorf("line is neither a whole bar nor a whole log line: %q", line)
		}
	}
	if len(logs) != 6 || !strings.Contains(logs[5], "after the bar") {
		t.Errorf("want the 5 log lines, then the one after the bar, got %d:\n%s", len(logs), strings.Join(logs, "\n"))
	}
	if len(pcts) < 5 {
		t.Fatalf("the bar was drawn %d times, want at least 5 (one a tick):\n%s", len(pcts), buf)
	}
	checkBarMoves(t, pcts, 4)
	if last := pcts[len(pcts)-1]; last != 100 {
		t.Errorf("the bar ended at %d%%, want 100%%:\n%s", last, buf)
	}
	out := buf.String()
	if !strings.Contains(out, "2000/2000 rows") || !strings.Contains(out, "done in 5.5s | canceled 1985 | not final 6") {
		t.Errorf("the last bar does not show the final counts:\n%s", out)
	}
	if strings.Index(out, "after the bar") < strings.LastIndex(out, "% [") {
		t.Errorf("a log line written after stop came before the last bar:\n%s", out)
	}
	// While the bar is up, a log line reaches stderr only inside a redraw:
	// written together with the bar (on a terminal, after the cursor moved
	// up over the old bar), never on its own.
	for _, w := range buf.Writes() {
		if strings.Contains(w, "a retry, say") && !strings.Contains(w, " rows | ") {
			t.Errorf("a log line was written on its own while the bar was up: %q", w)
		}
		if strings.Contains(w, "after the bar") && strings.Contains(w, " rows | ") {
			t.Errorf("a log line written after stop went through the bar: %q", w)
		}
	}
}

// TestProgressBarUnfinished: a run that stops short (a report write
// failed) leaves the bar where it got, not at 100%.
func TestProgressBarUnfinished(t *testing.T) {
	t.Parallel()
	j, buf, _ := progJob(t, 100, "auto", "info", true, "console")
	src := &progSource{steps: []report.Summary{progSum(0, 0, 0, 0, 0), progSum(0, 40, 40, 0, 40)}}
	ticks := make(chan time.Time)
	p := j.runProgress(src, progressBar, ticks)
	ticks <- progT0.Add(time.Second)
	p.stop()
	if strings.Contains(buf.String(), "100%") || !strings.Contains(buf.String(), "40/100 rows") {
		t.Errorf("want the bar left at 40%%:\n%s", buf)
	}
}

// TestProgressBarInterrupted: rows a stopped run writes as not_attempted
// are not progress, so a Ctrl-C leaves the bar where the run got and says
// it stopped.
func TestProgressBarInterrupted(t *testing.T) {
	t.Parallel()
	j, buf, clock := progJob(t, 100, "auto", "info", true, "console")
	stopped := progSum(0, 100, 40, 60, 40)
	stopped.ByOutcome[batch.NotAttempted] = 60
	src := &progSource{steps: []report.Summary{progSum(0, 0, 0, 0, 0), progSum(0, 40, 40, 0, 40), stopped}}
	ticks := make(chan time.Time)
	p := j.runProgress(src, progressBar, ticks)
	ticks <- progT0.Add(time.Second)
	clock.set(progT0.Add(2 * time.Second))
	p.stop()
	out := progStrip(buf.String())
	if strings.Contains(out, "100%") || strings.Contains(out, "done in") || !strings.Contains(out, "40/100 rows") || !strings.Contains(out, "stopped after 2s") {
		t.Errorf("want the bar left at 40%% and stopped:\n%s", out)
	}
}

func TestProgressOff(t *testing.T) {
	t.Parallel()
	j, buf, _ := progJob(t, 100, "off", "debug", true, "console")
	src := &progSource{steps: []report.Summary{progSum(0, 0, 0, 0, 0)}}
	p := j.runProgress(src, j.progressMode(), nil)
	p.stop()
	if buf.String() != "" {
		t.Errorf("--progress off wrote %q", buf)
	}
}

// TestProgressLogOutputPassesThrough: without a bar the log output is
// stderr itself.
func TestProgressLogOutputPassesThrough(t *testing.T) {
	t.Parallel()
	var base faketest.Buffer
	e := (&env{stderr: &base}).withLogOutput()
	if e.withLogOutput() != e {
		t.Error("withLogOutput wrapped twice")
	}
	log := zerolog.New(e.stderr)
	log.Info().Msg("hello")
	if !strings.Contains(base.String(), `"message":"hello"`) {
		t.Errorf("stderr got %q", base.String())
	}
}

// TestPaceSummary: the summary's Pace line says where the pace ended,
// what held it and what the API allowed; nothing when nothing was sent.
func TestPaceSummary(t *testing.T) {
	t.Parallel()
	r := &batch.RateReport{Auto: true, Start: 10, Highest: 271, Final: 146, Allowed: 146.4, HeldBy: batch.HeldByAPI, Cuts: 2}
	want := "Pace: 146/s at the end (started 10/s, highest 271/s), held by: API limit. The API allowed about 146/s; --rate 146 starts there next time (and never goes above it)."
	if got := paceSummary(r, 0); got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	// A shard's figure is its share of the key's limit: no --rate of it
	// for next time, but the way to the whole.
	if got := paceSummary(r, 4); !strings.Contains(got, "The API allowed this shard about 146/s, its share of the key's limit; it read no other shard's pace, so the 4 shards shared it unequally.") ||
		!strings.Contains(got, "Shards whose reports are in one directory read one another's pace") ||
		!strings.Contains(got, "--rate of that over 4 on every shard") || strings.Contains(got, "--rate 146") {
		t.Errorf("a shard of 4: %q", got)
	}
	// Shards that read one another's pace shared the limit evenly.
	r.Peers = 3
	if got := paceSummary(r, 4); !strings.Contains(got, "The API allowed this shard about 146/s, its share of the key's limit: it read the pace of 3 other shards beside the reports, and they shared the limit by their rows left.") ||
		strings.Contains(got, "--rate") {
		t.Errorf("a shard of 4 that read 3 others' pace: %q", got)
	}
	if got := paceSummary(&batch.RateReport{HeldBy: batch.HeldByNothing}, 0); !strings.Contains(got, "held by: nothing.") {
		t.Errorf("no ceiling, nothing held it: %q", got)
	}
	if got := paceSummary(&batch.RateReport{Auto: true, Start: 10, Highest: 80, Final: 80, HeldBy: batch.HeldByNothing}, 0); !strings.Contains(got, "held by: nothing, still rising.") {
		t.Errorf("auto, still rising: %q", got)
	}
	c := &batch.RateReport{Start: 0, Highest: 0, Final: 0, HeldBy: batch.HeldByConcurrency}
	if got := paceSummary(c, 0); !strings.Contains(got, "no ceiling at the end") || !strings.Contains(got, "--concurrency, not the rate") || strings.Contains(got, "API allowed") {
		t.Errorf("no ceiling, concurrency: %q", got)
	}
	n := &batch.RateReport{Start: 200, Highest: 200, Final: 200, HeldBy: batch.HeldByRate, Cuts: 1, Undone: 1, Noise: 0.08}
	if got := paceSummary(n, 0); !strings.Contains(got, "About 8% of answers were refusals that came whatever the pace") || strings.Contains(got, "API allowed") {
		t.Errorf("refusals that were noise: %q", got)
	}
	if got := paceSummary(&batch.RateReport{HeldBy: batch.HeldByNothing, Noise: 0.004}, 0); !strings.Contains(got, "About 0.4% of answers") {
		t.Errorf("a small share of noise reads as none: %q", got)
	}
	if got := paceSummary(nil, 0); got != "" {
		t.Errorf("nothing sent: %q", got)
	}
}

// TestSummaryJSONOnlyFailure: when every row is final and only the JSON
// report could not be written, the summary says so as an error, not as a
// run that stopped early, and offers no command to finish anything.
func TestSummaryJSONOnlyFailure(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	j := &job{o: &options{}, e: &env{stdout: &out}, plan: &batch.Plan{}, prefix: "r"}
	why := "the JSON report could not be written (write r.json: no space left on device); the CSV report holds every row"
	s := report.Summary{Total: 3, Final: 3, ByOutcome: map[batch.Outcome]int{batch.Canceled: 3}}
	j.printSummary(s, &why, nil, false, nil)
	got := out.String()
	if !strings.Contains(got, "Error: "+why) || strings.Contains(got, "Stopped early") || strings.Contains(got, "finish the job") {
		t.Errorf("summary:\n%s", got)
	}
	s = report.Summary{Total: 3, Final: 1, NotFinal: 2, ByOutcome: map[batch.Outcome]int{batch.Canceled: 1, batch.NotAttempted: 2}}
	out.Reset()
	stop := "interrupted by SIGTERM"
	j.printSummary(s, &stop, batch.ErrInterrupted, true, nil)
	if !strings.Contains(out.String(), "Stopped early: "+stop) {
		t.Errorf("summary of a stopped run:\n%s", out.String())
	}
}

// TestNothingSentHasNoPace: a run that sent nothing (every row invalid)
// tells of no pace, in the summary or in the JSON report.
func TestNothingSentHasNoPace(t *testing.T) {
	t.Parallel()
	_, base := faketest.StartFake(t, fake.Options{})
	dir := t.TempDir()
	in := faketest.WriteFile(t, dir, "in.csv", "call_id\n..\n.\n")
	res := runCmd(t, nil, "", "--base-url", base, "--report", filepath.Join(dir, "r"), in)
	if res.code != 0 || strings.Contains(res.stdout, "Pace:") || !strings.Contains(res.stdout, "2 rows in") {
		t.Errorf("exit %d, summary:\n%s", res.code, res.stdout)
	}
	if rep := readJSONReport(t, filepath.Join(dir, "r")); rep.Summary.Rate != nil || rep.Summary.Attempts != 0 {
		t.Errorf("summary.rate %v after %d attempts, want null", rep.Summary.Rate, rep.Summary.Attempts)
	}
}
