//go:build linux

package main

// The adaptive-rate cells: bulkcancel against a fake that plays the API's
// own rate limit, against a fake without one (does finding the rate cost
// throughput?), and four shards sharing one limit. Every cell runs the real
// binary against a fresh fakesubverse and is cut off after a bounded time.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The targets of the adaptive cells.
const (
	targetGoodput = 0.90            // goodput / limit
	target429     = 5.0             // percent of requests
	targetRamp    = 5 * time.Second // to 90 % of the limit
	rampShare     = 0.90            // the share of the limit the ramp is timed to
	targetNoLimit = 0.90            // --rate auto / --rate 0 without a limit
	targetShards  = 0.85            // four shards' goodput / limit
)

// The bulkcancel settings every limited cell runs with.
const (
	cellConcurrency = 32
	cellAttempts    = 20
	noLimitConns    = 64
	shardCount      = 4
	cutoffFactor    = 3 // a cell is cut off after this many times its ideal time
)

// limitKind is one limit the fake plays in the limited cells.
type limitKind struct {
	name   string  // for -limits and file names
	what   string  // for the table
	rps    float64 // --limit
	burst  int     // --limit-burst; 0 with a window
	window time.Duration
	noRA   bool // --limit-retry-after=false
	calls  int  // queued calls, all in the input
}

var limitKinds = []limitKind{
	{name: "bucket", what: "150/s token bucket, burst 15, `Retry-After: 1`", rps: 150, burst: 15, calls: 3000},
	{name: "window", what: "150/s as a 2 s fixed window, `Retry-After` = time to its reset", rps: 150, window: 2 * time.Second, calls: 3000},
	{name: "no-retry-after", what: "150/s token bucket, burst 15, no `Retry-After`", rps: 150, burst: 15, noRA: true, calls: 3000},
	{name: "slow", what: "20/s token bucket, burst 2", rps: 20, burst: 2, calls: 600},
	{name: "fast", what: "1,000/s token bucket, burst 100", rps: 1000, burst: 100, calls: 30000},
}

// fakeArgs are the fakesubverse flags of the limit.
func (k limitKind) fakeArgs() []string {
	args := []string{"--limit", strconv.FormatFloat(k.rps, 'f', -1, 64)}
	if k.window > 0 {
		args = append(args, "--limit-window", k.window.String())
	} else {
		args = append(args, "--limit-burst", strconv.Itoa(k.burst))
	}
	if k.noRA {
		args = append(args, "--limit-retry-after=false")
	}
	return args
}

// sized returns k with its calls scaled for -quick.
func (k limitKind) sized(quick bool) limitKind {
	if quick {
		k.calls /= 4
	}
	return k
}

// ideal is the time the calls take at exactly the limit.
func (k limitKind) ideal() time.Duration {
	return time.Duration(float64(k.calls) / k.rps * float64(time.Second))
}

// rateSetting is one --rate of the limited cells: auto, a multiple of
// the limit (7x) or a number.
type rateSetting struct {
	text  string  // as given
	times float64 // > 0: this many times the limit; else text is the --rate value
}

func parseRateSetting(s string) (rateSetting, error) {
	s = strings.TrimSpace(s)
	r := rateSetting{text: s}
	if s == "auto" {
		return r, nil
	}
	m, multiple := strings.CutSuffix(s, "x")
	f, err := strconv.ParseFloat(m, 64)
	if err != nil || !(f >= 0) || multiple && f == 0 {
		return rateSetting{}, fmt.Errorf("%q: want auto, a multiple of the limit such as 7x, or a number", s)
	}
	if multiple {
		r.times = f
	}
	return r, nil
}

// arg is the --rate value against a limit of rps, with auto sent as
// autoRate.
func (r rateSetting) arg(rps float64, autoRate string) string {
	switch {
	case r.times > 0:
		return strconv.FormatFloat(r.times*rps, 'f', -1, 64)
	case r.text == "auto":
		return autoRate
	}
	return r.text
}

// cell is one adaptive measurement: one or more bulkcancel processes
// against one fresh fake.
type cell struct {
	name     string // file names
	what     string // the limit or setting, for the table
	rate     string // the --rate value
	limit    float64
	calls    int
	procs    int
	cutoff   time.Duration
	runs     []procRun
	cutOff   bool
	wall     time.Duration // from the start to the last process's exit
	stats    fakeStats
	timeline timeline
	refused  string  // bulkcancel refused its flags: its message
	foreign  float64 // share of all CPUs other processes used meanwhile
}

