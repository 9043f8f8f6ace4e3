package batch

import (
	"math"
	"runtime/metrics"
	"time"
)

// schedProbe measures how long this process's runnable goroutines wait
// for a CPU: the part of a request's latency that is the tool's own
// queueing, not the API's. It is not safe for concurrent use.
type schedProbe struct {
	sample []metrics.Sample
	prev   []uint64
	at     time.Time
	delay  time.Duration
}

const schedMetric = "/sched/latencies:seconds"

// delayAt returns the mean scheduling delay since the reading before,
// read again at most every 200 ms.
func (s *schedProbe) delayAt(now time.Time) time.Duration {
	if !s.at.IsZero() && now.Sub(s.at) < 200*time.Millisecond {
		return s.delay
	}
	s.at = now
	if s.sample == nil {
		s.sample = []metrics.Sample{{Name: schedMetric}}
	}
	metrics.Read(s.sample)
	if s.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := s.sample[0].Value.Float64Histogram()
	var n uint64
	var sum float64
	for i, c := range h.Counts {
		d := c
		if i < len(s.prev) {
			d -= s.prev[i]
		}
		if d == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		if math.IsInf(lo, -1) { // the open-ended end buckets: their finite edge
			lo = hi
		}
		if math.IsInf(hi, 1) {
			hi = lo
		}
		sum += float64(d) * (lo + hi) / 2
		n += d
	}
	s.prev = append(s.prev[:0], h.Counts...)
	if n > 0 {
		s.delay = time.Duration(sum / float64(n) * float64(time.Second))
	}
	return s.delay
}
