package batch

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// Config tunes a run. Start from DefaultConfig; the zero value is not
// usable.
type Config struct {
	Concurrency int // most requests in flight at once
	// AutoRate finds the API's limit: the pace starts at AutoStartRate,
	// rises while answers are good and is cut when the API pushes back.
	AutoRate bool
	// Rate, without AutoRate, is a ceiling in attempts per second
	// (retries included): the pace starts there, never exceeds it, and is
	// cut below it when the API pushes back. 0 means no ceiling.
	Rate    float64
	MaxRate float64 // with AutoRate, the highest pace; 0 means none
	// Sharers is how many processes pace against the same limit at once
	// (--shard K/N gives N); 0 and 1 mean this one alone.
	Sharers int
	// Board, when set, is where this shard and the others of its input
	// leave notes of their pace, so that they share one limit well
	// (shardpace.go); nil paces on this process's answers alone. The
	// notes count rows left, so it needs Rows.
	Board PaceBoard
	// Rows is how many rows the run is to send, when known (0 when not):
	// near the end the pace no longer probes above the level the API
	// was seen to allow, as the gain would not outlast the pause it
	// risks.
	Rows           int
	Burst          int           // token-bucket burst
	MaxAttempts    int           // attempts per ID, the first included
	Timeout        time.Duration // one attempt's deadline
	MaxBackoff     time.Duration // longest wait between attempts; a longer Retry-After is cut to this
	BaseBackoff    time.Duration // wait after the first failed attempt, before jitter; doubles per attempt
	MaxFailureRate float64       // stop when more than this fraction of sent IDs ended not final...
	MinSample      int           // ...once at least this many sent IDs have a result
	ExpectNotFound bool          // turn off the wrong-workspace rule (see ErrWrongWorkspace)

	// Abandon, when closed, cancels the attempts in flight as well (their
	// rows end transport_error). Without it a stopped run lets them finish.
	Abandon <-chan struct{}

	// BeforeSend, when set, is called right before the first attempt of a
	// job is sent, after the waits for the rate and the shared pause (a
	// dispatch journal records the ID there). An error keeps the job
	// unsent (not_attempted) and stops the run like a sink error.
	BeforeSend func(Job) error

	Clock  Clock          // time source for backoff, the pause and the pacer; nil means the real clock
	Jitter func() float64 // a number in [0, 1) per backoff; nil means math/rand/v2
	Log    zerolog.Logger // a warn line per retry and per abort; the zero value logs nothing
	// QuietRetries logs retries at debug level instead of warn, for a
	// display that counts them instead (see Live).
	QuietRetries bool
	// Live, when set, is kept up to date with the run's counters and pace.
	Live *Live
}

// DefaultConfig returns the settings the command line uses by default.
func DefaultConfig() Config {
	return Config{
		Concurrency:    8,
		AutoRate:       true,
		Burst:          1,
		MaxAttempts:    5,
		Timeout:        30 * time.Second,
		MaxBackoff:     60 * time.Second,
		BaseBackoff:    500 * time.Millisecond,
		MaxFailureRate: 0.5,
		MinSample:      100,
		Log:            zerolog.Nop(),
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Concurrency < 1:
		return fmt.Errorf("concurrency must be at least 1, got %d", c.Concurrency)
	case c.Rate < 0:
		return fmt.Errorf("rate must be 0 (no ceiling) or more, got %g", c.Rate)
	case c.MaxRate < 0:
		return fmt.Errorf("max-rate must be 0 (none) or more, got %g", c.MaxRate)
	case c.Rate > 0 && c.AutoRate:
		return fmt.Errorf("rate %g is a ceiling only without AutoRate; set AutoRate false, or MaxRate to cap AutoRate", c.Rate)
	case c.MaxRate > 0 && !c.AutoRate:
		return fmt.Errorf("max-rate caps --rate auto only; with a number, --rate is already the ceiling")
	case c.Burst < 1:
		return fmt.Errorf("burst must be at least 1, got %d", c.Burst)
	case c.MaxAttempts < 1:
		return fmt.Errorf("max-attempts must be at least 1, got %d", c.MaxAttempts)
	case c.Timeout <= 0:
		return fmt.Errorf("timeout must be more than 0, got %s", c.Timeout)
	case c.MaxBackoff < 0 || c.BaseBackoff < 0:
		return fmt.Errorf("backoff must not be negative")
	case c.MaxFailureRate < 0 || c.MaxFailureRate > 1:
		return fmt.Errorf("max-failure-rate must be between 0 and 1, got %g", c.MaxFailureRate)
	case c.MinSample < 0:
		return fmt.Errorf("min-sample must not be negative, got %d", c.MinSample)
	}
	return nil
}

