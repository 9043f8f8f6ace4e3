package batch

import "time"

// Result is one input row's report line. It is a value: a failure of one
// ID is data here, never a panic or an abort of the run.
type Result struct {
	Row          int     // 1-based data row in the input
	CallID       string  // the trimmed ID
	Outcome      Outcome //
	HTTPStatus   int     // last answer's HTTP status; 0 when none came
	ResponseCode int     // last envelope's responseCode; 0 when none
	Message      string  // last envelope's message
	RemovedJobs  int     // data.removedJobs of the answer; -1 when not known
	Attempts     int     // requests sent for this row, the first included
	Ambiguous    bool    // an attempt (this run's or an earlier run's) may have reached the server and the outcome does not settle whether it canceled the call: on not_cancelable and non-final rows
	StartedAt    time.Time
	FinishedAt   time.Time
	Error        string // why the row is not final, or what went wrong; empty otherwise
}

// Final reports whether the row's outcome settles it.
func (r Result) Final() bool { return r.Outcome.Final() }

// Duration is FinishedAt-StartedAt, or -1 when the row was never started.
func (r Result) Duration() time.Duration {
	if r.StartedAt.IsZero() || r.FinishedAt.IsZero() {
		return -1
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// Job is one ID to send.
type Job struct {
	Row int    // 1-based data row in the input
	ID  string // already validated and deduplicated
	// MaybeSent says an earlier run may already have sent this ID (its
	// dispatch journal names it, or its report row is ambiguous or shows
	// a transport or server error), so a "no longer in queue" answer or a
	// non-final outcome is marked ambiguous.
	MaybeSent bool
}
