package batch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

func TestRunMixedStatuses(t *testing.T) {
	t.Parallel()
	for _, env200 := range []bool{false, true} {
		t.Run(map[bool]string{false: "real HTTP status", true: "HTTP 200 envelopes"}[env200], func(t *testing.T) {
			t.Parallel()
			srv, c := startFake(t, fake.Options{Envelope200: env200})
			ids := srv.Seed(300)
			ids = append(ids, "no-such-call-1", "no-such-call-2")
			got, err := runAll(t, context.Background(), testConfig(), c, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				call, _ := srv.Call(r.CallID)
				want := map[fake.Status]Outcome{fake.StatusQueued: Canceled, "": NotFound}[callStatusBefore(call)]
				if want == "" {
					want = NotCancelable
				}
				if r.Outcome != want {
					t.Errorf("%s: %s, want %s (server: %+v)", r.CallID, r.Outcome, want, call)
				}
				if r.Attempts != call.Requests || r.Attempts != 1 {
					t.Errorf("%s: attempts %d, server saw %d", r.CallID, r.Attempts, call.Requests)
				}
				if r.Outcome == Canceled && (call.Cancels != 1 || r.RemovedJobs != 1 || r.HTTPStatus != 200) {
					t.Errorf("%s: canceled row %+v, server %+v", r.CallID, r, call)
				}
				if r.StartedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) {
					t.Errorf("%s: times %v..%v", r.CallID, r.StartedAt, r.FinishedAt)
				}
			}
		})
	}
}

// callStatusBefore is the status a call had before the run: a call the
// run canceled was queued.
func callStatusBefore(c fake.Call) fake.Status {
	if c.Cancels == 1 {
		return fake.StatusQueued
	}
	return c.Status
}

func TestRunRetriesUntilCanceled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		faults    fake.Faults
		ambiguous bool
		want      Outcome
	}{
		{"500", fake.Faults{P500: 1, FirstN: 2}, false, Canceled},
		{"503 with Retry-After", fake.Faults{P503: 1, FirstN: 2, RetryAfter: time.Second}, false, Canceled},
		{"429 with Retry-After", fake.Faults{P429: 1, FirstN: 2, RetryAfter: time.Second}, false, Canceled},
		{"502 HTML page", fake.Faults{PBadGateway: 1, FirstN: 2}, false, Canceled},
		{"dropped before the cancel", fake.Faults{PDropBefore: 1, FirstN: 2}, false, Canceled},
		{"dropped after the cancel", fake.Faults{PDropAfter: 1, FirstN: 1}, true, NotCancelable},
		{"truncated after the cancel", fake.Faults{PTruncated: 1, FirstN: 1}, true, NotCancelable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := startFake(t, fake.Options{Faults: tc.faults})
			srv.Add("q1", fake.StatusQueued)
			srv.Add("q2", fake.StatusQueued)
			got, err := runAll(t, context.Background(), testConfig(), c, []string{"q1", "q2"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				call, _ := srv.Call(r.CallID)
				if r.Outcome != tc.want || r.Ambiguous != tc.ambiguous {
					t.Errorf("%s: %s ambiguous=%v, want %s ambiguous=%v (%s)", r.CallID, r.Outcome, r.Ambiguous, tc.want, tc.ambiguous, r.Error)
				}
				if r.Attempts != call.Requests {
					t.Errorf("%s: attempts %d, server saw %d", r.CallID, r.Attempts, call.Requests)
				}
				if call.Status != fake.StatusCanceled || call.Cancels != 1 {
					t.Errorf("%s: server state %+v", r.CallID, call)
				}
			}
		})
	}
}