// procRun is one bulkcancel process of a cell.
type procRun struct {
	exit    int
	message string // the last log line's message, for a refusal or an abort
}

// Canceled is the calls the fake canceled.
func (c *cell) Canceled() int64 { return c.stats.Cancels }

// Goodput is calls canceled per second from the first to the last
// request's arrival at the fake, as the fake counts it.
func (c *cell) Goodput() float64 { return c.stats.Goodput }

// Pct429 is the share of cancel requests answered 429, in percent.
func (c *cell) Pct429() float64 {
	if c.stats.CancelRequests == 0 {
		return 0
	}
	return float64(c.stats.TooManyRequests) / float64(c.stats.CancelRequests) * 100
}

// Ramp is the time from the first request until the requests the limit
// let through in a sliding second first reached rampShare of the limit.
func (c *cell) Ramp() (time.Duration, bool) {
	if c.stats.FirstCancel == nil {
		return 0, false
	}
	return rampTime(c.timeline, *c.stats.FirstCancel, rampShare*c.limit)
}

// Exits describes the processes' exit statuses when one is not 0.
func (c *cell) Exits() string {
	var notes []string
	for i, r := range c.runs {
		if r.exit == 0 || c.cutOff && (r.exit == 143 || r.exit == -1) {
			continue // a cut-off's SIGTERM or SIGKILL is said once, as "cut off"
		}
		who := "exit"
		if len(c.runs) > 1 {
			who = fmt.Sprintf("shard %d exit", i)
		}
		note := fmt.Sprintf("%s %d", who, r.exit)
		switch r.exit {
		case 1:
			note += " (rows not final)"
		case 3:
			note += " (aborted: " + r.message + ")"
		}
		notes = append(notes, note)
	}
	return strings.Join(notes, "; ")
}

// timeline is GET /_fake/timeline.
type timeline struct {
	Start    *time.Time `json:"start"`
	SlotText string     `json:"slot"`
	Requests []int      `json:"requests"`
	Limited  []int      `json:"limited"`
}

// slot is the width of one slot.
func (t timeline) slot() time.Duration {
	d, _ := time.ParseDuration(t.SlotText)
	return d
}

// rampTime returns how long after first the requests let through (not
// answered 429 by the limit) in a sliding one-second window of tl first
// reached target; false if they never did.
func rampTime(tl timeline, first time.Time, target float64) (time.Duration, bool) {
	slot := tl.slot()
	if tl.Start == nil || slot <= 0 || len(tl.Limited) != len(tl.Requests) {
		return 0, false
	}
	width := int(time.Second / slot)
	sum := 0
	for i := range tl.Requests {
		sum += tl.Requests[i] - tl.Limited[i]
		if i >= width {
			sum -= tl.Requests[i-width] - tl.Limited[i-width]
		}
		if float64(sum) >= target {
			end := tl.Start.Add(time.Duration(i+1) * slot)
			return max(end.Sub(first), 0), true
		}
	}
	return 0, false
}

func (f *fakeServer) timeline(ctx context.Context) (timeline, error) {
	var tl timeline
	err := f.getJSON(ctx, "/_fake/timeline", &tl)
	return tl, err
}

// adaptiveResults are the adaptive cells that ran.
type adaptiveResults struct {
	limited []*cell
	noLimit []*cell // --rate 0 first, then --rate auto
	shards  *cell
}

// empty reports whether no adaptive cell ran; a is nil when no adaptive
// section was selected.
func (a *adaptiveResults) empty() bool {
	return a == nil || len(a.limited) == 0 && len(a.noLimit) == 0 && a.shards == nil
}

