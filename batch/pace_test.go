package batch

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"
)

func pacerAt(t *testing.T, mutate func(*Config)) (*pacer, time.Time) {
	t.Helper()
	cfg := testConfig()
	cfg.AutoRate = true
	cfg.Concurrency = 8
	if mutate != nil {
		mutate(&cfg)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return newPacer(cfg, t0), t0
}

func ok200() Attempt {
	a := Attempt{HTTPStatus: 200, Verdict: Verdict{Outcome: Canceled, RemovedJobs: 1}, Duration: time.Millisecond}
	a.Quota.Remaining = -1
	return a
}

func status(code int, o Outcome, retryAfter time.Duration) Attempt {
	a := Attempt{HTTPStatus: code, Verdict: Verdict{Outcome: o, RemovedJobs: -1}, RetryAfter: retryAfter}
	a.Quota.Remaining = -1
	return a
}

// exchange sends one request at t and answers it a millisecond later.
func exchange(p *pacer, t time.Time, a Attempt) {
	p.sent(t)
	p.answer(t.Add(time.Millisecond), t, a)
}

// atPace drives a pacer one request at a time, each sent when the pace
// lets it go and answered a millisecond later; a canceled row settles.
type atPace struct {
	p   *pacer
	now time.Time
}

func (d *atPace) step(a Attempt) {
	exchange(d.p, d.now, a)
	if a.Outcome == Canceled {
		d.p.settled()
	}
	r, _ := d.p.status()
	d.now = d.now.Add(time.Duration(float64(time.Second) / r))
}

// good answers every request for span, from the end of any pause.
func (d *atPace) good(span time.Duration) {
	if d.p.pauseUntil.After(d.now) {
		d.now = d.p.pauseUntil
	}
	for end := d.now.Add(span); d.now.Before(end); {
		d.step(ok200())
	}
}

func TestPacerSlowStartRises(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, nil)
	for i := range 100 { // 1 s of good answers at the pace
		exchange(p, t0.Add(time.Duration(i)*10*time.Millisecond), ok200())
	}
	if r, held := p.status(); r < 4*AutoStartRate || held != HeldByNothing {
		t.Errorf("after 1s of good answers: %.1f/s held by %s, want at least 4x the start, rising", r, held)
	}
}

func TestPacerOneCutPerEvent(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 100 })
	for i := range 50 {
		exchange(p, t0.Add(time.Duration(i)*10*time.Millisecond), ok200())
	}
	t1 := t0.Add(500 * time.Millisecond)
	// Three requests sent before the first 429 came back: one event.
	for i := range 3 {
		p.sent(t1.Add(time.Duration(i) * time.Millisecond))
	}
	p.answer(t1.Add(5*time.Millisecond), t1, status(429, RateLimited, 0))
	after, _ := p.status()
	p.answer(t1.Add(6*time.Millisecond), t1.Add(time.Millisecond), status(429, RateLimited, 0))
	p.answer(t1.Add(7*time.Millisecond), t1.Add(2*time.Millisecond), status(429, RateLimited, 0))
	if r, _ := p.status(); r != after || p.cuts != 1 {
		t.Errorf("pushback to requests sent before the cut cut again: %.1f -> %.1f, %d cuts", after, r, p.cuts)
	}
	if after >= 100 || after < MinRate {
		t.Errorf("cut to %.1f/s from 100/s", after)
	}
	// A request sent after the cut that is pushed back is a new event,
	// once the cut is judged: good answers, enough to expect a few 429s
	// had the cut not helped.
	t2 := t1.Add(10 * time.Millisecond)
	for range judgeMaxAnswers {
		exchange(p, t2, ok200())
		t2 = t2.Add(10 * time.Millisecond)
	}
	if p.probe != nil {
		t.Fatalf("the cut was not judged after %d good answers", judgeMaxAnswers)
	}
	after, _ = p.status()
	p.sent(t2)
	p.answer(t2.Add(time.Millisecond), t2, status(503, ServerError, 0))
	if r, _ := p.status(); r >= after || p.cuts != 2 {
		t.Errorf("a new event did not cut: %.1f -> %.1f, %d cuts", after, r, p.cuts)
	}
}

