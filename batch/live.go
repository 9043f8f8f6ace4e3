package batch

import (
	"math"
	"sync/atomic"
)

// Live is a run's counters as it goes, for a progress display: set
// Config.Live to one (the zero value is ready) and read it while Run runs
// and after. Its methods are safe for concurrent use.
type Live struct {
	retries, waiting atomic.Int64
	pace             atomic.Pointer[pacer]
}

// LiveStats is one reading of a Live.
type LiveStats struct {
	Retries int64   // attempts that were followed by a retry
	Waiting int64   // rows waiting out a backoff before their next attempt
	Rate    float64 // the pace now, requests a second; +Inf when there is none
	HeldBy  HeldBy  // what holds the pace
}

// Stats reads the counters now.
func (l *Live) Stats() LiveStats {
	s := LiveStats{Retries: l.retries.Load(), Waiting: l.waiting.Load(),
		Rate: math.Inf(1), HeldBy: HeldByNothing}
	if p := l.pace.Load(); p != nil {
		s.Rate, s.HeldBy = p.status()
	}
	return s
}

// Rate says how the pace went; it is complete once Run has returned.
func (l *Live) Rate() RateReport {
	if p := l.pace.Load(); p != nil {
		return p.report()
	}
	return RateReport{HeldBy: HeldByNothing}
}