func TestRunGivesUpAndNeverRetriesDefinitive(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		faults   fake.Faults
		want     Outcome
		attempts int
	}{
		{"500 every time", fake.Faults{P500: 1}, ServerError, 3},
		{"429 every time", fake.Faults{P429: 1}, RateLimited, 3},
		{"dropped every time", fake.Faults{PDropBefore: 1}, TransportError, 3},
		{"malformed body is not retried", fake.Faults{PMalformed: 1}, UnexpectedResponse, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := startFake(t, fake.Options{Faults: tc.faults})
			srv.Add("q", fake.StatusQueued)
			cfg := testConfig()
			cfg.MaxAttempts = 3
			got, err := runAll(t, context.Background(), cfg, c, []string{"q"})
			if err != nil {
				t.Fatal(err)
			}
			r := got[1]
			call, _ := srv.Call("q")
			if r.Outcome != tc.want || r.Attempts != tc.attempts || call.Requests != tc.attempts {
				t.Errorf("%s after %d attempts (server %d), want %s after %d", r.Outcome, r.Attempts, call.Requests, tc.want, tc.attempts)
			}
			if r.Final() || r.Error == "" {
				t.Errorf("row %+v should be non-final with an error", r)
			}
			if tc.attempts > 1 && !strings.Contains(r.Error, "giving up after 3 attempt(s)") {
				t.Errorf("error %q", r.Error)
			}
		})
	}
}

func TestRunTimeoutAfterSendIsAmbiguous(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{})
	srv.Add("q", fake.StatusQueued)
	srv.SetHook(func(ctx context.Context, id string, n int) {
		if n == 1 {
			<-ctx.Done() // the client times out; the fake then applies the cancel anyway
		}
	})
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	got, err := runAll(t, context.Background(), cfg, c, []string{"q"})
	if err != nil {
		t.Fatal(err)
	}
	r := got[1]
	call, _ := srv.Call("q")
	if call.Cancels != 1 || r.Attempts != 2 || call.Requests != 2 {
		t.Fatalf("row %+v server %+v", r, call)
	}
	// Whichever way the fake handled the timed-out request, the row is
	// settled and says whether our own attempt probably did it.
	switch r.Outcome {
	case NotCancelable:
		if !r.Ambiguous {
			t.Errorf("not_cancelable after a timeout must be ambiguous: %+v", r)
		}
	case Canceled:
		if r.Ambiguous {
			t.Errorf("canceled is never ambiguous")
		}
	default:
		t.Errorf("outcome %s", r.Outcome)
	}
}

func TestRunUnauthorizedStopsAtOnce(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{APIKey: "right"})
	ids := srv.Seed(500)
	const conc = 4
	c := newTestClient(t, base, "wrong", conc)
	cfg := testConfig()
	cfg.Concurrency = conc
	got, err := runAll(t, context.Background(), cfg, c, ids)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	n := countOutcomes(got)
	sent := srv.Stats().Requests
	if sent > conc+2 || int64(n[Unauthorized]) != sent {
		t.Errorf("server saw %d requests, %d unauthorized rows; want at most %d", sent, n[Unauthorized], conc+2)
	}
	if n[NotAttempted] != len(ids)-n[Unauthorized] {
		t.Errorf("outcomes %v", n)
	}
	for _, r := range got {
		if r.Outcome == NotAttempted && (r.Attempts != 0 || !strings.Contains(r.Error, "rejected the key")) {
			t.Errorf("not_attempted row %+v", r)
		}
	}
}

func TestRunFailureRateAborts(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{Faults: fake.Faults{P500: 1}})
	ids := srv.Seed(400)
	cfg := testConfig()
	cfg.MaxAttempts = 2
	cfg.MinSample = 20
	cfg.Concurrency = 4
	got, err := runAll(t, context.Background(), cfg, c, ids)
	if !errors.Is(err, ErrTooManyFailures) {
		t.Fatalf("err = %v, want ErrTooManyFailures", err)
	}
	// When the 20th result trips the rule, up to openRows×Concurrency
	// rows may be open (sent, in flight or waiting out a backoff), the
	// tripping one among them: a loaded machine settles them more slowly
	// (26 were seen under -race).
	n := countOutcomes(got)
	if most := 20 + openRows*cfg.Concurrency - 1; n[ServerError] < 20 || n[ServerError] > most {
		t.Errorf("%d IDs sent before the abort; want 20 to %d", n[ServerError], most)
	}
	if n[ServerError]+n[NotAttempted] != len(ids) {
		t.Errorf("outcomes %v", n)
	}
	attempts := 0
	for _, r := range got {
		attempts += r.Attempts
	}
	if req := srv.Stats().Requests; req != int64(attempts) {
		t.Errorf("server saw %d requests, rows count %d attempts", req, attempts)
	}
}

