//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs starts every child process of the benchmark and stops them all at
// the end, on error and on Ctrl-C. Each child leads its own process group,
// so stopping it also stops what it started (xargs's curls), and gets
// SIGKILL if benchtable itself dies.
type procs struct {
	mu   sync.Mutex
	live map[*exec.Cmd]struct{}
}

func newProcs() *procs { return &procs{live: map[*exec.Cmd]struct{}{}} }

// command prepares name with args. Canceling ctx sends SIGTERM to the
// child's process group, then SIGKILL to the child after stopGrace.
func (p *procs) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return signalGroup(cmd, syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	return cmd
}

// stopGrace is how long a child gets to exit after SIGTERM.
const stopGrace = 10 * time.Second

// start starts cmd and tracks it until wait.
func (p *procs) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	p.mu.Lock()
	p.live[cmd] = struct{}{}
	p.mu.Unlock()
	return nil
}

// wait waits for cmd and stops tracking it.
func (p *procs) wait(cmd *exec.Cmd) error {
	err := cmd.Wait()
	p.mu.Lock()
	delete(p.live, cmd)
	p.mu.Unlock()
	return err
}

// run starts cmd and waits for it.
func (p *procs) run(cmd *exec.Cmd) error {
	if err := p.start(cmd); err != nil {
		return err
	}
	return p.wait(cmd)
}

// stop ends cmd: SIGTERM to its group, SIGKILL after stopGrace.
func (p *procs) stop(cmd *exec.Cmd) {
	_ = signalGroup(cmd, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = p.wait(cmd)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopGrace):
		_ = signalGroup(cmd, syscall.SIGKILL)
		<-done
	}
}

// stopAll stops every child still running.
func (p *procs) stopAll() {
	p.mu.Lock()
	cmds := make([]*exec.Cmd, 0, len(p.live))
	for c := range p.live {
		cmds = append(cmds, c)
	}
	p.mu.Unlock()
	for _, c := range cmds {
		p.stop(c)
	}
}

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// usage is what a finished child cost.
type usage struct {
	Wall   time.Duration
	CPU    time.Duration // user + system, children it waited for included
	MaxRSS int64         // bytes
}

func usageOf(cmd *exec.Cmd, wall time.Duration) usage {
	u := usage{Wall: wall}
	if cmd.ProcessState == nil {
		return u
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		u.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return u
}

// fakeServer is one running fakesubverse.
type fakeServer struct {
	b    *bench
	cmd  *exec.Cmd
	Base string // API base URL, e.g. http://127.0.0.1:PORT/api
}

// startFake starts bin/fakesubverse with calls generated calls (the same
// IDs every time: the seed is fixed), writing them to idsOut if it is not
// empty, and waits for its base URL.
func (b *bench) startFake(ctx context.Context, calls int, idsOut string, extra ...string) (*fakeServer, error) {
	args := []string{"--addr", "127.0.0.1:0", "--calls", strconv.Itoa(calls)}
	if idsOut != "" {
		args = append(args, "--ids-out", idsOut)
	}
	args = append(args, extra...)
	cmd := b.procs.command(ctx, b.fakeBin, args...)
	cmd.Env = append(os.Environ(), "SUBVERSE_API_KEY="+apiKey)
	logf, err := os.OpenFile(b.path("fakesubverse.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := b.procs.start(cmd); err != nil {
		return nil, fmt.Errorf("start fakesubverse: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		s, _ := r.ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, r)
	}()
	f := &fakeServer{b: b, cmd: cmd}
	select {
	case s := <-line:
		if !strings.HasPrefix(s, "http://") {
			b.procs.stop(cmd)
			return nil, fmt.Errorf("fakesubverse did not start (see %s)", b.path("fakesubverse.log"))
		}
		f.Base = s
	case <-time.After(10 * time.Minute):
		b.procs.stop(cmd)
		return nil, errors.New("fakesubverse did not print its URL within 10 minutes")
	case <-ctx.Done():
		b.procs.stop(cmd)
		return nil, ctx.Err()
	}
	return f, nil
}

// stop ends the fake.
func (f *fakeServer) stop() { f.b.procs.stop(f.cmd) }

// fakeStats is GET /_fake/stats.
type fakeStats struct {
	Requests        int64      `json:"requests"`
	Cancels         int64      `json:"cancels"`
	MaxInFlight     int64      `json:"max_in_flight"`
	FirstArrival    *time.Time `json:"first_arrival"`
	LastArrival     *time.Time `json:"last_arrival"`
	CancelRequests  int64      `json:"cancel_requests"`
	TooManyRequests int64      `json:"too_many_requests"`
	FirstCancel     *time.Time `json:"first_cancel"`
	LastCancel      *time.Time `json:"last_cancel"`
	Goodput         float64    `json:"goodput"` // calls canceled per second, first to last cancel request
}

// ArrivalRate is (requests-1)/(last arrival - first arrival): the rate
// the server saw, independent of the client's own start and end.
func (s fakeStats) ArrivalRate() float64 {
	if s.Requests < 2 || s.FirstArrival == nil || s.LastArrival == nil {
		return 0
	}
	d := s.LastArrival.Sub(*s.FirstArrival).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(s.Requests-1) / d
}

func (f *fakeServer) stats(ctx context.Context) (fakeStats, error) {
	var st fakeStats
	err := f.getJSON(ctx, "/_fake/stats", &st)
	return st, err
}

// getJSON decodes the inspection route path of the fake into v.
func (f *fakeServer) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.Base+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fake %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fake %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("fake %s: %w", path, err)
	}
	return nil
}

// cpu returns the CPU time the fake has used so far.
func (f *fakeServer) cpu() time.Duration {
	d, _ := procCPU(f.cmd.Process.Pid)
	return d
}
