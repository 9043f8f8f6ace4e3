package batch

import "slices"

// Outcome is what happened to one input row. The set of outcomes and their
// meaning are part of the external contract: they are the report's outcome
// column, which --resume and the user's scripts read, so none is renamed
// or given another meaning.
type Outcome string

// The outcomes a row can end with.
const (
	Canceled           Outcome = "canceled"            // the API canceled the call
	NotCancelable      Outcome = "not_cancelable"      // "no longer in queue"
	NotFound           Outcome = "not_found"           // "call not found"
	InvalidID          Outcome = "invalid_id"          // not a call ID (not sent), or the API says the id is missing
	Duplicate          Outcome = "duplicate"           // the same ID appeared on an earlier row (not sent)
	Unauthorized       Outcome = "unauthorized"        // the key was rejected; the run aborts
	RateLimited        Outcome = "rate_limited"        // 429 still after the last attempt
	ServerError        Outcome = "server_error"        // 5xx still after the last attempt
	TransportError     Outcome = "transport_error"     // connection, TLS or timeout failure after the last attempt
	UnexpectedResponse Outcome = "unexpected_response" // anything else
	NotAttempted       Outcome = "not_attempted"       // the run stopped before this ID was sent
	DryRun             Outcome = "dry_run"             // --dry-run: would be sent
)

// Outcomes lists every outcome in the order the summary prints them.
var Outcomes = []Outcome{
	Canceled, NotCancelable, NotFound, InvalidID, Duplicate,
	Unauthorized, RateLimited, ServerError, TransportError, UnexpectedResponse,
	NotAttempted, DryRun,
}

// Final reports whether the outcome settles the row: a later run has
// nothing left to do for it.
func (o Outcome) Final() bool {
	switch o {
	case Canceled, NotCancelable, NotFound, InvalidID, Duplicate:
		return true
	}
	return false
}

// Known reports whether o is one of the outcomes above.
func (o Outcome) Known() bool {
	return slices.Contains(Outcomes, o)
}

// retryable reports whether another attempt may change the answer.
func (o Outcome) retryable() bool {
	switch o {
	case RateLimited, ServerError, TransportError:
		return true
	}
	return false
}