// Run sends a cancel for every job and hands each row's Result to sink,
// in the order rows finish. sink is called from one goroutine only. An
// error from sink (or from Config.BeforeSend) stops the run: nothing new
// is sent, attempts in flight finish (at most Config.Timeout), and every
// later Result is still handed to sink, so the caller can account for
// each row; Run then returns the first such error wrapped in ErrRecord.
//
// Up to Config.Concurrency attempts are in flight at once; every attempt,
// retries included, waits on one shared rate limiter, whose pace the
// pacer adapts to the API, and on the shared pause a Retry-After sets.
// Transport failures, 429 and 5xx are retried with capped exponential
// backoff; definitive answers never are. A row waiting for its retry
// holds no request slot: it goes back in line when its wait is over.
//
// Canceling ctx stops dispatch: nothing new is sent, attempts in flight
// finish (at most Config.Timeout), and every job not yet sent gets a
// not_attempted Result; Run then returns an error wrapping ErrInterrupted.
// An unauthorized answer, the failure-rate rule, the wrong-workspace
// rule and a run that reaches nothing stop the run the same way, and Run
// returns ErrUnauthorized, ErrTooManyFailures, ErrWrongWorkspace or
// ErrUnreachable. Run returns only after every request it started has
// ended.
func Run(ctx context.Context, cfg Config, client *Client, jobs iter.Seq[Job], sink func(Result) error) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Live == nil {
		cfg.Live = new(Live)
	}

	stopCtx, stop := context.WithCancelCause(ctx)               // ends dispatch
	reqCtx, abandon := context.WithCancel(context.Background()) // ends attempts in flight
	defer stop(nil)
	defer abandon()
	if cfg.Abandon != nil {
		go func() {
			select {
			case <-cfg.Abandon:
				abandon()
			case <-reqCtx.Done():
			}
		}()
	}

	pace := newPacer(cfg, cfg.Clock.Now())
	cfg.Live.pace.Store(pace)
	unreach := newUnreachableRule(cfg)
	w := &worker{cfg: cfg, client: client, pace: pace, live: cfg.Live, unreach: unreach}
	if before := cfg.BeforeSend; before != nil {
		w.cfg.BeforeSend = func(j Job) error {
			err := before(j)
			if err != nil {
				stop(fmt.Errorf("%w: %w", ErrRecord, err))
			}
			return err
		}
	}
	work := make(chan *item)
	retry := make(chan *item)
	// The collector takes every Result, even after the sink failed, so
	// nothing that sends to results ever blocks for good.
	results := make(chan Result, cfg.Concurrency)

	// A row is open from dispatch until its Result is handed on, waiting
	// out a backoff included (it holds no request slot then). At most
	// openRows×Concurrency rows are open at once, so a run whose every
	// answer fails stops having touched a bounded number of IDs; the
	// workers leave once the producer is done and no row is open.
	slots := make(chan struct{}, openRows*cfg.Concurrency)
	var open sync.WaitGroup
	allDone := make(chan struct{})
	// The stop rules are applied where the result is, before it queues
	// for the sink, so dispatch stops at once.
	rule, guard := &failureRule{cfg: cfg}, newNotFoundGuard(cfg)
	trip := func(err error, msg string) { // the first rule to trip stops the run
		if err != nil && stopCtx.Err() == nil {
			cfg.Log.Error().Err(err).Msg(msg)
			stop(err)
		}
	}
	finish := func(it *item) {
		r := it.r
		trip(unreach.add(r, client.host), "nothing reaches the API: stopping the run")
		if r.Outcome == Unauthorized {
			stop(ErrUnauthorized)
		}
		trip(rule.add(r), "failure rate over the limit: stopping the run")
		trip(guard.add(r), "stopping the run: check the key's workspace and the ID column")
		pace.settled()
		results <- r
		<-slots
		open.Done()
	}

	var g errgroup.Group
	var senders sync.WaitGroup // everything that sends to results
	senders.Add(1 + cfg.Concurrency)
	g.Go(func() error { // producer
		defer senders.Done()
		defer func() {
			close(work)
			go func() {
				open.Wait()
				close(allDone)
			}()
		}()
		for job := range jobs {
			if stopCtx.Err() == nil {
				select {
				case slots <- struct{}{}:
					open.Add(1)
					select {
					case work <- newItem(job):
						continue
					case <-stopCtx.Done():
						<-slots
						open.Done()
					}
				case <-stopCtx.Done():
				}
			}
			results <- Result{Row: job.Row, CallID: job.ID, Outcome: NotAttempted, RemovedJobs: -1,
				Ambiguous: job.MaybeSent, Error: stoppedBecause(stopCtx)}
		}
		return nil
	})
	// backoff waits out a row's retry delay off the worker, then puts it
	// back in line; a run that stops meanwhile settles it instead.
	backoff := func(it *item, d time.Duration) {
		cfg.Live.waiting.Add(1)
		defer cfg.Live.waiting.Add(-1)
		defer senders.Done()
		select {
		case <-cfg.Clock.After(d):
			select {
			case retry <- it:
				return
			case <-stopCtx.Done():
			}
		case <-stopCtx.Done():
		}
		it.stopped(stopCtx)
		finish(it)
	}
	for range cfg.Concurrency {
		g.Go(func() error {
			defer senders.Done()
			in := work
			for {
				var it *item
				select { // a row back from its backoff goes first
				case it = <-retry:
				default:
					select {
					case it = <-retry:
					case next, ok := <-in:
						if !ok {
							in = nil
							continue
						}
						it = next
					case <-allDone:
						return nil
					}
				}
				d, done := w.attempt(stopCtx, reqCtx, it)
				if done {
					finish(it)
					continue
				}
				senders.Add(1)
				go backoff(it, d)
			}
		})
	}
	go func() {
		senders.Wait()
		close(results)
	}()
	g.Go(func() error { // collector
		recorded := true
		for r := range results {
			if err := sink(r); err != nil && recorded {
				recorded = false
				stop(fmt.Errorf("%w: %w", ErrRecord, err))
			}
		}
		return nil
	})
	endShare := sharePace(cfg, pace, stopCtx.Done())
	g.Wait() // no goroutine of the group fails: a sink error stops the run instead
	endShare()
	cause := context.Cause(stopCtx)
	switch {
	case cause == nil:
		return guard.end()
	case errors.Is(cause, ErrUnauthorized), errors.Is(cause, ErrTooManyFailures), errors.Is(cause, ErrWrongWorkspace), errors.Is(cause, ErrRecord),
		errors.Is(cause, ErrUnreachable):
		return cause
	default:
		return fmt.Errorf("%w: %w", ErrInterrupted, cause)
	}
}