// TestRunFailureRateIsStrictlyMore: with one worker and every other ID
// failing, failures/sent never exceeds 0.5, so a 0.5 limit lets the run
// finish while 0.49 stops it. not_found is final and never counts.
func TestRunFailureRateIsStrictlyMore(t *testing.T) {
	t.Parallel()
	srv, _ := startFake(t, fake.Options{})
	var ids []string
	for i := range 40 {
		id := fmt.Sprintf("c%02d", i)
		switch i % 4 {
		case 0:
			srv.Add(id, fake.StatusQueued)
		case 2:
			srv.Add(id, "") // not_found: final
		}
		ids = append(ids, id)
	}
	// Odd rows fail with a 500 (the fake answers the even ones).
	fail := map[string]bool{}
	for i, id := range ids {
		if i%2 == 1 {
			fail[id] = true
		}
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail[r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]] {
			w.WriteHeader(500)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := newTestClient(t, ts.URL, testKey, 1)
	for _, tc := range []struct {
		limit float64
		want  error
	}{{0.5, nil}, {0.49, ErrTooManyFailures}} {
		cfg := testConfig()
		cfg.Concurrency = 1
		cfg.MaxAttempts = 1
		cfg.MinSample = 10
		cfg.MaxFailureRate = tc.limit
		_, err := runAll(t, context.Background(), cfg, c, ids)
		if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("limit %g: err = %v, want %v", tc.limit, err, tc.want)
		}
	}
}

func TestRunConcurrencyLimit(t *testing.T) {
	t.Parallel()
	const conc = 5
	srv, c := startFake(t, fake.Options{})
	ids := srv.Seed(60)
	full := make(chan struct{})
	var once sync.Once
	var inflight atomic.Int64
	srv.SetHook(func(ctx context.Context, id string, n int) {
		if inflight.Add(1) == conc {
			once.Do(func() { close(full) })
		}
		<-full // hold the first requests until the pool is full
		inflight.Add(-1)
	})
	cfg := testConfig()
	cfg.Concurrency = conc
	got, err := runAll(t, context.Background(), cfg, c, ids)
	if err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.MaxInFlight != conc {
		t.Errorf("max in flight %d, want exactly %d", st.MaxInFlight, conc)
	}
	if n := countOutcomes(got); n[Canceled]+n[NotCancelable] != len(ids) {
		t.Errorf("outcomes %v", n)
	}
}

func TestRunStopLetsInFlightFinish(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{})
	ids := srv.Seed(100)
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan struct{}, 16)
	release := make(chan struct{})
	srv.SetHook(func(hctx context.Context, id string, n int) {
		held <- struct{}{}
		<-release
	})
	cfg := testConfig()
	cfg.Concurrency = 3
	done := make(chan struct{})
	var got map[int]Result
	var err error
	go func() {
		defer close(done)
		got, err = runAll(t, ctx, cfg, c, ids)
	}()
	for range 3 {
		<-held // three requests are in flight
	}
	cancel()
	close(release)
	<-done
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	n := countOutcomes(got)
	sent := int(srv.Stats().Requests)
	if sent < 3 || sent > 6 || n[NotAttempted] != len(ids)-sent {
		t.Errorf("server saw %d, outcomes %v", sent, n)
	}
	for _, r := range got {
		if r.Attempts > 0 && !r.Final() {
			t.Errorf("in-flight row %d did not finish: %+v", r.Row, r)
		}
	}
}

func TestRunAbandonCancelsInFlight(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{})
	srv.Add("q", fake.StatusQueued)
	held := make(chan struct{})
	srv.SetHook(func(ctx context.Context, id string, n int) {
		close(held)
		<-ctx.Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	abandon := make(chan struct{})
	cfg := testConfig()
	cfg.Abandon = abandon
	go func() {
		<-held
		cancel()
		close(abandon)
	}()
	got, err := runAll(t, ctx, cfg, c, []string{"q"})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v", err)
	}
	if r := got[1]; r.Outcome != TransportError || r.Attempts != 1 {
		t.Errorf("abandoned row %+v", r)
	}
}

