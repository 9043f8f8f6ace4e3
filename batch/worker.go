package batch

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// worker holds what every attempt shares: the client, the rate limiter
// and the 429 pause.
type worker struct {
	cfg     Config
	client  *Client
	limiter *rate.Limiter
	pause   *pause
}

// do runs one job's attempts until an answer is definitive, the attempts
// are used up, or the run stops. Dispatch waits (rate, pause, backoff)
// end with stopCtx; requests in flight end only with reqCtx.
func (w *worker) do(stopCtx, reqCtx context.Context, job Job) Result {
	r := Result{Row: job.Row, CallID: job.ID, Outcome: NotAttempted, RemovedJobs: -1, Ambiguous: job.MaybeSent}
	reached := job.MaybeSent // an earlier attempt may have canceled the call
	for n := 1; ; n++ {
		if w.pause.wait(stopCtx, w.cfg.Clock) != nil || w.limiter.Wait(stopCtx) != nil {
			if n == 1 {
				r.Error = stoppedBecause(stopCtx)
			} else {
				r.Error = fmt.Sprintf("run stopped before attempt %d: %s", n, r.Error)
			}
			return r
		}
		if n == 1 && w.cfg.BeforeSend != nil {
			if err := w.cfg.BeforeSend(job); err != nil {
				r.Error = "not sent: " + err.Error()
				return r
			}
		}
		actx, cancel := context.WithTimeout(reqCtx, w.cfg.Timeout)
		a := w.client.Cancel(actx, job.ID)
		cancel()
		if n == 1 {
			r.StartedAt = a.Start.UTC().Truncate(time.Millisecond) // the report's precision, so a resumed row reads back the same
		}
		r.Attempts = n
		r.FinishedAt = a.Start.Add(a.Duration).UTC().Truncate(time.Millisecond)
		r.Outcome, r.HTTPStatus, r.ResponseCode, r.Message, r.RemovedJobs = a.Outcome, a.HTTPStatus, a.ResponseCode, a.Message, a.RemovedJobs
		may := (a.Err != nil && a.Written) || a.Outcome == ServerError // this attempt may have reached the server
		r.Ambiguous = a.Outcome == NotCancelable && reached || !a.Outcome.Final() && (reached || may)
		r.Error = a.Detail
		if r.Ambiguous && a.Outcome == NotCancelable {
			r.Error = "an earlier attempt may have canceled this call before this answer"
		}
		reached = reached || may
		if !a.Outcome.retryable() || (a.Err != nil && permanentTransport(a.Err)) {
			return r
		}
		if n >= w.cfg.MaxAttempts {
			r.Error = fmt.Sprintf("giving up after %d attempt(s): %s", n, a.Detail)
			return r
		}
		d := Backoff(n, w.cfg.BaseBackoff, w.cfg.MaxBackoff, a.RetryAfter, w.cfg.Jitter())
		if a.Outcome == RateLimited || a.RetryAfter > 0 {
			w.pause.extend(w.cfg.Clock.Now().Add(d))
		}
		w.cfg.Log.Warn().Int("row", r.Row).Str("call_id", job.ID).Int("attempt", n).
			Str("outcome", string(a.Outcome)).Int("http_status", a.HTTPStatus).
			Int64("retry_in_ms", d.Milliseconds()).Str("detail", a.Detail).Msg("retrying")
		select {
		case <-stopCtx.Done():
			r.Error = fmt.Sprintf("run stopped before attempt %d: %s", n+1, a.Detail)
			return r
		case <-w.cfg.Clock.After(d):
		}
	}
}
