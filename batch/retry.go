package batch

import "time"

// Backoff is the wait before attempt n+1 after attempt n (n >= 1) failed
// in a retryable way: base doubled per attempt, with jitter taking it to
// between half and all of that, at least retryAfter when the answer asked
// for it, and never more than ceiling. jitter is a number in [0, 1).
func Backoff(n int, base, ceiling, retryAfter time.Duration, jitter float64) time.Duration {
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	d = d/2 + time.Duration(jitter*float64(d/2))
	return min(max(d, retryAfter), ceiling)
}
