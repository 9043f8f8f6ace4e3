package fake_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// newFakeClock is a TestClock at a whole second.
func newFakeClock() *fake.TestClock { return fake.NewTestClock(time.Unix(1_800_000_000, 0).UTC()) }

const bodyLimited = `{"responseCode":429,"message":"Too many requests, please try again later.","data":null}`

func TestLimitAnswers(t *testing.T) {
	t.Parallel()
	for _, env200 := range []bool{false, true} {
		clk := newFakeClock()
		s, base := faketest.StartFake(t, fake.Options{Envelope200: env200, Now: clk.Now,
			Limit: fake.Limit{RPS: 2, Burst: 2, Headers: fake.HeadersDraft}})
		s.Add("a", fake.StatusQueued)
		s.Add("b", fake.StatusQueued)
		s.Add("c", fake.StatusQueued)
		for _, id := range []string{"a", "b"} {
			r := cancel(t, base, id)
			if r.code != 200 || r.body != bodyCanceled || r.header.Get("RateLimit-Policy") != `"default";q=2;w=1` {
				t.Errorf("cancel %s = %d %s %v", id, r.code, r.body, r.header)
			}
		}
		r := cancel(t, base, "c")
		wantCode := 429
		if env200 {
			wantCode = 200
		}
		if r.code != wantCode || r.body != bodyLimited || r.header.Get("Retry-After") != "1" ||
			r.header.Get("RateLimit") != `"default";r=0;t=1` || r.header.Get("Content-Type") == "" {
			t.Errorf("envelope200 %v: limited cancel = %d %s %v", env200, r.code, r.body, r.header)
		}
		if c, _ := s.Call("c"); c.Status != fake.StatusQueued || c.Requests != 1 || c.Cancels != 0 {
			t.Errorf("a refused cancel changed the call: %+v", c)
		}
		clk.Advance(500 * time.Millisecond) // one token
		if r := cancel(t, base, "c"); r.code != 200 || r.body != bodyCanceled || r.header.Get("RateLimit") != `"default";r=0;t=1` {
			t.Errorf("after a token came: %d %s %v", r.code, r.body, r.header)
		}
		st := s.Stats()
		if st.CancelRequests != 4 || st.Limited != 1 || st.TooManyRequests != 1 || st.Cancels != 3 || st.Injected != 0 {
			t.Errorf("stats = %+v", st)
		}
		if !st.FirstCancel.Equal(time.Unix(1_800_000_000, 0)) || st.LastCancel.Sub(st.FirstCancel) != 500*time.Millisecond {
			t.Errorf("cancel arrivals %v .. %v", st.FirstCancel, st.LastCancel)
		}
		if g := st.Goodput(); g != 6 {
			t.Errorf("Goodput = %v, want 3 calls / 0.5 s", g)
		}
	}
}

// TestLimitComesFirst: a refused request meets neither the key check, nor
// the faults, nor the hook, nor the latency.
func TestLimitComesFirst(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s, base := faketest.StartFake(t, fake.Options{Now: clk.Now, Limit: fake.Limit{RPS: 1, NoRetryAfter: true},
		Faults: fake.Faults{P500: 1}})
	s.Add("q", fake.StatusQueued)
	hooked := make(chan int, 10)
	s.SetHook(func(_ context.Context, _ string, n int) { hooked <- n })
	if r := cancel(t, base, "q"); r.code != 500 {
		t.Fatalf("first request = %d %s, want the injected 500", r.code, r.body)
	}
	s.SetFaults(fake.Faults{P500: 1, Latency: time.Hour}) // a refused request never waits for it
	for _, k := range []string{key, "wrong", ""} {
		r := do(t, http.MethodPut, base, "/call/cancel/q", k, "")
		if r.code != 429 || r.body != bodyLimited || r.header.Get("Retry-After") != "" {
			t.Errorf("key %q: %d %s %v, want 429 without Retry-After", k, r.code, r.body, r.header)
		}
	}
	if r, _ := send(context.Background(), http.MethodPut, base, "/call/cancel/bad%zzescape", key, ""); r.code != 400 {
		t.Errorf("a path net/http refuses = %d", r.code)
	}
	if len(hooked) != 1 {
		t.Errorf("hook ran %d times, want once (for the request let through)", len(hooked))
	}
	st := s.Stats()
	if st.Injected != 1 || st.AuthFailures != 0 || st.Limited != 3 || st.TooManyRequests != 3 || st.CancelRequests != 4 {
		t.Errorf("stats = %+v", st)
	}
	if c, _ := s.Call("q"); c.Requests != 4 || c.Status != fake.StatusQueued {
		t.Errorf("call = %+v, want 4 requests and still queued", c)
	}
}

