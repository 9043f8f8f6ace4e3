package batch

import (
	"context"
	"sync"
	"time"
)

// Backoff is the wait before attempt n+1 after attempt n (n >= 1) failed
// in a retryable way: base doubled per attempt, with jitter taking it to
// between half and all of that, at least retryAfter when the answer asked
// for it, and never more than max. jitter is a number in [0, 1).
func Backoff(n int, base, max, retryAfter time.Duration, jitter float64) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	d = d/2 + time.Duration(jitter*float64(d/2))
	if retryAfter > d {
		d = retryAfter
	}
	if d > max {
		d = max
	}
	return d
}

// pause is the slowdown every worker consults before an attempt: a 429 or
// a Retry-After seen by one worker holds back new attempts of all of them
// until it has passed. It is safe for concurrent use.
type pause struct {
	mu    sync.Mutex
	until time.Time
}

// extend makes the pause last at least until t.
func (p *pause) extend(t time.Time) {
	p.mu.Lock()
	if t.After(p.until) {
		p.until = t
	}
	p.mu.Unlock()
}

// wait returns once the pause has passed, or ctx's error if ctx ends first.
func (p *pause) wait(ctx context.Context, clock Clock) error {
	for {
		p.mu.Lock()
		d := p.until.Sub(clock.Now())
		p.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(d):
		}
	}
}