// openRows times Config.Concurrency is how many rows may be open at once:
// sent at least once and not yet settled, in flight or in backoff.
const openRows = 4

// failureRule is the --max-failure-rate rule over the IDs sent so far
// that have a result. It is safe for concurrent use.
type failureRule struct {
	cfg Config

	mu           sync.Mutex
	sent, failed int
	tripped      bool
}

// add counts r and returns ErrTooManyFailures, once, when the rule trips.
func (f *failureRule) add(r Result) error {
	if r.Attempts == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent++
	if !r.Final() {
		f.failed++
	}
	if f.tripped || f.sent < f.cfg.MinSample || float64(f.failed)/float64(f.sent) <= f.cfg.MaxFailureRate {
		return nil
	}
	f.tripped = true
	return fmt.Errorf("%w: %d of %d IDs sent ended not final (limit %g)", ErrTooManyFailures, f.failed, f.sent, f.cfg.MaxFailureRate)
}

// stoppedBecause says why a row was not sent, for its error column.
func stoppedBecause(stopCtx context.Context) string {
	cause := context.Cause(stopCtx)
	switch {
	case errors.Is(cause, ErrUnauthorized):
		return "not sent: the run stopped because the API rejected the key"
	case errors.Is(cause, ErrTooManyFailures):
		return "not sent: the run stopped because the failure rate went over the limit"
	case errors.Is(cause, ErrWrongWorkspace):
		return "not sent: the run stopped because none of the first IDs sent exists for this key"
	case errors.Is(cause, ErrRecord):
		return "not sent: the run stopped because the report could not be written"
	case errors.Is(cause, ErrUnreachable):
		return "not sent: the run stopped because nothing reaches the API"
	default:
		return "not sent: the run was interrupted"
	}
}