// TestRunSinkErrorEndsRun: a sink error stops dispatch at once, but the
// requests in flight finish (none is canceled into a transport error or
// retried) and every row still reaches the sink, so the caller can count
// what it could not record.
func TestRunSinkErrorEndsRun(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{})
	ids := srv.Seed(200)
	boom := errors.New("disk full")
	n, sent, transport := 0, 0, 0
	cfg := testConfig()
	err := Run(context.Background(), cfg, c, jobsOf(ids), func(r Result) error {
		n++
		if r.Attempts > 0 {
			sent++
		}
		if r.Outcome == TransportError {
			transport++
		}
		if n >= 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !errors.Is(err, ErrRecord) {
		t.Fatalf("err = %v", err)
	}
	if n != len(ids) {
		t.Errorf("sink saw %d of %d rows", n, len(ids))
	}
	if got := srv.Stats().Requests; got != int64(sent) || sent > 10+2*cfg.Concurrency || transport > 0 {
		t.Errorf("%d requests, %d rows sent, %d transport errors after the sink failed at row 10", got, sent, transport)
	}
}

// TestRunBeforeSendError: a failing BeforeSend keeps its job unsent and
// stops the run like a sink error.
func TestRunBeforeSendError(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{})
	ids := srv.Seed(100)
	boom := errors.New("journal: no space left on device")
	cfg := testConfig()
	var mu sync.Mutex
	calls := 0
	cfg.BeforeSend = func(j Job) error {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls > 5 {
			return boom
		}
		return nil
	}
	got, err := runAll(t, context.Background(), cfg, c, ids)
	if !errors.Is(err, boom) || !errors.Is(err, ErrRecord) {
		t.Fatalf("err = %v", err)
	}
	if srv.Stats().Requests != 5 || len(got) != len(ids) {
		t.Errorf("%d requests, %d rows", srv.Stats().Requests, len(got))
	}
	for _, r := range got {
		if r.Attempts == 0 && (r.Outcome != NotAttempted || !strings.Contains(r.Error, "report could not be written") && !strings.Contains(r.Error, "journal")) {
			t.Errorf("row %d: %s %q", r.Row, r.Outcome, r.Error)
		}
	}
}