func TestPacerFaultsAreNotPushback(t *testing.T) {
	t.Parallel()
	for _, a := range []Attempt{status(500, ServerError, 0), status(502, ServerError, 0), status(0, TransportError, 0)} {
		p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 100 })
		exchange(p, t0, a)
		if r, _ := p.status(); r != 100 || p.cuts != 0 || p.pauseUntil.After(t0) {
			t.Errorf("HTTP %d %s: pace %.1f, %d cuts", a.HTTPStatus, a.Outcome, r, p.cuts)
		}
	}
}

func TestPacerPauseIsTheLatestNotTheSum(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.MaxBackoff = 20 * time.Second })
	p.answer(t0, t0, status(429, RateLimited, 5*time.Second))
	p.answer(t0.Add(time.Second), t0, status(429, RateLimited, 2*time.Second))
	p.answer(t0.Add(time.Second), t0, status(429, RateLimited, 10*time.Second))
	p.answer(t0.Add(time.Second), t0, status(429, RateLimited, time.Hour)) // capped by MaxBackoff
	if want := t0.Add(21 * time.Second); !p.pauseUntil.Equal(want) {
		t.Errorf("pause until %s, want %s (the latest named, capped)", p.pauseUntil.Sub(t0), want.Sub(t0))
	}
}

func TestPacerHeadersSetThePace(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.MaxRate = 1000 })
	a := ok200()
	a.Quota = Quota{Limit: 300, Window: 2 * time.Second, Remaining: 200, Reset: time.Second}
	exchange(p, t0, a)
	if r, _ := p.status(); r != 150 {
		t.Errorf("pace %.1f/s, want the policy's 300 per 2s", r)
	}
	p2, _ := pacerAt(t, func(c *Config) { c.MaxRate = 50 })
	exchange(p2, t0, a)
	if r, _ := p2.status(); r != 50 {
		t.Errorf("pace %.1f/s above --max-rate 50", r)
	}
	// The policy is the key's: a shard of 4 starts at its quarter, and
	// may rise to the whole (the others may have finished).
	p3, _ := pacerAt(t, func(c *Config) { c.MaxRate, c.Sharers = 1000, 4 })
	exchange(p3, t0, a)
	if r, _ := p3.status(); r != 37.5 || p3.hdrCap != 150 || p3.report().Allowed != 37.5 {
		t.Errorf("a shard of 4: pace %.1f/s, capped at %.1f, allowed %.1f; want 37.5, 150 and its share, 37.5", r, p3.hdrCap, p3.report().Allowed)
	}
	// Alone at the end, it ran at the whole: a new, lower limit keeps it
	// under that, not at a quarter of it, and it was allowed what it ran at.
	p3.set(150)
	b := a
	b.Quota.Limit = 290 // 145/s
	exchange(p3, t0.Add(time.Second), b)
	if r, _ := p3.status(); r != 145 || p3.report().Allowed != 145 {
		t.Errorf("a shard at 150/s told of a limit of 145/s: pace %.1f/s, allowed %.1f; want 145, 145", r, p3.report().Allowed)
	}
	// A shard at --rate 37.5, its share, is allowed that.
	p4, _ := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate, c.Sharers = false, 37.5, 4 })
	exchange(p4, t0, a)
	if r, _ := p4.status(); r != 37.5 || p4.report().Allowed != 37.5 {
		t.Errorf("a shard of 4 at --rate 37.5: pace %.1f/s, allowed %.1f; want 37.5, 37.5", r, p4.report().Allowed)
	}
	// Refused at once, with the quota spent, a shard levels off at its
	// share of the headers' limit rather than cutting blind.
	p5, _ := pacerAt(t, func(c *Config) { c.MaxRate, c.Sharers = 1000, 4 })
	spent := status(429, RateLimited, 0)
	spent.Quota = Quota{Limit: 300, Window: 2 * time.Second, Remaining: 0, Reset: time.Second}
	exchange(p5, t0, spent)
	if r, _ := p5.status(); r != 37.5 || p5.slowStart {
		t.Errorf("a shard of 4 refused at once with the quota spent: pace %.1f/s, slow start %v; want its share, 37.5, levelled off", r, p5.slowStart)
	}
}

