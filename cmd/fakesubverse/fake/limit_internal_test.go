package fake

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestClock is a clock for Options.Now and the limiter that moves only
// when told; the server's goroutines may read it while a test moves it.
// The external tests use it too.
type TestClock struct {
	mu sync.Mutex
	t  time.Time
}

func NewTestClock(t time.Time) *TestClock { return &TestClock{t: t} }

func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *TestClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// epoch is a fixed start for the fake clocks, with a fraction of a second.
var epoch = time.Unix(1_800_000_000, 250_000_000)

// step is one request after advancing the clock by wait: what the
// limiter must answer.
type step struct {
	wait       time.Duration
	allowed    bool
	remaining  int64
	retryAfter int64 // whole seconds as Retry-After renders them; refused only
	reset      int64 // T of the headers
}

func TestLimiterSteps(t *testing.T) {
	t.Parallel()
	// drain is k requests at one instant, all let through, the last
	// leaving nothing; reset is the T each shows.
	drain := func(k int, reset int64) []step {
		out := make([]step, k)
		for i := range out {
			out[i] = step{0, true, int64(k - 1 - i), 0, reset}
		}
		return out
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"bucket 150/s burst 15", Limit{RPS: 150, Burst: 15}, append(drain(15, 1),
			step{0, false, 0, 1, 1},                      // empty: a token in 1/150 s, shown as 1
			step{10 * time.Millisecond, true, 0, 0, 1},   // 1.5 tokens: one taken, 0.5 left
			step{0, false, 0, 1, 1},                      // 0.5 left
			step{time.Second, true, 14, 0, 1},            // full again (never above the burst)
			step{200 * time.Millisecond, true, 14, 0, 1}, // refilled to 15 again; one taken
			step{0, true, 13, 0, 1},                      // same instant
			step{10 * time.Second, true, 14, 0, 1},       // idle time does not grow the bucket
			step{time.Second / 150 * 2, true, 14, 0, 1},  // 14 + 2 tokens, capped at 15, one taken
		)},
		{"bucket 0.5/s default burst 1", Limit{RPS: 0.5}, []step{
			{0, true, 0, 0, 2},
			{0, false, 0, 2, 2},                      // a token in 2 s
			{time.Second, false, 0, 1, 1},            // half a token: one more second
			{1500 * time.Millisecond, true, 0, 0, 2}, // 1.25 tokens: 0.25 left, full in 1.5 s
		}},
		{"bucket 1000/s default burst 100", Limit{RPS: 1000}, append(drain(100, 1),
			step{0, false, 0, 1, 1})},
		{"window 150/s over 2 s", Limit{RPS: 150, Window: 2 * time.Second}, append(drain(300, 2),
			step{0, false, 0, 2, 2},
			step{500 * time.Millisecond, false, 0, 2, 2},  // 1.5 s to the reset, rounded up
			step{1200 * time.Millisecond, false, 0, 1, 1}, // 0.3 s left
			step{300 * time.Millisecond, true, 299, 0, 2}, // a new window opens at this request
			step{1999 * time.Millisecond, true, 298, 0, 1},
			step{time.Millisecond, true, 299, 0, 2}, // exactly at its end: the next window
		)},
		{"window below one request", Limit{RPS: 0.3, Window: 2 * time.Second}, []step{
			{0, true, 0, 0, 2},
			{time.Second, false, 0, 1, 1},
			{time.Second, true, 0, 0, 2},
		}},
		{"window 20/s over 1.5 s", Limit{RPS: 20, Window: 1500 * time.Millisecond}, append(drain(30, 2),
			step{100 * time.Millisecond, false, 0, 2, 2}, // 1.4 s left
			step{500 * time.Millisecond, false, 0, 1, 1}, // 0.9 s left
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewTestClock(epoch)
			l := newLimiter(tt.limit, c.Now)
			for i, s := range tt.steps {
				c.Advance(s.wait)
				v, at := l.take()
				if !at.Equal(c.Now()) {
					t.Fatalf("step %d: decided at %v, clock is %v", i, at, c.Now())
				}
				got := step{s.wait, v.allowed, v.remaining, 0, ceilSeconds(v.reset)}
				if !v.allowed {
					if v.retryAfter <= 0 {
						t.Errorf("step %d: refused with a retry-after of %v", i, v.retryAfter)
					}
					got.retryAfter, _ = strconv.ParseInt(retryAfterSeconds(v.retryAfter), 10, 64)
				} else if v.retryAfter != 0 {
					t.Errorf("step %d: allowed with a retry-after of %v", i, v.retryAfter)
				}
				if got != s {
					t.Errorf("step %d: got %+v, want %+v", i, got, s)
				}
			}
		})
	}
}

func TestLimiterHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit Limit
		wait  time.Duration // between the first and second request
		want  map[string]string
	}{
		{"none", Limit{RPS: 150, Burst: 15}, 0, map[string]string{}},
		{"draft bucket", Limit{RPS: 150, Burst: 15, Headers: HeadersDraft}, 0, map[string]string{
			"RateLimit": `"default";r=13;t=1`, "RateLimit-Policy": `"default";q=150;w=1`}},
		{"draft slow bucket", Limit{RPS: 0.25, Burst: 3, Headers: HeadersDraft}, 0, map[string]string{
			"RateLimit": `"default";r=1;t=8`, "RateLimit-Policy": `"default";q=1;w=4`}},
		{"draft window", Limit{RPS: 150, Window: 2 * time.Second, Headers: HeadersDraft}, 500 * time.Millisecond, map[string]string{
			"RateLimit": `"default";r=298;t=2`, "RateLimit-Policy": `"default";q=300;w=2`}},
		{"split bucket", Limit{RPS: 20, Burst: 2, Headers: HeadersSplit}, 0, map[string]string{
			"RateLimit-Limit": "20", "RateLimit-Remaining": "0", "RateLimit-Reset": "1"}},
		{"split window", Limit{RPS: 10, Window: 3 * time.Second, Headers: HeadersSplit}, 1100 * time.Millisecond, map[string]string{
			"RateLimit-Limit": "30", "RateLimit-Remaining": "28", "RateLimit-Reset": "2"}},
		{"x bucket", Limit{RPS: 150, Burst: 15, Headers: HeadersX}, 0, map[string]string{
			"X-RateLimit-Limit": "150", "X-RateLimit-Remaining": "13",
			"X-RateLimit-Reset": "1800000001"}}, // 2/150 s after epoch, rounded up
		{"x window", Limit{RPS: 150, Window: 2 * time.Second, Headers: HeadersX}, time.Second, map[string]string{
			"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "298",
			"X-RateLimit-Reset": "1800000003"}}, // epoch + 2 s = ...002.25, rounded up
	}
	rateHeaders := []string{"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining",
		"RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewTestClock(epoch)
			l := newLimiter(tt.limit, c.Now)
			l.take()
			c.Advance(tt.wait)
			v, at := l.take()
			h := http.Header{}
			l.setHeaders(h, v, at)
			for _, name := range rateHeaders {
				if got, want := h.Get(name), tt.want[name]; got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestLimitValidate(t *testing.T) {
	t.Parallel()
	good := []Limit{{}, {RPS: 150}, {RPS: 150, Burst: 15, Headers: HeadersDraft}, {RPS: 0.1, Window: time.Second},
		{RPS: 5, NoRetryAfter: true, Headers: HeadersX}, {NoRetryAfter: true}, {Headers: HeadersNone}, {RPS: 5, Delayed: true}}
	for _, l := range good {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
	bad := []Limit{{RPS: -1}, {RPS: math.Inf(1)}, {RPS: math.NaN()}, {RPS: 1, Burst: -1}, {RPS: 1, Window: -time.Second},
		{Burst: 3}, {Window: time.Second}, {Headers: HeadersDraft}, {RPS: 1, Burst: 2, Window: time.Second},
		{RPS: 1, Headers: "ietf"}, {Delayed: true}}
	for _, l := range bad {
		if err := l.Validate(); !errors.Is(err, ErrBadLimit) {
			t.Errorf("%+v: Validate = %v, want ErrBadLimit", l, err)
		}
	}
}

func TestLimitDescribed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		l     Limit
		burst int
		q     int64
		w     time.Duration
		text  string
	}{
		{Limit{}, 1, 1, time.Second, "none"},
		{Limit{RPS: 150}, 15, 150, time.Second, "150/s token bucket, burst 15, Retry-After"},
		{Limit{RPS: 5, NoRetryAfter: true}, 1, 5, time.Second, "5/s token bucket, burst 1, no Retry-After"},
		{Limit{RPS: 0.4, Burst: 2}, 2, 1, 3 * time.Second, "0.4/s token bucket, burst 2, Retry-After"},
		{Limit{RPS: 150, Window: 2 * time.Second, Headers: HeadersSplit}, 15, 300, 2 * time.Second,
			"150/s as a 2s fixed window of 300, Retry-After, split headers"},
		{Limit{RPS: 150, Delayed: true}, 15, 150, time.Second, "150/s token bucket, burst 15, Retry-After, 429s after the latency"},
	}
	for _, tt := range tests {
		if b, q, w, s := tt.l.EffectiveBurst(), tt.l.Quota(), tt.l.QuotaWindow(), tt.l.String(); b != tt.burst || q != tt.q || w != tt.w || s != tt.text {
			t.Errorf("%+v: burst %d, quota %d per %v, %q; want %d, %d per %v, %q", tt.l, b, q, w, s, tt.burst, tt.q, tt.w, tt.text)
		}
	}
}

func TestTimelineSlots(t *testing.T) {
	t.Parallel()
	tl := newTimeline(epoch)
	if got := tl.snapshot(); !got.Start.IsZero() || len(got.Requests) != 0 {
		t.Fatalf("empty timeline = %+v", got)
	}
	tl.add(epoch.Add(-time.Second), false) // before the origin: slot 0
	tl.add(epoch.Add(15*time.Millisecond), false)
	tl.add(epoch.Add(19*time.Millisecond), true)
	tl.add(epoch.Add(41*time.Millisecond), true)
	far := time.Duration(chunkSlots+3) * TimelineSlot // in the second chunk
	tl.add(epoch.Add(far), false)
	tl.add(epoch.Add(maxTimelineChunks*chunkSlots*TimelineSlot), false) // past the end: left out
	got := tl.snapshot()
	if !got.Start.Equal(epoch) || got.Slot != TimelineSlot {
		t.Errorf("start %v slot %v, want %v and %v", got.Start, got.Slot, epoch, TimelineSlot)
	}
	if len(got.Requests) != chunkSlots+4 || len(got.Limited) != len(got.Requests) {
		t.Fatalf("%d and %d slots, want %d", len(got.Requests), len(got.Limited), chunkSlots+4)
	}
	wantReq := map[int]int{0: 1, 1: 2, 4: 1, chunkSlots + 3: 1}
	wantLim := map[int]int{1: 1, 4: 1}
	for i := range got.Requests {
		if got.Requests[i] != wantReq[i] || got.Limited[i] != wantLim[i] {
			t.Errorf("slot %d: %d requests, %d limited; want %d, %d", i, got.Requests[i], got.Limited[i], wantReq[i], wantLim[i])
		}
	}
	if adm := got.Admitted(); adm[1] != 1 || adm[4] != 0 || adm[0] != 1 {
		t.Errorf("admitted = %v...", adm[:5])
	}

	late := newTimeline(epoch)
	late.add(epoch.Add(2*time.Second+5*time.Millisecond), false)
	if got := late.snapshot(); !got.Start.Equal(epoch.Add(2*time.Second)) || len(got.Requests) != 1 {
		t.Errorf("timeline starting late = %+v", got)
	}
}
