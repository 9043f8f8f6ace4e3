package batch

import "time"

// Clock is the time source of the engine's waits (backoff and the shared
// 429 pause). Tests pass a fake one so no test sleeps; the rate limiter
// keeps real time.
type Clock interface {
	Now() time.Time
	// After is time.After: a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