func TestPacerConcurrencyBinds(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate, c.Concurrency = false, 1000, 2 })
	// Two requests always in flight, each taking 100 ms: 20/s of 1000/s.
	for i := range 30 {
		at := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		p.sent(at)
		if i >= 2 {
			p.answer(at, at.Add(-100*time.Millisecond), ok200())
		}
	}
	if _, held := p.status(); held != HeldByConcurrency {
		t.Errorf("held by %s, want concurrency", held)
	}
}

func TestParseQuota(t *testing.T) {
	t.Parallel()
	now := time.Unix(2_000_000_000, 0)
	cases := []struct {
		name string
		h    map[string]string
		want Quota
	}{
		{"none", nil, Quota{Remaining: -1}},
		{"draft", map[string]string{"RateLimit": `"default";r=12;t=3`, "RateLimit-Policy": `"default";q=150;w=1`},
			Quota{Limit: 150, Window: time.Second, Remaining: 12, Reset: 3 * time.Second}},
		{"older draft", map[string]string{"RateLimit": "limit=100, remaining=25, reset=5", "RateLimit-Policy": "100;w=60"},
			Quota{Limit: 100, Window: time.Minute, Remaining: 25, Reset: 5 * time.Second}},
		{"split", map[string]string{"RateLimit-Limit": "20", "RateLimit-Remaining": "0", "RateLimit-Reset": "2"},
			Quota{Limit: 20, Remaining: 0, Reset: 2 * time.Second}},
		{"x unix reset", map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "2000000007"},
			Quota{Limit: 60, Remaining: 5, Reset: 7 * time.Second}},
		{"x seconds reset", map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "7"},
			Quota{Limit: 60, Remaining: 5, Reset: 7 * time.Second}},
	}
	for _, tc := range cases {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		if got := ParseQuota(h, now); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// A rise reaches workers already waiting for the limiter: a waiter takes
// its place at the pace of the moment. Places taken up front by 32 idle
// workers at 10/s would reach 3.2 s ahead and keep that pace after a rise
// to 100/s.
func TestPacerRiseReachesWaiters(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	cfg := testConfig()
	cfg.AutoRate, cfg.Rate, cfg.Concurrency = false, 10, 32
	p := newPacer(cfg, clock.Now())
	p.lim.ReserveN(clock.Now(), 1) // the bucket is empty: every waiter waits
	released := make(chan struct{}, 32)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // the waiters still waiting at the end leave
	for range 32 {
		go func() {
			if p.wait(ctx, clock) == nil {
				released <- struct{}{}
			}
		}()
	}
	clock.waitFor(t, 100*time.Millisecond) // a place at 10/s
	p.mu.Lock()
	p.set(100)
	p.mu.Unlock()
	clock.Advance(100 * time.Millisecond)
	// From here each place is 10 ms, at the new pace.
	for range 20 {
		clock.waitFor(t, 10*time.Millisecond)
		clock.Advance(10 * time.Millisecond)
	}
	deadline := time.After(10 * time.Second) // a failure guard, not a wait for time to pass
	for n := range 21 {
		select {
		case <-released:
		case <-deadline:
			t.Fatalf("%d waiters went after the rise, want 21", n)
		}
	}
}

// A ceiling given with AutoRate would be ignored: Validate refuses it, as
// it refuses MaxRate without AutoRate.
func TestValidateRateSettings(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	c.Rate = 50
	if err := c.Validate(); err == nil {
		t.Error("Rate 50 with AutoRate validated")
	}
	c.AutoRate = false
	if err := c.Validate(); err != nil {
		t.Errorf("Rate 50 without AutoRate: %v", err)
	}
	c.MaxRate = 100
	if err := c.Validate(); err == nil {
		t.Error("MaxRate without AutoRate validated")
	}
}

// At a high pace a place due within waitSlack is taken at once: a timer
// for each 0.2 ms place, waited out one after another, wakes late and
// caps the pace (it held a no-limit run to a fifth of --rate 0).
func TestPacerTakesNearPlacesAtOnce(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	cfg := testConfig()
	cfg.AutoRate, cfg.Rate = false, 5000
	p := newPacer(cfg, clock.Now())
	done := make(chan int)
	go func() {
		n := 0
		for ; n < 9; n++ { // places 0.2 ms apart: the ninth is due 1.6 ms ahead
			if err := p.wait(context.Background(), clock); err != nil {
				break
			}
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n != 9 {
			t.Errorf("%d waits", n)
		}
	case d := <-clock.added:
		t.Errorf("a wait for a place %s ahead slept on a timer", d)
	}
}

// The pace rises while answers are good, not while every attempt fails:
// transport failures are no reason to send faster.
func TestPacerNoRiseWithoutAnswers(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, nil)
	refused := status(0, TransportError, 0)
	for i := range 200 { // 2 s of attempts that all fail to connect
		exchange(p, t0.Add(time.Duration(i)*10*time.Millisecond), refused)
	}
	if r, _ := p.status(); r > 2*AutoStartRate {
		t.Errorf("rose to %.1f/s on attempts that got no answer", r)
	}
}

// At the floor an answer comes about once a second, so the last one may
// be older than a second when the next attempt leaves: the pace still
// rises from there once the API stops pushing back.
func TestPacerRisesFromTheFloor(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, nil)
	p.mu.Lock()
	p.set(MinRate) // where pushback left it, slow start on
	p.mu.Unlock()
	d := &atPace{p: p, now: t0}
	for range 10 { // good answers, each sent as the pace lets it go
		d.step(ok200())
	}
	if r, _ := p.status(); r < 4*MinRate {
		t.Errorf("after 10 good answers from the floor the pace is %.1f/s, want it rising from %d/s", r, MinRate)
	}
}

