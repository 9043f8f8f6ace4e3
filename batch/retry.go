package batch

import "time"

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
