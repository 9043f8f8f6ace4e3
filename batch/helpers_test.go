package batch

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// testKey is the key the tests' clients send; a fake accepts it unless
// its options say another.
const testKey = fake.DefaultAPIKey

// startFake serves a fake API and returns it with a client pointed at it.
func startFake(t *testing.T, opts fake.Options) (*fake.Server, *Client) {
	t.Helper()
	srv, base := faketest.StartFake(t, opts)
	return srv, newTestClient(t, base, testKey, 8)
}

func newTestClient(t *testing.T, base, key string, concurrency int) *Client {
	t.Helper()
	u, err := ParseBaseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(NewHTTPClient(concurrency), u, key)
}

// testConfig is DefaultConfig made fast: no rate limit, no real waits.
func testConfig() Config {
	c := DefaultConfig()
	c.AutoRate, c.Rate = false, 0
	c.Timeout = 5 * time.Second
	c.Clock = &instantClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.Jitter = func() float64 { return 0.5 }
	return c
}

// runAll runs jobs and returns the results by row, failing the test on a
// row reported twice.
func runAll(t *testing.T, ctx context.Context, cfg Config, c *Client, ids []string) (map[int]Result, error) {
	t.Helper()
	got := map[int]Result{}
	err := Run(ctx, cfg, c, jobsOf(ids), func(r Result) error {
		if _, dup := got[r.Row]; dup {
			t.Errorf("row %d reported twice", r.Row)
		}
		got[r.Row] = r
		return nil
	})
	if len(got) != len(ids) {
		t.Errorf("%d results for %d jobs", len(got), len(ids))
	}
	return got, err
}

// jobsOf is ids as jobs, rows numbered from 1.
func jobsOf(ids []string) func(yield func(Job) bool) {
	return func(yield func(Job) bool) {
		for i, id := range ids {
			if !yield(Job{Row: i + 1, ID: id}) {
				return
			}
		}
	}
}

func countOutcomes(rs map[int]Result) map[Outcome]int {
	m := map[Outcome]int{}
	for _, r := range rs {
		m[r.Outcome]++
	}
	return m
}

// envelopeFile is one file of testdata/envelopes.
type envelopeFile struct {
	name string
	body []byte
}

// readEnvelopes reads every file of testdata/envelopes, in name order.
func readEnvelopes(tb testing.TB) []envelopeFile {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "envelopes", "*"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no envelope files in testdata/envelopes: %v", err)
	}
	envs := make([]envelopeFile, len(files))
	for i, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		envs[i] = envelopeFile{filepath.Base(p), b}
	}
	return envs
}

// instantClock is virtual time that jumps ahead by every wait asked of
// it, so each wait ends at once and the shared pause is seen as passed.
type instantClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// fakeClock moves only when Advance is called. Waiting reports each new
// waiter on the channel returned by Waiters.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
	added   chan time.Duration
}

type clockWaiter struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), added: make(chan time.Duration, 64)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := make(chan time.Time, 1)
	if d <= 0 {
		c <- f.now
		return c
	}
	f.waiters = append(f.waiters, clockWaiter{f.now.Add(d), c})
	f.added <- d
	return c
}

// Advance moves the clock and fires the waits that are due.
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.Slice(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	keep := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			keep = append(keep, w)
			continue
		}
		w.c <- f.now
	}
	f.waiters = keep
}

// waitFor blocks until a waiter asks for exactly d, or fails the test.
func (f *fakeClock) waitFor(t *testing.T, d time.Duration) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-f.added:
			if got == d {
				return
			}
		case <-timeout:
			t.Fatalf("no wait of %s was asked for", d)
		}
	}
}