// A bare refusal that comes at the same share after a cut as before it
// is not the API's limit: the cut is undone and that share is noise,
// which later cuts need to rise well above.
func TestPacerUndoesCutThatDidNotHelp(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 100 })
	now := t0
	step := func(i int) {
		a := ok200()
		if i%12 == 11 { // one in twelve refused, whatever the pace
			a = status(503, ServerError, 0)
		}
		exchange(p, now, a)
		r, _ := p.status() // sent at the pace, at most 100/s
		now = now.Add(max(10*time.Millisecond, time.Duration(float64(time.Second)/r)))
	}
	i := 0
	for ; p.cuts == 0 && i < 1000; i++ {
		step(i)
	}
	cut, _ := p.status()
	if p.cuts != 1 || cut >= 100 {
		t.Fatalf("the first refusals did not cut: %.1f/s, %d cuts", cut, p.cuts)
	}
	for ; p.undone == 0 && i < 2000; i++ {
		step(i)
	}
	r := p.report()
	if r.Undone == 0 || r.Noise < 0.05 || r.Noise > 0.12 {
		t.Fatalf("the cut to %.1f/s was not undone as noise: %+v", cut, r)
	}
	if r.Allowed != 0 {
		t.Errorf("the report says the API allowed %.1f/s: it never limited the rate", r.Allowed)
	}
	if r.HeldBy == HeldByAPI {
		t.Errorf("the report says the API's limit held the pace: it has none")
	}
	for end := i + 1000; i < end; i++ { // 10 s more of the same
		step(i)
	}
	if r, _ := p.status(); r < 90 {
		t.Errorf("the pace sank to %.1f/s under refusals that come whatever the pace", r)
	}
	// Refusals well above the noise are congestion again.
	before := p.cuts
	for j := 0; p.cuts == before && j < 200; j++ {
		a := ok200()
		if j%3 == 0 {
			a = status(503, ServerError, 0)
		}
		exchange(p, now, a)
		now = now.Add(10 * time.Millisecond)
	}
	if p.cuts == before {
		t.Errorf("a third of answers refused did not cut with noise at %.1f%%", p.noise*100)
	}
}

