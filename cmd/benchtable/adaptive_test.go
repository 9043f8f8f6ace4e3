//go:build linux

package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRateSetting(t *testing.T) {
	for in, want := range map[string]string{"auto": "auto", "7x": "1050", " 0.93x": "139.5", "140": "140", "0": "0", "1.5x": "225"} {
		r, err := parseRateSetting(in)
		if err != nil || r.arg(150, "auto") != want {
			t.Errorf("parseRateSetting(%q).arg(150) = %q, %v; want %q", in, r.arg(150, "auto"), err, want)
		}
	}
	if r, _ := parseRateSetting("7x"); r.arg(20, "9") != "140" || r.arg(1000, "9") != "7000" {
		t.Errorf("7x of 20 and 1000 = %s, %s", r.arg(20, "9"), r.arg(1000, "9"))
	}
	if r, _ := parseRateSetting("auto"); r.arg(150, "140") != "140" {
		t.Errorf("auto with -auto-rate 140 = %s", r.arg(150, "140"))
	}
	for _, bad := range []string{"x", "0x", "-1x", "abc", "-5", "", "autox", "NaN"} {
		if _, err := parseRateSetting(bad); err == nil {
			t.Errorf("parseRateSetting(%q) accepted", bad)
		}
	}
}

func TestLimitKinds(t *testing.T) {
	want := map[string]struct {
		args  string
		ideal time.Duration
		calls int
	}{
		"bucket":         {"--limit 150 --limit-burst 15", 20 * time.Second, 3000},
		"window":         {"--limit 150 --limit-window 2s", 20 * time.Second, 3000},
		"no-retry-after": {"--limit 150 --limit-burst 15 --limit-retry-after=false", 20 * time.Second, 3000},
		"slow":           {"--limit 20 --limit-burst 2", 30 * time.Second, 600},
		"fast":           {"--limit 1000 --limit-burst 100", 30 * time.Second, 30000},
	}
	if len(limitKinds) != len(want) {
		t.Fatalf("%d limit kinds, want %d", len(limitKinds), len(want))
	}
	for _, k := range limitKinds {
		w := want[k.name]
		if got := strings.Join(k.fakeArgs(), " "); got != w.args || k.ideal() != w.ideal || k.calls != w.calls {
			t.Errorf("%s: args %q, ideal %v, %d calls; want %q, %v, %d", k.name, got, k.ideal(), k.calls, w.args, w.ideal, w.calls)
		}
		if q := k.sized(true); q.calls != w.calls/4 || k.sized(false).calls != w.calls {
			t.Errorf("%s: -quick has %d calls", k.name, q.calls)
		}
	}
}

// slots returns n copies of v.
func slots(n, v int) []int { return slices.Repeat([]int{v}, n) }

