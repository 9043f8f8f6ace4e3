//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// apiKey is the key the fake accepts and every client sends.
const apiKey = "bench-key"

// runResult is one client run against one fresh fake.
type runResult struct {
	usage
	Rows     int           // rows (bulkcancel) or requests (wrk, curl) the client handled
	Exit     int           // the client's exit status
	Stats    fakeStats     // the fake's counters after the run
	FakeCPU  time.Duration // CPU the fake used during the run
	Busy     time.Duration // CPU the whole machine used during the run
	Start    time.Time     // just before the client was started
	WrkRPS   float64       // wrk's own Requests/sec line
	WrkNote  string        // wrk's socket errors, if any
	ReportOK bool          // bulkcancel wrote PREFIX.csv and PREFIX.json
}

// RowsPerSec is rows over the client's whole wall time.
func (r runResult) RowsPerSec() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Wall.Seconds()
}

// ClientCPUPerRow is the client's CPU time per row or request.
func (r runResult) ClientCPUPerRow() time.Duration {
	if r.Rows == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Rows)
}

// FakeCPUPerRequest is the fake's CPU time per request it served.
func (r runResult) FakeCPUPerRequest() time.Duration {
	if r.Stats.Requests == 0 {
		return 0
	}
	return r.FakeCPU / time.Duration(r.Stats.Requests)
}

// Foreign is the share of all CPUs used by processes other than the
// client and the fake during the run: other work on the machine.
func (r runResult) Foreign(cpus int) float64 {
	if r.Wall <= 0 || cpus <= 0 {
		return 0
	}
	f := float64(r.Busy-r.CPU-r.FakeCPU) / (float64(r.Wall) * float64(cpus))
	return max(f, 0)
}

// idsPath is the input with n generated calls: call_id,status, the
// fake's own list, so every ID exists in a fake started with --calls n.
func (b *bench) idsPath(n int) string { return b.path(fmt.Sprintf("ids-%d.csv", n)) }

// queuedPath is the input with n generated calls all in call_in_queue,
// those of a fake started with --calls n --calls-status call_in_queue.
func (b *bench) queuedPath(n int) string { return b.path(fmt.Sprintf("queued-%d.csv", n)) }

// freshFake starts a fake with n calls, writing the IDs file the first
// time. The fake's seed is fixed, so every fake with n calls holds the
// same IDs in the same states.
func (b *bench) freshFake(ctx context.Context, n int, extra ...string) (*fakeServer, error) {
	return b.freshFakeIDs(ctx, n, b.idsPath(n), extra...)
}

// freshQueuedFake is freshFake with every call in call_in_queue, so each
// cancel request that is let through cancels a call.
func (b *bench) freshQueuedFake(ctx context.Context, n int, extra ...string) (*fakeServer, error) {
	return b.freshFakeIDs(ctx, n, b.queuedPath(n), append([]string{"--calls-status", "call_in_queue"}, extra...)...)
}

// freshFakeIDs starts a fake with n calls and the extra flags, writing
// its calls to ids the first time.
func (b *bench) freshFakeIDs(ctx context.Context, n int, ids string, extra ...string) (*fakeServer, error) {
	out := ""
	if _, err := os.Stat(ids); err != nil {
		out = ids + ".tmp"
	}
	f, err := b.startFake(ctx, n, out, extra...)
	if err != nil {
		return nil, err
	}
	if out != "" {
		if err := os.Rename(out, ids); err != nil {
			f.stop()
			return nil, err
		}
	}
	return f, nil
}

// bulkOpts are the bulkcancel flags of one measurement.
type bulkOpts struct {
	name  string // report and log name
	input string
	rows  int
	args  []string
}

// bulkCommand is bin/bulkcancel against f on input with the flags every
// measurement shares, --report prefix (a report left there by an earlier
// run removed) and args.
func (b *bench) bulkCommand(ctx context.Context, f *fakeServer, prefix string, args []string, input string) *exec.Cmd {
	removeReport(prefix)
	all := append([]string{"--base-url", f.Base, "--yes", "--progress", "off", "--log-level", "warn",
		"--report", prefix}, args...)
	cmd := b.procs.command(ctx, b.bulkBin, append(all, input)...)
	cmd.Env = append(os.Environ(), "SUBVERSE_API_KEY="+apiKey)
	return cmd
}

// removeReport deletes the report (and a dispatch journal a killed run
// left) bulkcancel wrote with --report prefix.
func removeReport(prefix string) {
	for _, ext := range []string{".csv", ".json", ".journal"} {
		_ = os.Remove(prefix + ext)
	}
}

// runBulk runs bin/bulkcancel against f and collects what it cost.
func (b *bench) runBulk(ctx context.Context, f *fakeServer, o bulkOpts) (runResult, error) {
	prefix := b.path("reports", o.name)
	cmd := b.bulkCommand(ctx, f, prefix, o.args, o.input)
	logf, err := os.Create(b.path("logs", o.name+".log"))
	if err != nil {
		return runResult{}, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf

	r, err := b.timed(cmd, f)
	r.Rows = o.rows
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Exit = ee.ExitCode()
	case err != nil:
		return r, fmt.Errorf("bulkcancel: %w", err)
	}
	if r.Stats, err = f.stats(ctx); err != nil {
		return r, err
	}
	_, e1 := os.Stat(prefix + ".csv")
	_, e2 := os.Stat(prefix + ".json")
	r.ReportOK = e1 == nil && e2 == nil
	if !b.cfg.keep {
		removeReport(prefix)
	}
	if r.Exit != 0 || !r.ReportOK {
		return r, fmt.Errorf("bulkcancel %s exited %d (report written: %v); see %s", o.name, r.Exit, r.ReportOK,
			b.path("logs", o.name+".log"))
	}
	return r, nil
}

