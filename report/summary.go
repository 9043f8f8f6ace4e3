package report

import (
	"math"
	"time"

	"github.com/subverseai/bulkcancel/batch"
)

// Summary counts a report's rows.
type Summary struct {
	Total     int                   `json:"total"`
	ByOutcome map[batch.Outcome]int `json:"by_outcome"`
	Final     int                   `json:"final"`
	NotFinal  int                   `json:"not_final"`
	Ambiguous int                   `json:"ambiguous"`
	// AmbiguousNotFinal counts the ambiguous rows that are not final: calls
	// that may already be canceled, which the next --resume treats as
	// possibly sent.
	AmbiguousNotFinal int `json:"ambiguous_not_final"`
	Carried           int `json:"carried"` // rows carried from a resumed report, not sent
	// Unwritten counts rows whose result could not be written to the
	// report (a write failed): they count as not final, whatever their
	// outcome, and are in no by_outcome count. UnwrittenSent counts those
	// of them that were sent, so the API may have canceled their calls.
	Unwritten     int     `json:"unwritten"`
	UnwrittenSent int     `json:"unwritten_sent"`
	Sent          int     `json:"sent"`        // rows this run sent at least once
	Attempts      int     `json:"attempts"`    // requests this run sent
	Retries       int     `json:"retries"`     // attempts after the first, over all rows
	DurationMS    int64   `json:"duration_ms"` // the run's wall-clock time
	AchievedRPS   float64 `json:"achieved_rps"`
	// Rate says how the pace went: start, highest, final, what held it,
	// and the rate the API was seen to allow; nil when nothing was sent.
	Rate *batch.RateReport `json:"rate"`
}

func (s *Summary) init() {
	s.ByOutcome = make(map[batch.Outcome]int, len(batch.Outcomes))
	for _, o := range batch.Outcomes {
		s.ByOutcome[o] = 0
	}
}

func (s *Summary) add(r batch.Result, carried bool) {
	s.ByOutcome[r.Outcome]++
	if r.Final() {
		s.Final++
	}
	if r.Ambiguous {
		s.Ambiguous++
		if !r.Final() {
			s.AmbiguousNotFinal++
		}
	}
	if carried {
		s.Carried++
	}
	s.count(r, carried)
}

// unwritten counts r, which could not be written to the report.
func (s *Summary) unwritten(r batch.Result, carried bool) {
	s.Unwritten++
	if !carried && (r.Attempts > 0 || r.Ambiguous) {
		s.UnwrittenSent++
	}
	s.count(r, carried)
}

// count counts r in the total and, unless it was carried, its requests.
// NotFinal and Retries follow from these counts (see clone).
func (s *Summary) count(r batch.Result, carried bool) {
	s.Total++
	if !carried && r.Attempts > 0 {
		s.Sent++
		s.Attempts += r.Attempts
	}
}

// Finish sets the run's duration and the achieved request rate, to a
// hundredth of a request a second.
func (s *Summary) Finish(d time.Duration) {
	s.DurationMS = d.Milliseconds()
	if d > 0 {
		s.AchievedRPS = math.Round(float64(s.Attempts)/d.Seconds()*100) / 100
	}
}

// clone returns a copy of s with the counts that follow from the others.
func (s Summary) clone() Summary {
	c := s
	c.NotFinal = s.Total - s.Final
	c.Retries = s.Attempts - s.Sent
	c.ByOutcome = make(map[batch.Outcome]int, len(s.ByOutcome))
	for k, v := range s.ByOutcome {
		c.ByOutcome[k] = v
	}
	return c
}