// TestRunSharedPause: one worker's 429 holds back the other worker's next
// attempt until the Retry-After has passed on the (fake) clock.
func TestRunSharedPause(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	releaseB := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		mu.Lock()
		seen[id]++
		n := seen[id]
		mu.Unlock()
		switch {
		case id == "a" && n == 1:
			w.Header().Set("Retry-After", "10")
			w.WriteHeader(429)
			w.Write([]byte(`{"responseCode":429,"message":"Too many requests"}`))
			return
		case id == "b":
			<-releaseB
		}
		w.Write([]byte(`{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`))
	}))
	defer ts.Close()
	c := newTestClient(t, ts.URL, testKey, 2)
	clock := newFakeClock()
	cfg := testConfig()
	cfg.Concurrency = 2
	cfg.Clock = clock
	cfg.MaxBackoff = time.Minute
	cfg.Burst = 10 // the cut after the 429 leaves room for a and c once the pause is over
	done := make(chan error)
	var got map[int]Result
	go func() {
		var err error
		got, err = runAll(t, context.Background(), cfg, c, []string{"a", "b", "c"})
		done <- err
	}()
	clock.waitFor(t, 10*time.Second) // worker A backs off for the Retry-After
	close(releaseB)                  // worker B finishes b and takes c...
	clock.waitFor(t, 10*time.Second) // ...and waits on the shared pause
	mu.Lock()
	if seen["c"] != 0 {
		t.Errorf("c was sent during the pause")
	}
	mu.Unlock()
	clock.Advance(10 * time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got[1].Outcome != Canceled || got[1].Attempts != 2 || got[3].Outcome != Canceled {
		t.Errorf("results %+v", got)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	base, max := 500*time.Millisecond, 60*time.Second
	cases := []struct {
		n          int
		retryAfter time.Duration
		jitter     float64
		want       time.Duration
	}{
		{1, 0, 0, 250 * time.Millisecond},
		{1, 0, 0.999999, 500 * time.Millisecond},
		{2, 0, 0, 500 * time.Millisecond},
		{3, 0, 1, 2 * time.Second},
		{30, 0, 1, max},
		{30, 0, 0, max / 2},
		{1, 5 * time.Second, 0, 5 * time.Second},
		{1, 10 * time.Minute, 0, max},
	}
	for _, tc := range cases {
		got := Backoff(tc.n, base, max, tc.retryAfter, tc.jitter)
		if got < tc.want-time.Millisecond || got > tc.want {
			t.Errorf("Backoff(%d, ra=%s, j=%g) = %s, want %s", tc.n, tc.retryAfter, tc.jitter, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"Sun, 29 Nov 2026 10:00:30 GMT": 30 * time.Second,
		"Sun, 29 Nov 2026 09:00:00 GMT": 0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestRunThirtyPercentMixedFaults: about 30% of first attempts fail in
// mixed ways; every queued call still ends canceled exactly once, every
// row is final, and each row's attempts equal the requests the server saw.
func TestRunThirtyPercentMixedFaults(t *testing.T) {
	t.Parallel()
	faults := fake.Faults{Seed: 11, FirstN: 1, P500: 0.06, P503: 0.06, P429: 0.04, PBadGateway: 0.05,
		PDropBefore: 0.04, PDropAfter: 0.03, PTruncated: 0.02, RetryAfter: time.Second}
	srv, c := startFake(t, fake.Options{Faults: faults})
	ids := srv.Seed(2000)
	queued := map[string]bool{}
	for _, id := range ids {
		if call, _ := srv.Call(id); call.Status == fake.StatusQueued {
			queued[id] = true
		}
	}
	cfg := testConfig()
	cfg.Concurrency = 16
	got, err := runAll(t, context.Background(), cfg, c, ids)
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, r := range got {
		call, _ := srv.Call(r.CallID)
		if !r.Final() {
			t.Errorf("%s: %s (%s)", r.CallID, r.Outcome, r.Error)
		}
		if r.Attempts != call.Requests {
			t.Errorf("%s: attempts %d, server saw %d", r.CallID, r.Attempts, call.Requests)
		}
		if queued[r.CallID] && (call.Status != fake.StatusCanceled || call.Cancels != 1) {
			t.Errorf("queued %s: %+v", r.CallID, call)
		}
		if r.Attempts > 1 {
			retried++
		}
		if r.Ambiguous && r.Outcome != NotCancelable {
			t.Errorf("%s: ambiguous %s", r.CallID, r.Outcome)
		}
	}
	if injected := srv.Stats().Injected; injected < 500 || injected > 700 || int64(retried) != injected {
		t.Errorf("%d faults injected, %d rows retried; want about 600 and equal", injected, retried)
	}
}

func TestRunRecordsTimes(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{Faults: fake.Faults{Latency: 30 * time.Millisecond}})
	srv.Add("q", fake.StatusQueued)
	got, err := runAll(t, context.Background(), testConfig(), c, []string{"q"})
	if err != nil {
		t.Fatal(err)
	}
	r := got[1]
	if d := r.Duration(); d < 30*time.Millisecond || d > 10*time.Second {
		t.Errorf("duration %s for a 30ms answer (%v..%v)", d, r.StartedAt, r.FinishedAt)
	}
	if r.StartedAt.Location() != time.UTC {
		t.Errorf("times not in UTC: %v", r.StartedAt)
	}
}

func TestClientRedactsEchoedKey(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		w.Write([]byte(`{"responseCode":500,"message":"bad key ` + r.Header.Get("x-api-key") + `"}`))
	}))
	defer ts.Close()
	const key = "sk-echo-0123456789"
	c := newTestClient(t, ts.URL, key, 1)
	a := c.Cancel(context.Background(), "x")
	if a.Outcome != ServerError || strings.Contains(a.Message+a.Detail, key) || !strings.Contains(a.Message, "[redacted]") {
		t.Errorf("attempt %+v", a)
	}
}

// The pace is told of each row once it is settled, retries or not, so
// it knows how many rows are left (Config.Rows).
func TestRunTellsThePaceRowsLeft(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{Faults: fake.Faults{P500: 0.3}})
	ids := srv.Seed(50)
	cfg := testConfig()
	cfg.Rows, cfg.Live = len(ids)+7, new(Live)
	got, err := runAll(t, context.Background(), cfg, c, ids)
	if err != nil {
		t.Fatal(err)
	}
	retries := 0
	for _, r := range got {
		retries += r.Attempts - 1
	}
	if left := cfg.Live.pace.Load().left; left != 7 || retries == 0 {
		t.Errorf("%d rows sent with %d retries, told %d: the pace counts %d left, want 7", len(ids), retries, cfg.Rows, left)
	}
}