// The report names what held the pace longest, not what held it at the
// last moment: at the end of a run the rows run out and nothing does.
func TestPacerReportsWhatHeldLongest(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 100 })
	d := &atPace{p: p, now: t0}
	d.good(time.Second)
	d.step(status(429, RateLimited, time.Second)) // cut under the ceiling
	d.good(5 * time.Second)                       // the API's limit holds it
	for range 10 {                                // the last rows: a send every 100 ms
		exchange(p, d.now, ok200())
		d.now = d.now.Add(100 * time.Millisecond)
	}
	if _, held := p.status(); held != HeldByNothing {
		t.Fatalf("the tail held by %s, want %s: the test shows nothing", held, HeldByNothing)
	}
	if r := p.report(); r.HeldBy != HeldByAPI {
		t.Errorf("report held by %s, want %s: %+v", r.HeldBy, HeldByAPI, p.heldFor)
	}
}

// A --rate N run starts at its ceiling, and the pace does not rise while
// the sends stay under it (the first requests, the last rows): it is held
// by --rate, not "rising", from the first moment to the last.
func TestPacerAtItsCeilingIsHeldByIt(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 100 })
	if _, held := p.status(); held != HeldByRate {
		t.Errorf("before the first request held by %s, want %s", held, HeldByRate)
	}
	now := t0
	for range 200 { // 2 s at the ceiling
		exchange(p, now, ok200())
		now = now.Add(10 * time.Millisecond)
	}
	for range 10 { // the last rows: a send every 100 ms
		exchange(p, now, ok200())
		now = now.Add(100 * time.Millisecond)
	}
	if r, held := p.status(); r != 100 || held != HeldByRate {
		t.Errorf("the tail at %.1f/s held by %s, want 100/s held by %s", r, held, HeldByRate)
	}
	if r := p.report(); r.HeldBy != HeldByRate {
		t.Errorf("report held by %s, want %s: %+v", r.HeldBy, HeldByRate, p.heldFor)
	}
}

// After a cut, probing just above where it levelled off is still the
// API's limit holding the pace, for the bar and the summary alike.
func TestPacerProbingNearTheLimitIsHeldByTheAPI(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 100 })
	d := &atPace{p: p, now: t0}
	for range 100 {
		d.step(ok200())
	}
	d.step(status(429, RateLimited, time.Second)) // the API's word: a cut, no probation
	if p.cuts != 1 {
		t.Fatalf("%d cuts, want 1", p.cuts)
	}
	d.good(12 * time.Second)
	r, held := p.status()
	if r <= p.wmax || r > nearLimit*p.wmax {
		t.Fatalf("pace %.1f/s after 12 s, want probing just above %.1f/s", r, p.wmax)
	}
	if held != HeldByAPI {
		t.Errorf("probing at %.1f/s just above %.1f/s: held by %s, want %s", r, p.wmax, held, HeldByAPI)
	}
}

// Near the end of the rows the pace holds where the API was seen to
// allow: a probe above it would risk a pause for a gain the run has no
// time to use. With many rows left, or none known, it probes as usual.
func TestPacerDoesNotProbeNearTheEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rows  int
		probe bool
	}{
		{"rows unknown", 0, true},
		{"many rows left", 100_000, true},
		{"few rows left", 1500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate, c.Rows = false, 100, tc.rows })
			d := &atPace{p: p, now: t0}
			for range 100 {
				d.step(ok200())
			}
			d.step(status(429, RateLimited, time.Second))
			d.good(15 * time.Second)
			r, _ := p.status()
			if probed := r > p.wmax; probed != tc.probe {
				t.Errorf("pace %.2f/s 15 s after the cut levelled off at %.2f/s, %d rows left: probed %v, want %v", r, p.wmax, p.left, probed, tc.probe)
			}
		})
	}
}