// measureAdaptive runs the adaptive sections that are selected. A cell
// whose bulkcancel refuses its flags is reported and the others still run.
func (b *bench) measureAdaptive(ctx context.Context, res *results) error {
	c := b.cfg
	res.adaptive = &adaptiveResults{}
	a := res.adaptive
	if c.runs("limit") {
		for _, k := range c.limitKinds {
			k = k.sized(c.quick)
			for _, r := range c.rates {
				rate := r.arg(k.rps, c.autoRate)
				cl := &cell{name: "limit-" + k.name + "-rate-" + strings.ReplaceAll(r.text, ".", "_"), what: k.what,
					rate: rate, limit: k.rps, calls: k.calls, procs: 1, cutoff: cutoffFactor * k.ideal()}
				b.logf("limit %s: bulkcancel --rate %s --concurrency %d --max-attempts %d on %s queued calls (cut off after %s)",
					k.what, rate, cellConcurrency, cellAttempts, thousands(k.calls), cl.cutoff)
				if err := b.runCell(ctx, cl, k.fakeArgs(), nil); err != nil {
					return err
				}
				a.limited = append(a.limited, cl)
			}
		}
	}
	if c.runs("nolimit") {
		for _, rate := range []string{"0", c.autoRate} {
			cl := &cell{name: "nolimit-rate-" + rate, what: fmt.Sprintf("no limit, %s API latency", msText(c.noLimitLatency)),
				rate: rate, calls: c.noLimitCalls, procs: 1, cutoff: c.noLimitFor}
			b.logf("no limit, %s latency: bulkcancel --rate %s --concurrency %d for %s on up to %s queued calls",
				msText(c.noLimitLatency), rate, noLimitConns, c.noLimitFor, thousands(c.noLimitCalls))
			err := b.runCell(ctx, cl, []string{"--latency", c.noLimitLatency.String()},
				[]string{"--concurrency", strconv.Itoa(noLimitConns)})
			if err != nil {
				return err
			}
			a.noLimit = append(a.noLimit, cl)
		}
	}
	if c.runs("shards") {
		k := limitKinds[0].sized(c.quick)
		cl := &cell{name: "shards", what: fmt.Sprintf("%d × `--shard K/%d` at once, %s", shardCount, shardCount, k.what),
			rate: c.autoRate, limit: k.rps, calls: k.calls, procs: shardCount, cutoff: cutoffFactor * k.ideal()}
		b.logf("shards: %d bulkcancel --shard K/%d --rate %s at once against %s, %s queued calls",
			shardCount, shardCount, c.autoRate, k.what, thousands(k.calls))
		if err := b.runCell(ctx, cl, k.fakeArgs(), nil); err != nil {
			return err
		}
		a.shards = cl
	}
	return nil
}

// runCell starts a fresh fake with cl.calls queued calls and the extra
// fake flags, runs cl.procs bulkcancel processes at once on them (process
// K with --shard K/procs when there are several), cuts them off after
// cl.cutoff, and reads the fake's stats and timeline. Only an interrupt or
// a broken harness is an error; a refusal is recorded in cl.
func (b *bench) runCell(ctx context.Context, cl *cell, fakeExtra, bulkExtra []string) error {
	f, err := b.freshQueuedFake(ctx, cl.calls, fakeExtra...)
	if err != nil {
		return err
	}
	defer f.stop()
	input := b.queuedPath(cl.calls)

	cctx, cancel := context.WithTimeout(ctx, cl.cutoff)
	defer cancel()
	cmds := make([]*exec.Cmd, cl.procs)
	logs := make([]string, cl.procs)
	prefixes := make([]string, cl.procs)
	for i := range cmds {
		name := cl.name
		if cl.procs > 1 {
			name = fmt.Sprintf("%s-%d", cl.name, i)
		}
		prefixes[i], logs[i] = b.path("reports", name), b.path("logs", name+".log")
		args := []string{"--rate", cl.rate, "--concurrency", strconv.Itoa(cellConcurrency),
			"--max-attempts", strconv.Itoa(cellAttempts)}
		args = append(args, bulkExtra...) // a later --concurrency wins
		if cl.procs > 1 {
			args = append(args, "--shard", fmt.Sprintf("%d/%d", i, cl.procs))
		}
		cmd := b.bulkCommand(cctx, f, prefixes[i], args, input)
		logf, err := os.Create(logs[i])
		if err != nil {
			return err
		}
		defer logf.Close()
		outf, err := os.Create(b.path("logs", name+".out"))
		if err != nil {
			return err
		}
		defer outf.Close()
		cmd.Stdout, cmd.Stderr = outf, logf // the summary apart from the log
		cmds[i] = cmd
	}

	busy0, fakeCPU0 := readCPUTimes(), f.cpu()
	start := time.Now()
	var wg sync.WaitGroup
	startErr := make([]error, len(cmds))
	for i, cmd := range cmds {
		if startErr[i] = b.procs.start(cmd); startErr[i] != nil {
			continue
		}
		wg.Go(func() { _ = b.procs.wait(cmd) })
	}
	wg.Wait()
	cl.wall = time.Since(start)
	// The processes together as one client, for runResult.Foreign.
	all := runResult{usage: usage{Wall: cl.wall}, Busy: readCPUTimes().busy - busy0.busy, FakeCPU: f.cpu() - fakeCPU0}
	for _, cmd := range cmds {
		all.CPU += usageOf(cmd, 0).CPU
	}
	cl.foreign = all.Foreign(runtime.NumCPU())
	cl.cutOff = errors.Is(cctx.Err(), context.DeadlineExceeded)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	for i, cmd := range cmds {
		if startErr[i] != nil {
			return fmt.Errorf("start bulkcancel: %w", startErr[i])
		}
		r := procRun{exit: cmd.ProcessState.ExitCode()}
		if r.exit != 0 {
			r.message = lastMessage(logs[i])
		}
		if r.exit == 2 && cl.refused == "" {
			cl.refused = r.message
			b.logf("bulkcancel refused `--rate %s` in %s (exit 2): %s", cl.rate, cl.name, r.message)
			if strings.Contains(r.message, "auto") || strings.Contains(r.message, "max-rate") {
				b.logf("this bulkcancel has no adaptive rate (--rate auto); the cell is marked not run")
			}
		}
		cl.runs = append(cl.runs, r)
	}
	if !b.cfg.keep {
		for _, p := range prefixes {
			removeReport(p)
		}
	}
	if cl.stats, err = f.stats(ctx); err != nil {
		return err
	}
	if cl.timeline, err = f.timeline(ctx); err != nil {
		return err
	}
	if cl.refused != "" {
		b.failed = append(b.failed, fmt.Sprintf("%s: bulkcancel refused --rate %s: %s", cl.name, cl.rate, cl.refused))
	}
	return nil
}