// TestLimitDelayedWaitsOutTheLatency: with Limit.Delayed a refused request
// is answered only after the latency, as across a network; the limit
// still refuses it at arrival.
func TestLimitDelayedWaitsOutTheLatency(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s, base := faketest.StartFake(t, fake.Options{Now: clk.Now, Limit: fake.Limit{RPS: 1, Delayed: true}})
	s.Add("q", fake.StatusQueued)
	if r := cancel(t, base, "q"); r.code != 200 {
		t.Fatalf("first request = %d %s, want it let through", r.code, r.body)
	}
	s.SetFaults(fake.Faults{Latency: time.Hour})
	ctx, stop := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer stop()
	if r, err := send(ctx, http.MethodPut, base, "/call/cancel/q", key, ""); err == nil {
		t.Errorf("a refused request was answered (%d %s) before an hour's latency", r.code, r.body)
	}
	if st := s.Stats(); st.Limited != 1 || st.CancelRequests != 2 {
		t.Errorf("stats = %+v, want the second request refused at arrival", st)
	}
	// With a latency it can wait out, the 429 comes, no sooner.
	const lat = 50 * time.Millisecond
	s.SetFaults(fake.Faults{Latency: lat})
	start := time.Now()
	if r := cancel(t, base, "q"); r.code != 429 || r.body != bodyLimited || r.header.Get("Retry-After") == "" {
		t.Errorf("refused request = %d %s %v, want the limit's 429 with Retry-After", r.code, r.body, r.header)
	}
	if d := time.Since(start); d < lat {
		t.Errorf("the 429 came after %v, before the %v latency", d, lat)
	}
}

func TestLimitInjected429Counted(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{Faults: fake.Faults{P429: 1, RetryAfter: 2 * time.Second}})
	r := cancel(t, base, "x")
	if r.code != 429 || r.header.Get("Retry-After") != "2" {
		t.Errorf("injected 429 = %d %v", r.code, r.header)
	}
	if st := s.Stats(); st.TooManyRequests != 1 || st.Limited != 0 || st.Injected != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestLimitHeaderStylesOverHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		style fake.HeaderStyle
		want  map[string]string
	}{
		{fake.HeadersSplit, map[string]string{"RateLimit-Limit": "300", "RateLimit-Remaining": "299", "RateLimit-Reset": "2"}},
		{fake.HeadersX, map[string]string{"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "1800000002"}},
	}
	for _, tt := range tests {
		clk := newFakeClock()
		_, base := faketest.StartFake(t, fake.Options{Now: clk.Now,
			Limit: fake.Limit{RPS: 150, Window: 2 * time.Second, Headers: tt.style}})
		// Even an answer that is not a cancel carries them.
		r := cancel(t, base, "unknown")
		if r.code != 400 {
			t.Errorf("%s: %d %s", tt.style, r.code, r.body)
		}
		for k, v := range tt.want {
			if got := r.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tt.style, k, got, v)
			}
		}
	}
}

func TestSetLimit(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s, base := faketest.StartFake(t, fake.Options{Now: clk.Now})
	if got := s.Limit(); got != (fake.Limit{Headers: fake.HeadersNone}) {
		t.Errorf("Limit() = %+v", got)
	}
	if err := s.SetLimit(fake.Limit{RPS: -3}); err == nil {
		t.Error("SetLimit accepted a negative rate")
	}
	want := fake.Limit{RPS: 0.001, Headers: fake.HeadersNone}
	if err := s.SetLimit(fake.Limit{RPS: 0.001}); err != nil || s.Limit() != want {
		t.Fatalf("SetLimit: %v, Limit() = %+v", err, s.Limit())
	}
	if r := cancel(t, base, "a"); r.code != 400 {
		t.Errorf("first = %d", r.code)
	}
	if r := cancel(t, base, "a"); r.code != 429 || r.header.Get("Retry-After") != "1000" {
		t.Errorf("second = %d %v", r.code, r.header)
	}
	var lim map[string]any
	get(t, base, "/_fake/limit", &lim)
	if lim["rps"] != 0.001 || lim["burst"] != 1.0 || lim["window"] != "0s" || lim["retry_after"] != true || lim["headers"] != "none" || lim["latency"] != false {
		t.Errorf("GET /_fake/limit = %v", lim)
	}
	if err := s.SetLimit(fake.Limit{}); err != nil {
		t.Fatal(err)
	}
	if r := cancel(t, base, "a"); r.code != 400 {
		t.Errorf("after removing the limit = %d", r.code)
	}
	if err := s.SetLimit(fake.Limit{RPS: 5, Window: time.Second, NoRetryAfter: true, Headers: fake.HeadersX, Delayed: true}); err != nil {
		t.Fatal(err)
	}
	get(t, base, "/_fake/limit", &lim)
	if lim["burst"] != 0.0 || lim["window"] != "1s" || lim["retry_after"] != false || lim["headers"] != "x" || lim["latency"] != true {
		t.Errorf("GET /_fake/limit = %v", lim)
	}
}