// Pushback to a probe above the level the last cut held, or to a level
// held for a while, is cut gently: the limit lies just under it. Soon
// after a cut, pushback may come of the API's burst alone, and is cut
// deeper.
func TestPacerCutsGentlyWhenTheBurstRanOutSlowly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		after  time.Duration // good answers after the first cut's pause
		probe  bool
		gentle bool
	}{
		{"probe above the level", 17 * time.Second, true, true},
		{"level held for a while", 3 * time.Second, false, true},
		{"soon after the cut", time.Second, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 100 })
			d := &atPace{p: p, now: t0}
			for range 300 {
				d.step(ok200())
			}
			d.step(status(429, RateLimited, time.Second))
			level, _ := p.status()
			if level > cutMost*100 {
				t.Fatalf("pushback at 100/s cut to %.1f/s, want at most %.0f/s", level, cutMost*100)
			}
			d.good(tc.after)
			before, _ := p.status()
			if probed := before > level; probed != tc.probe {
				t.Fatalf("pace %.1f/s %s after the cut to %.1f/s: probed %v, want %v", before, tc.after, level, probed, tc.probe)
			}
			d.step(status(429, RateLimited, time.Second))
			r, _ := p.status()
			if gentle := r >= 0.93*before; gentle != tc.gentle || r >= before {
				t.Errorf("pushback at %.1f/s (level %.1f/s) cut to %.1f/s: gentle %v, want %v", before, level, r, gentle, tc.gentle)
			}
		})
	}
}

// The estimate's span is exact, wherever in its slot of history the cut
// falls: a span of whole slots would be up to a slot short, and a rising
// pace's estimate would move with it.
func TestPacerExactSpan(t *testing.T) {
	t.Parallel()
	for _, phase := range []time.Duration{0, 30 * time.Millisecond, 60 * time.Millisecond, 90 * time.Millisecond} {
		p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 0 })
		end := t0.Add(2*time.Second + phase)
		for now := t0; now.Before(end); now = now.Add(10 * time.Millisecond) {
			exchange(p, now, ok200()) // 100 answers a second
		}
		p.advance(end)
		sends, answers, active := p.exact(500 * time.Millisecond)
		if math.Abs(answers-50) > 1 || math.Abs(sends-50) > 1 || math.Abs(active-0.5) > 0.001 {
			t.Errorf("cut %s into a slot: %.1f sends, %.1f answers over %.3fs active in the last 0.5 s, want 50, 50 and 0.5", phase, sends, answers, active)
		}
	}
}

// A cut on bare refusals that did not lower them enough is undone as
// noise; with others on the same limit, who keep it refusing whatever
// this process does, a cut that lowered the 429s by a third stands.
func TestPacerJudgesACutOnASharedLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		sharers int
		limited int // of the 30 refusals after the cut, 429s (the rest 503s)
		undone  bool
	}{
		{"alone", 1, 30, true},
		{"shared, 429s", 4, 30, false},
		{"shared, 503s", 4, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate, c.Sharers = false, 100, tc.sharers })
			p.set(80)
			// 7.5 % refused before the cut, 5 % after.
			p.probe = &cutProbe{at: t0, share: 0.075, pushes: 30, total: 600, limited: tc.limited, before: paceState{cur: 100}}
			p.judge(t0.Add(2 * time.Second))
			if undone := p.undone > 0; undone != tc.undone {
				t.Errorf("%d sharers, %d of 30 refusals 429s: undone %v, want %v", tc.sharers, tc.limited, undone, tc.undone)
			}
		})
	}
}