// lastMessage is the message of the last error line of a bulkcancel JSON
// log, else of its last line.
func lastMessage(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	var last, lastError string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		last = s
		var j struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(s), &j) == nil && j.Level == "error" {
			lastError = s
		}
	}
	if lastError != "" {
		return logMessage(lastError)
	}
	return logMessage(last)
}

// logMessage is the message of one log line: the "message" field of a
// JSON line, else the line itself.
func logMessage(line string) string {
	var j struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal([]byte(line), &j) == nil && j.Message != "" {
		if j.Error != "" {
			return j.Message + ": " + j.Error
		}
		return j.Message
	}
	if line == "" {
		return "(empty log)"
	}
	return line
}

// perSec writes a rate: a tenth below 1,000/s, whole above.
func perSec(v float64) string {
	if v >= 1000 {
		return thousands(int(math.Round(v))) + "/s"
	}
	return fmt.Sprintf("%.1f/s", v)
}

// msText writes d in milliseconds, e.g. "5 ms".
func msText(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + " ms"
}

// mark is a figure with its pass or miss mark.
func mark(text string, ok bool) string {
	if ok {
		return text + " ✓"
	}
	return text + " ✗"
}

// notRun ends the row of a cell whose bulkcancel refused its flags.
var notRun = []string{"not run: bulkcancel refused the flags (exit 2)", "", "", "", "", "", "**no**"}

