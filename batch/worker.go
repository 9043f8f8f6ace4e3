package batch

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// worker holds what every attempt shares: the client and the pacer (the
// shared rate and the Retry-After pause).
type worker struct {
	cfg     Config
	client  *Client
	pace    *pacer
	live    *Live
	unreach *unreachableRule
}

// item is one job between its attempts.
type item struct {
	job     Job
	r       Result
	n       int    // attempts made
	reached bool   // an attempt may have reached the server
	detail  string // the last attempt's detail, for a stop message
}

func newItem(job Job) *item {
	return &item{job: job, reached: job.MaybeSent,
		r: Result{Row: job.Row, CallID: job.ID, Outcome: NotAttempted, RemovedJobs: -1}}
}

// attempt makes the item's next attempt. It returns done when the row's
// Result is settled for this run (a definitive answer, attempts used up,
// or the run stopped), else how long the row waits before its next
// attempt; the caller decides where it waits. Dispatch waits end with
// stopCtx; the request in flight ends only with reqCtx.
func (w *worker) attempt(stopCtx, reqCtx context.Context, it *item) (wait time.Duration, done bool) {
	r := &it.r
	n := it.n + 1
	if w.pace.wait(stopCtx, w.cfg.Clock) != nil {
		it.stopped(stopCtx)
		return 0, true
	}
	if n == 1 && w.cfg.BeforeSend != nil {
		if err := w.cfg.BeforeSend(it.job); err != nil {
			r.Error = "not sent: " + err.Error()
			r.Ambiguous = it.reached
			return 0, true
		}
	}
	sentAt := w.cfg.Clock.Now()
	w.pace.sent(sentAt)
	actx, cancel := context.WithTimeout(reqCtx, w.cfg.Timeout)
	a := w.client.Cancel(actx, it.job.ID)
	cancel()
	w.pace.answer(w.cfg.Clock.Now(), sentAt, a)
	if !connectFailure(a) {
		w.unreach.reached()
	}
	if n == 1 {
		r.StartedAt = a.Start.UTC().Truncate(time.Millisecond) // the report's precision, so a resumed row reads back the same
	}
	it.n = n
	r.Attempts = n
	r.FinishedAt = a.Start.Add(a.Duration).UTC().Truncate(time.Millisecond)
	r.Outcome, r.HTTPStatus, r.ResponseCode, r.Message, r.RemovedJobs = a.Outcome, a.HTTPStatus, a.ResponseCode, a.Message, a.RemovedJobs
	r.Error = a.Detail
	it.detail = a.Detail
	reachedBefore := it.reached
	it.reached = it.reached || (a.Err != nil && a.Written) || a.Outcome == ServerError
	if r.Ambiguous = ambiguous(a.Outcome, reachedBefore, it.reached); r.Ambiguous && a.Outcome == NotCancelable {
		r.Error = "an earlier attempt may have canceled this call before this answer"
	}
	if !a.Outcome.retryable() || (a.Err != nil && permanentTransport(a.Err)) {
		return 0, true
	}
	if n >= w.cfg.MaxAttempts {
		r.Error = fmt.Sprintf("giving up after %d attempt(s): %s", n, a.Detail)
		return 0, true
	}
	d := Backoff(n, w.cfg.BaseBackoff, w.cfg.MaxBackoff, a.RetryAfter, w.cfg.Jitter())
	w.live.retries.Add(1)
	level := zerolog.WarnLevel
	if w.cfg.QuietRetries {
		level = zerolog.DebugLevel
	}
	w.cfg.Log.WithLevel(level).Int("row", r.Row).Str("call_id", it.job.ID).Int("attempt", n).
		Str("outcome", string(a.Outcome)).Int("http_status", a.HTTPStatus).
		Int64("retry_in_ms", d.Milliseconds()).Str("detail", a.Detail).Msg("retrying")
	return d, false
}

// ambiguous says whether a row's ambiguous flag is set: a "no longer in
// queue" after an earlier attempt may have reached the server (it may
// have been this tool that canceled the call), or a row left not final
// whose ID may have reached the server, so that a later resume still
// knows. A definitive answer that settles the question never is.
func ambiguous(o Outcome, reachedBefore, reached bool) bool {
	switch o {
	case NotCancelable:
		return reachedBefore
	case Canceled, NotFound, InvalidID, Duplicate, DryRun:
		return false
	}
	return reached
}

// stopped settles the item as not sent further because the run stopped.
func (it *item) stopped(stopCtx context.Context) {
	it.r.Ambiguous = ambiguous(it.r.Outcome, it.reached, it.reached)
	if it.n == 0 {
		it.r.Error = stoppedBecause(stopCtx)
		return
	}
	it.r.Error = fmt.Sprintf("run stopped before attempt %d: %s", it.n+1, it.detail)
}