// The first doubling from where auto starts comes sooner once the API
// answers; without answers there is nothing to rise on.
func TestPacerFirstDoublingIsQuick(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, nil)
	for i := range 20 { // 0.2 s of good answers
		exchange(p, t0.Add(time.Duration(i)*10*time.Millisecond), ok200())
	}
	if r, _ := p.status(); r < 2*AutoStartRate {
		t.Errorf("%.1f/s after 0.2 s of good answers from %d/s, want doubled", r, AutoStartRate)
	}
}

// At a slow pace 3 answers over 0.3 s give an estimate: a cut made
// without one halves the pace and slow start overshoots again.
func TestPacerEstimatesFromFewAnswersAtASlowPace(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 10 })
	for i := range 4 { // 0.35 s at 10/s
		exchange(p, t0.Add(time.Duration(i)*100*time.Millisecond), ok200())
	}
	p.sent(t0.Add(350 * time.Millisecond))
	p.answer(t0.Add(351*time.Millisecond), t0.Add(350*time.Millisecond), status(429, RateLimited, time.Second))
	if r, _ := p.status(); p.est == 0 || r < 5 {
		t.Errorf("pushback after 4 answers over 0.35 s at 10/s: estimate %.1f/s, cut to %.1f/s; want an estimate and a cut above half", p.est, r)
	}
}

// A 429 inside an HTTP 200 envelope is a 429 to the judgement of a cut on
// a shared limit, as one in the HTTP status is.
func TestPacerCountsEnveloped429s(t *testing.T) {
	t.Parallel()
	enveloped := status(200, RateLimited, 0)
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate, c.Sharers = false, 100, 4 })
	d := &atPace{p: p, now: t0}
	for range 100 {
		d.step(ok200())
	}
	d.step(enveloped) // a bare refusal: a cut on probation
	if p.probe == nil {
		t.Fatalf("an enveloped 429 did not cut on probation: %d cuts", p.cuts)
	}
	d.step(enveloped)
	if pr := p.probe; pr == nil || pr.pushes != 1 || pr.limited != 1 {
		t.Fatalf("after the cut, one enveloped 429: %+v, want it counted as pushback and as a 429", pr)
	}
}

// Against a fixed window longer than the estimate's span, the quota spent
// since the window opened covers all of it and the wait: the estimate
// takes the best span since the last pause, and none across it, where a
// window's quota was spent before.
func TestPacerWindowEstimateStopsAtAPause(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate = false, 1000 })
	window := func(from time.Time) time.Time { // 3 s at 200/s, then a 429 naming 5 s
		now := from
		for range 600 {
			exchange(p, now, ok200())
			now = now.Add(5 * time.Millisecond)
		}
		exchange(p, now, status(429, RateLimited, 5*time.Second))
		return now
	}
	window(t0)
	end := window(t0.Add(8 * time.Second))
	if p.cuts != 2 {
		t.Fatalf("%d cuts, want 2", p.cuts)
	}
	// 600 answers over 3 s and the 4 s the Retry-After surely waits; over
	// the last 2 s alone, 400 over 6 s; across the pause, 1,200 over 10 s.
	if want := 600.0 / 7; math.Abs(p.est-want) > 1 {
		t.Errorf("estimate %.1f/s at %s, want %.1f/s", p.est, end.Sub(t0), want)
	}
}

// A Retry-After's pause is time the API held the pace, for the bar at
// once and for the summary's longest: no tick comes while nothing is
// sent, and the pause used to count for whatever held the pace before it
// (an 8 s pause after 2 s of slow start read "held by: nothing").
func TestPacerPauseIsHeldByTheAPI(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, nil)
	d := &atPace{p: p, now: t0}
	d.good(2 * time.Second)
	d.step(status(429, RateLimited, 8*time.Second))
	if _, held := p.status(); held != HeldByAPI {
		t.Errorf("held by %s as the pause begins, want %s", held, HeldByAPI)
	}
	d.good(3 * time.Second)
	if r := p.report(); r.HeldBy != HeldByAPI || p.heldFor[HeldByAPI] < 8*time.Second {
		t.Errorf("report held by %s, %v: want %s for at least the 8 s pause", r.HeldBy, p.heldFor, HeldByAPI)
	}
}