// adaptiveRows builds the adaptive table: one row per cell.
func adaptiveRows(a *adaptiveResults) [][]string {
	var rows [][]string
	limited := func(cl *cell, share float64, rampTarget bool) []string {
		r := []string{cl.what, "`" + cl.rate + "`"}
		if cl.refused != "" {
			return append(r, notRun...)
		}
		canceled := fmt.Sprintf("%s of %s", thousands(int(cl.Canceled())), thousands(cl.calls))
		took := secs(cl.wall)
		if cl.cutOff {
			took = "cut off at " + secs(cl.cutoff)
		}
		if e := cl.Exits(); e != "" {
			took += " (" + e + ")"
		}
		ratio := cl.Goodput() / cl.limit
		okRatio := ratio >= share
		pct := cl.Pct429()
		ok429 := pct <= target429
		ramp, reached := cl.Ramp()
		rampText := "never"
		if reached {
			rampText = secs(ramp)
		}
		okRamp := reached && ramp <= targetRamp
		rampCell := mark(rampText, okRamp)
		if !rampTarget {
			rampCell = rampText
			okRamp = true
		}
		return append(r, canceled, took, perSec(cl.Goodput()), mark(fmt.Sprintf("%.2f", ratio), okRatio),
			mark(fmt.Sprintf("%.1f %%", pct), ok429), rampCell, yesNo(okRatio && ok429 && okRamp))
	}
	for _, cl := range a.limited {
		rows = append(rows, limited(cl, targetGoodput, true))
	}
	if len(a.noLimit) == 2 {
		base, auto := a.noLimit[0], a.noLimit[1]
		for _, cl := range a.noLimit {
			r := []string{cl.what + fmt.Sprintf(", `--concurrency %d`", noLimitConns), "`" + cl.rate + "`"}
			if cl.refused != "" {
				rows = append(rows, append(r, notRun...))
				continue
			}
			took := secs(cl.wall)
			if cl.cutOff {
				took = fmt.Sprintf("%s (stopped, as planned)", secs(cl.cutoff))
			}
			ratio, met := "reference", "–"
			if cl == auto && base.refused == "" && base.Goodput() > 0 {
				x := auto.Goodput() / base.Goodput()
				ratio = mark(fmt.Sprintf("%.2f × `--rate 0`", x), x >= targetNoLimit)
				met = yesNo(x >= targetNoLimit)
			}
			rows = append(rows, append(r, thousands(int(cl.Canceled())), took, perSec(cl.Goodput()), ratio,
				fmt.Sprintf("%.1f %%", cl.Pct429()), "", met))
		}
	}
	if a.shards != nil {
		rows = append(rows, limited(a.shards, targetShards, false))
	}
	return rows
}

// printAdaptive writes the adaptive table, if any adaptive cell ran.
func (b *bench) printAdaptive(w io.Writer, a *adaptiveResults) {
	if a.empty() {
		return
	}
	fmt.Fprintf(w, "\nAdaptive rate: bulkcancel `--concurrency %d --max-attempts %d` against a fake that plays the API's limit (429 beyond it)\n\n",
		cellConcurrency, cellAttempts)
	header := []string{"limit", "`--rate`", "calls canceled", "time", "goodput", "goodput / limit", "429s of requests", "90 % of limit after", "met"}
	writeMarkdown(w, header, adaptiveRows(a))
}

// adaptiveNotes explain the adaptive table.
func adaptiveNotes(a *adaptiveResults) []string {
	if a.empty() {
		return nil
	}
	return []string{
		fmt.Sprintf("Adaptive rate targets: goodput ≥ %.2f of the limit, 429s ≤ %g %% of requests, %g %% of the limit within %s of the first request; "+
			"without a limit `--rate auto` ≥ %.2f × `--rate 0` (its goodput / limit column compares the two); %d shards together ≥ %.2f of the limit with 429s ≤ %g %%. ✓ met, ✗ missed.",
			targetGoodput, target429, rampShare*100, secs(targetRamp), targetNoLimit, shardCount, targetShards, target429),
		foreignNote(a),
		fmt.Sprintf("Adaptive rate figures: every call in the input is queued; goodput is calls canceled / (the fake's last − first request arrival); "+
			"\"90 %% of limit after\" runs from the first request to the end of the first %s slot where the requests the limit let through in the second before reached 90 %% of it. "+
			"A limited cell is cut off after %d × its ideal time (calls / limit); the no-limit runs stop after a fixed time on a longer list.", fakeSlotText, cutoffFactor),
	}
}

// foreignNote says how much CPU other processes took during the adaptive
// cells: the no-limit comparison in particular is only fair when it was
// about the same for both runs.
func foreignNote(a *adaptiveResults) string {
	var all []float64
	for _, cl := range append(append(slices.Clone(a.limited), a.noLimit...), a.shards) {
		if cl != nil && cl.refused == "" {
			all = append(all, cl.foreign*100)
		}
	}
	if len(all) == 0 {
		return "Adaptive rate: no cell ran."
	}
	s := fmt.Sprintf("Other processes used %.0f–%.0f %% of the CPUs during the adaptive cells", slices.Min(all), slices.Max(all))
	if len(a.noLimit) == 2 && a.noLimit[0].refused == "" && a.noLimit[1].refused == "" {
		s += fmt.Sprintf(" (%.0f %% during the no-limit `--rate %s` run, %.0f %% during `--rate %s`)",
			a.noLimit[0].foreign*100, a.noLimit[0].rate, a.noLimit[1].foreign*100, a.noLimit[1].rate)
	}
	return s + "."
}

// fakeSlotText is the fake's timeline resolution, for the notes.
const fakeSlotText = "10 ms"