// wrkScript walks the IDs of the file given after "--", each of wrk's
// threads taking every nthreads-th ID, and starts again from the first
// when they run out (those answers are "no longer in queue").
const wrkScript = `-- written by cmd/benchtable
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  local path, key, nthreads = args[1], args[2], tonumber(args[3])
  ids = {}
  local f = assert(io.open(path, "r"))
  local i = -1
  for line in f:lines() do
    if i >= 0 and i % nthreads == tid then
      ids[#ids + 1] = line:match("^([^,]*)")
    end
    i = i + 1
  end
  f:close()
  pos = 0
  hdrs = { ["x-api-key"] = key }
  prefix = wrk.path .. "/call/cancel/"
end
function request()
  pos = pos + 1
  if pos > #ids then pos = 1 end
  return wrk.format("PUT", prefix .. ids[pos], hdrs)
end
`

var (
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkRequests = regexp.MustCompile(`(?m)^\s*([0-9]+) requests in `)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors:.*$`)
)

// parseWrk reads requests/s, the request count and any socket errors
// from wrk's output.
func parseWrk(out string) (rps float64, requests int, note string, err error) {
	m := wrkRPS.FindStringSubmatch(out)
	n := wrkRequests.FindStringSubmatch(out)
	if m == nil || n == nil {
		return 0, 0, "", errors.New("wrk output has no Requests/sec line")
	}
	rps, _ = strconv.ParseFloat(m[1], 64)
	requests, _ = strconv.Atoi(n[1])
	if s := wrkSocket.FindString(out); s != "" {
		note = strings.TrimSpace(s)
	}
	return rps, requests, note, nil
}

// runWrk runs wrk -t2 with conns connections for d against f, walking
// the IDs in ids.
func (b *bench) runWrk(ctx context.Context, f *fakeServer, ids string, conns int, d time.Duration, name string) (runResult, error) {
	script := b.path("walk.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return runResult{}, err
	}
	threads := 2
	cmd := b.procs.command(ctx, b.wrkBin, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(int(d.Seconds()))+"s", "-s", script, f.Base, "--", ids, apiKey, strconv.Itoa(threads))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	r, err := b.timed(cmd, f)
	_ = os.WriteFile(b.path("logs", name+".log"), []byte(out.String()), 0o644)
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	if err != nil {
		return r, fmt.Errorf("wrk: %w: %s", err, lastLines(out.String(), 3))
	}
	if r.WrkRPS, r.Rows, r.WrkNote, err = parseWrk(out.String()); err != nil {
		return r, fmt.Errorf("%w: %s", err, lastLines(out.String(), 3))
	}
	r.Stats, err = f.stats(ctx)
	return r, err
}

// runCurl runs xargs -P conns curl -X PUT over the first n IDs of ids.
func (b *bench) runCurl(ctx context.Context, f *fakeServer, ids string, n, conns int) (runResult, error) {
	sample := b.path(fmt.Sprintf("sample-%d.txt", n))
	if err := firstIDs(ids, sample, n); err != nil {
		return runResult{}, err
	}
	in, err := os.Open(sample)
	if err != nil {
		return runResult{}, err
	}
	defer in.Close()
	cmd := b.procs.command(ctx, b.xargsBin, "-P", strconv.Itoa(conns), "-I{}",
		b.curlBin, "-s", "-o", "/dev/null", "-X", "PUT", "-H", "x-api-key: "+apiKey, f.Base+"/call/cancel/{}")
	var out strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &out, &out
	r, err := b.timed(cmd, f) // xargs waits for every curl: their CPU is in its usage
	r.Rows = n
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	if err != nil {
		return r, fmt.Errorf("xargs curl: %w: %s", err, lastLines(out.String(), 3))
	}
	r.Stats, err = f.stats(ctx)
	return r, err
}

// firstIDs writes the first n IDs of a call_id,status file, one a line.
func firstIDs(src, dst string, n int) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	sc.Scan() // header
	for i := 0; i < n && sc.Scan(); i++ {
		id, _, _ := strings.Cut(sc.Text(), ",")
		w.WriteString(id)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	if err := sc.Err(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// path joins elements under the output directory, creating the parent.
func (b *bench) path(elem ...string) string {
	p := filepath.Join(append([]string{b.out}, elem...)...)
	_ = os.MkdirAll(filepath.Dir(p), 0o755)
	return p
}

// timed runs cmd to its end and measures it: wall time, its own CPU and
// memory, the fake's CPU and the whole machine's busy time meanwhile.
func (b *bench) timed(cmd *exec.Cmd, f *fakeServer) (runResult, error) {
	var r runResult
	fakeCPU0, busy0 := f.cpu(), readCPUTimes()
	r.Start = time.Now()
	err := b.procs.run(cmd)
	wall := time.Since(r.Start)
	r.Busy = readCPUTimes().busy - busy0.busy
	r.FakeCPU = f.cpu() - fakeCPU0
	r.usage = usageOf(cmd, wall)
	return r, err
}