// A shard refused at once at the end of a pause came back at a pace
// measured while other shards paused: it levels off at its estimate over
// N, where a lone process (far above the limit, it must be) cuts blind
// and starts slow start again.
func TestPacerShardRefusedAtOnceAfterAPause(t *testing.T) {
	t.Parallel()
	for _, sharers := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d sharers", sharers), func(t *testing.T) {
			t.Parallel()
			p, t0 := pacerAt(t, func(c *Config) { c.Sharers = sharers })
			d := &atPace{p: p, now: t0}
			d.good(time.Second)
			d.step(status(429, RateLimited, time.Second))
			est, first := p.est, p.cuts
			if est <= 0 || p.slowStart || first != 1 {
				t.Fatalf("slow start pushed back: estimate %.1f, slow start %v, %d cuts", est, p.slowStart, first)
			}
			// Back at the end of the pause, and refused within 150 ms.
			was, _ := p.status()
			d.good(150 * time.Millisecond)
			d.step(status(429, RateLimited, time.Second))
			got, _ := p.status()
			if p.cuts != 2 {
				t.Fatalf("%d cuts, want 2", p.cuts)
			}
			if sharers == 1 {
				if !p.slowStart || got > was*cutBlind*cutBlindAtOnce+1e-9 && got > AutoStartRate/2 {
					t.Errorf("alone: %.1f -> %.1f/s, slow start %v; want a blind cut and slow start", was, got, p.slowStart)
				}
				return
			}
			if want := math.Max(est/float64(sharers), MinRate); math.Abs(got-want) > 1e-9 || p.slowStart || p.wmax != got {
				t.Errorf("shard: %.1f -> %.1f/s (levels off at %.1f), slow start %v; want %.1f, the estimate %.1f over %d, levelling off there",
					was, got, p.wmax, p.slowStart, want, est, sharers)
			}
		})
	}
}

// A blind cut (far above the limit, refused at once) is one event until
// a request sent after it could have been answered: the first requests
// at the new pace still find the API's bucket emptied by the old one. A
// bare refusal of a request sent later is a new event. A shard's
// refusals may come of the other shards' traffic: each is new.
func TestPacerBlindCutIsOneEventForALatency(t *testing.T) {
	t.Parallel()
	const lat = 50 * time.Millisecond
	for _, sharers := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d sharers", sharers), func(t *testing.T) {
			t.Parallel()
			p, t0 := pacerAt(t, func(c *Config) { c.AutoRate, c.Rate, c.Concurrency, c.Sharers = false, 1000, 64, sharers })
			answerAt := func(sent time.Time, a Attempt) {
				a.Duration = lat
				p.sent(sent)
				p.answer(sent.Add(lat), sent, a)
			}
			// Far above the limit: refused at once, with nothing to
			// estimate from (no answer has come back yet).
			answerAt(t0, status(429, RateLimited, 0))
			if p.cuts != 1 || !p.slowStart {
				t.Fatalf("%d cuts, slow start %v: want one blind cut", p.cuts, p.slowStart)
			}
			cutAt := p.lastCut
			// Sent just after the cut, into the still empty bucket.
			answerAt(cutAt.Add(5*time.Millisecond), status(429, RateLimited, 0))
			if want := map[int]int{1: 1, 4: 2}[sharers]; p.cuts != want {
				t.Errorf("a refusal of a request sent 5 ms after a blind cut: %d cuts, want %d", p.cuts, want)
			}
			// Sent a latency after the cut, when its effect could be seen.
			before := p.cuts
			answerAt(p.lastCut.Add(lat+5*time.Millisecond), status(429, RateLimited, 0))
			if p.cuts != before+1 {
				t.Errorf("a refusal of a request sent a latency after a blind cut did not cut: %d cuts", p.cuts)
			}
		})
	}
}