func TestNewPanicsOnABadLimit(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New accepted a burst without a rate")
		}
	}()
	fake.New(fake.Options{Limit: fake.Limit{Burst: 4}})
}

func TestTimelineAndStatsRoutes(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s, base := faketest.StartFake(t, fake.Options{Now: clk.Now, Limit: fake.Limit{RPS: 1, Burst: 1}})
	var tl map[string]any
	get(t, base, "/_fake/timeline", &tl)
	if tl["start"] != nil || tl["slot"] != "10ms" || len(tl["requests"].([]any)) != 0 {
		t.Errorf("empty timeline = %v", tl)
	}
	s.Add("q", fake.StatusQueued)
	clk.Advance(25 * time.Millisecond)
	cancel(t, base, "q")
	cancel(t, base, "q") // limited
	clk.Advance(20 * time.Millisecond)
	cancel(t, base, "q") // limited
	if r, err := send(context.Background(), http.MethodPost, base, "/call/trigger", key, `{}`); err != nil || r.code != 200 {
		t.Fatalf("trigger = %v %v", r, err)
	}

	got := s.Timeline()
	start := time.Unix(1_800_000_000, 20_000_000)
	if !got.Start.Equal(start) || got.Slot != fake.TimelineSlot {
		t.Errorf("Timeline start %v slot %v, want %v", got.Start, got.Slot, start)
	}
	if want := []int{2, 0, 1}; !slices.Equal(got.Requests, want) {
		t.Errorf("requests = %v, want %v", got.Requests, want)
	}
	if want := []int{1, 0, 1}; !slices.Equal(got.Limited, want) {
		t.Errorf("limited = %v, want %v", got.Limited, want)
	}
	var wire struct {
		Start    time.Time `json:"start"`
		Slot     string    `json:"slot"`
		Requests []int     `json:"requests"`
		Limited  []int     `json:"limited"`
	}
	get(t, base, "/_fake/timeline", &wire)
	if !wire.Start.Equal(start) || !slices.Equal(wire.Requests, got.Requests) || !slices.Equal(wire.Limited, got.Limited) {
		t.Errorf("GET /_fake/timeline = %+v", wire)
	}

	var st map[string]any
	get(t, base, "/_fake/stats", &st)
	for k, want := range map[string]any{"requests": 4.0, "cancel_requests": 3.0, "too_many_requests": 2.0,
		"limited": 2.0, "cancels": 1.0, "first_cancel": "2027-01-15T08:00:00.025Z",
		"last_cancel": "2027-01-15T08:00:00.045Z", "goodput": 50.0} {
		if st[k] != want {
			t.Errorf("stats %s = %v (%T), want %v", k, st[k], st[k], want)
		}
	}

	s.ResetStats()
	if st := s.Stats(); st.CancelRequests != 0 || st.Limited != 0 || st.TooManyRequests != 0 || !st.FirstCancel.IsZero() {
		t.Errorf("after ResetStats: %+v", st)
	}
	if got := s.Timeline(); len(got.Requests) != 0 {
		t.Errorf("timeline after ResetStats = %+v", got)
	}
}

// TestLimitUnderLoad: many goroutines at one instant get exactly the burst.
func TestLimitUnderLoad(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	s, base := faketest.StartFake(t, fake.Options{Now: clk.Now, Limit: fake.Limit{RPS: 100, Burst: 7}})
	ids := s.SeedStatus(40, fake.StatusQueued)
	var wg sync.WaitGroup
	codes := make(chan int, len(ids))
	for _, id := range ids {
		wg.Go(func() { // not the test's goroutine: no t.Fatal here
			r, err := send(context.Background(), http.MethodPut, base, "/call/cancel/"+url.PathEscape(id), key, "")
			if err != nil {
				t.Error(err)
			}
			codes <- r.code
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[200] != 7 || count[429] != 33 {
		t.Errorf("answers = %v, want 7 × 200 and 33 × 429", count)
	}
	if st := s.Stats(); st.Cancels != 7 || st.Limited != 33 {
		t.Errorf("stats = %+v", st)
	}
	if tl := s.Timeline(); len(tl.Requests) != 1 || tl.Requests[0] != 40 || tl.Limited[0] != 33 {
		t.Errorf("timeline = %+v", tl)
	}
}