func TestRampTime(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := start.Add(3 * time.Millisecond)
	tl := func(req, lim []int) timeline {
		return timeline{Start: &start, SlotText: "10ms", Requests: req, Limited: lim}
	}
	burstThenLate := append(append([]int{100}, slots(98, 0)...), 40) // both in one second
	tooLate := append(append([]int{100}, slots(99, 0)...), 40)       // a second apart
	tests := []struct {
		name   string
		tl     timeline
		target float64
		want   time.Duration
		ok     bool
	}{
		{"steady 200/s", tl(slots(300, 2), slots(300, 0)), 135, 677 * time.Millisecond, true},      // 68 slots of 2
		{"429s do not count", tl(slots(300, 4), slots(300, 2)), 135, 677 * time.Millisecond, true}, // the same let through
		{"never", tl(slots(500, 1), slots(500, 0)), 135, 0, false},                                 // 100/s
		{"a burst at once", tl([]int{140, 1}, []int{0, 0}), 135, 7 * time.Millisecond, true},       // in the first slot
		{"within one second", tl(burstThenLate, slots(len(burstThenLate), 0)), 135, 997 * time.Millisecond, true},
		{"slides out", tl(tooLate, slots(len(tooLate), 0)), 135, 0, false},
		{"no start", timeline{SlotText: "10ms", Requests: []int{500}, Limited: []int{0}}, 135, 0, false},
		{"bad slot", timeline{Start: &start, SlotText: "soon", Requests: []int{500}, Limited: []int{0}}, 135, 0, false},
		{"lengths differ", tl([]int{500}, nil), 135, 0, false},
	}
	for _, tt := range tests {
		got, ok := rampTime(tt.tl, first, tt.target)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: rampTime = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUnits(t *testing.T) {
	for v, want := range map[float64]string{139.55: "139.6/s", 999.94: "999.9/s", 7644.4: "7,644/s", 0: "0.0/s"} {
		if got := perSec(v); got != want {
			t.Errorf("perSec(%v) = %q, want %q", v, got, want)
		}
	}
	if got := msText(5 * time.Millisecond); got != "5 ms" {
		t.Errorf("msText = %q", got)
	}
	if got := msText(2500 * time.Microsecond); got != "2.5 ms" {
		t.Errorf("msText = %q", got)
	}
}

func TestLogMessage(t *testing.T) {
	tests := map[string]string{
		`{"level":"error","run_id":"x","message":"invalid value \"auto\" for flag -rate: parse error; see bulkcancel --help"}`: `invalid value "auto" for flag -rate: parse error; see bulkcancel --help`,
		`{"level":"error","message":"aborted","error":"failure rate 0.6 above 0.5"}`:                                           "aborted: failure rate 0.6 above 0.5",
		"bulkcancel: plain text": "bulkcancel: plain text",
		"":                       "(empty log)",
	}
	for in, want := range tests {
		if got := logMessage(in); got != want {
			t.Errorf("logMessage(%q) = %q, want %q", in, got, want)
		}
	}
	p := filepath.Join(t.TempDir(), "x.log")
	if err := os.WriteFile(p, []byte("{\"message\":\"first\"}\n{\"message\":\"last\"}\n\n  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := lastMessage(p); got != "last" {
		t.Errorf("lastMessage = %q", got)
	}
	if err := os.WriteFile(p, []byte("{\"level\":\"warn\",\"message\":\"retrying\"}\n"+
		"{\"level\":\"error\",\"message\":\"aborting: failure rate above 0.5\"}\n"+
		"{\"level\":\"info\",\"message\":\"finished\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := lastMessage(p); got != "aborting: failure rate above 0.5" {
		t.Errorf("lastMessage with an error line = %q", got)
	}
	if got := lastMessage(p + ".missing"); !strings.HasPrefix(got, "(no log") {
		t.Errorf("lastMessage of a missing file = %q", got)
	}
}

// testCell is a limited cell with the given figures: calls canceled over
// span, requests and 429s, and a timeline whose requests reach 90 % of
// the limit in the slot that ends rampSlots slots of 10 ms after the first
// request (never when 0).
func testCell(limit float64, calls, canceled int, span time.Duration, requests, too int, rampSlots int) *cell {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	last := first.Add(span)
	req := slots(rampSlots+10, 0)
	if rampSlots > 0 {
		req[rampSlots-1] = int(math.Ceil(limit * rampShare))
	}
	return &cell{what: "limit", rate: "auto", limit: limit, calls: calls, procs: 1, cutoff: time.Minute, wall: span,
		stats: fakeStats{Cancels: int64(canceled), CancelRequests: int64(requests), TooManyRequests: int64(too),
			FirstCancel: &first, LastCancel: &last, Goodput: float64(canceled) / span.Seconds()},
		timeline: timeline{Start: &first, SlotText: "10ms", Requests: req, Limited: slots(len(req), 0)},
		runs:     []procRun{{exit: 0}}}
}

func TestCellFigures(t *testing.T) {
	c := testCell(150, 3000, 3000, 20*time.Second, 3100, 100, 50)
	if g := c.Goodput(); g != 150 {
		t.Errorf("Goodput = %v", g)
	}
	if p := c.Pct429(); p < 3.225 || p > 3.226 {
		t.Errorf("Pct429 = %v", p)
	}
	if r, ok := c.Ramp(); !ok || r != 500*time.Millisecond {
		t.Errorf("Ramp = %v, %v", r, ok)
	}
	empty := &cell{limit: 150}
	if empty.Goodput() != 0 || empty.Pct429() != 0 {
		t.Errorf("empty cell: %v, %v", empty.Goodput(), empty.Pct429())
	}
	if _, ok := empty.Ramp(); ok {
		t.Error("empty cell reached the limit")
	}

	c.runs = []procRun{{exit: 143}}
	c.cutOff = true
	if e := c.Exits(); e != "" {
		t.Errorf("cut off: Exits = %q", e)
	}
	c.cutOff = false
	c.runs = []procRun{{exit: 0}, {exit: 1}, {exit: 3, message: "failure rate"}, {exit: -1}}
	if e := c.Exits(); e != "shard 1 exit 1 (rows not final); shard 2 exit 3 (aborted: failure rate); shard 3 exit -1" {
		t.Errorf("Exits = %q", e)
	}
}

func TestAdaptiveRows(t *testing.T) {
	good := testCell(150, 3000, 3000, 21400*time.Millisecond, 3000, 0, 80)
	bad := testCell(150, 3000, 484, 152*time.Second, 6000, 3300, 0)
	bad.rate, bad.cutOff, bad.cutoff, bad.runs = "1050", true, 60*time.Second, []procRun{{exit: 143}}
	slow := testCell(150, 3000, 3000, 20*time.Second, 3000, 0, 700) // 90 % after 7 s
	refused := &cell{what: "limit", rate: "auto", refused: "invalid value"}
	base := testCell(0, 1000000, 600000, time.Minute, 600000, 0, 0)
	base.rate, base.what = "0", "no limit"
	auto := testCell(0, 1000000, 570000, time.Minute, 570000, 0, 0)
	auto.what = "no limit"
	shards := testCell(150, 3000, 3000, 23*time.Second, 3100, 100, 0)
	shards.procs = 4
	a := &adaptiveResults{limited: []*cell{good, bad, slow, refused}, noLimit: []*cell{base, auto}, shards: shards}
	rows := adaptiveRows(a)
	want := [][]string{ // nine cells a row, as the header has
		{"limit", "`auto`", "3,000 of 3,000", "21 s", "140.2/s", "0.93 ✓", "0.0 % ✓", "0.80 s ✓", "yes"},
		{"limit", "`1050`", "484 of 3,000", "cut off at 60 s", "3.2/s", "0.02 ✗", "55.0 % ✗", "never ✗", "**no**"},
		{"limit", "`auto`", "3,000 of 3,000", "20 s", "150.0/s", "1.00 ✓", "0.0 % ✓", "7.00 s ✗", "**no**"},
		{"limit", "`auto`", "not run: bulkcancel refused the flags (exit 2)", "", "", "", "", "", "**no**"},
		{"no limit, `--concurrency 64`", "`0`", "600,000", "60 s", "10,000/s", "reference", "0.0 %", "", "–"},
		{"no limit, `--concurrency 64`", "`auto`", "570,000", "60 s", "9,500/s", "0.95 × `--rate 0` ✓", "0.0 %", "", "yes"},
		{"limit", "`auto`", "3,000 of 3,000", "23 s", "130.4/s", "0.87 ✓", "3.2 % ✓", "never", "yes"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want[i])
		}
	}
	auto.stats.Cancels, auto.stats.Goodput = 500000, 500000/time.Minute.Seconds() // 0.83 of --rate 0
	if r := adaptiveRows(&adaptiveResults{noLimit: []*cell{base, auto}}); r[1][5] != "0.83 × `--rate 0` ✗" || r[1][8] != "**no**" {
		t.Errorf("slow auto row = %q", r[1])
	}
	var out strings.Builder
	(&bench{}).printAdaptive(&out, a)
	if !strings.Contains(out.String(), "| 90 % of limit after |") {
		t.Errorf("printAdaptive:\n%s", out.String())
	}
	out.Reset()
	(&bench{}).printAdaptive(&out, nil)
	(&bench{}).printAdaptive(&out, &adaptiveResults{})
	if out.Len() != 0 {
		t.Errorf("printAdaptive without cells:\n%s", out.String())
	}
	good.foreign, bad.foreign, base.foreign, auto.foreign = 0.02, 0.31, 0.05, 0.12
	notes := adaptiveNotes(a)
	if adaptiveNotes(nil) != nil || len(notes) != 3 {
		t.Fatalf("adaptiveNotes = %q", notes)
	}
	if want := "Other processes used 0–31 % of the CPUs during the adaptive cells (5 % during the no-limit `--rate 0` run, 12 % during `--rate auto`)."; notes[1] != want {
		t.Errorf("foreign note = %q, want %q", notes[1], want)
	}
}
