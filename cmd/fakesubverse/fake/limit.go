package fake

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// ErrBadLimit is wrapped by the errors of Limit.Validate.
var ErrBadLimit = errors.New("bad limit")

// HeaderStyle selects the rate-limit headers the fake sends.
type HeaderStyle string

// The header styles. Q is the quota, W the window in seconds, R the
// requests remaining and T the seconds until the quota is whole again (see
// Limit for what they are for each kind of limiter).
const (
	// HeadersNone sends no rate-limit headers. The empty style means the same.
	HeadersNone HeaderStyle = "none"
	// HeadersDraft sends the current IETF draft's
	// RateLimit: "default";r=R;t=T and RateLimit-Policy: "default";q=Q;w=W.
	HeadersDraft HeaderStyle = "draft"
	// HeadersSplit sends the older draft's RateLimit-Limit: Q,
	// RateLimit-Remaining: R and RateLimit-Reset: T (seconds from now).
	HeadersSplit HeaderStyle = "split"
	// HeadersX sends X-RateLimit-Limit: Q, X-RateLimit-Remaining: R and
	// X-RateLimit-Reset: the Unix time in seconds, rounded up, when T ends.
	HeadersX HeaderStyle = "x"
)

// HeaderStyles lists the styles Limit.Headers accepts, the empty one aside.
var HeaderStyles = []HeaderStyle{HeadersNone, HeadersDraft, HeadersSplit, HeadersX}

// Limit is the API's own rate limit as the fake plays it. It applies to the
// cancel route only and is checked before anything else there: a request it
// refuses gets HTTP 429 (HTTP 200 in Envelope200 mode) with the envelope
// {"responseCode":429,"message":"Too many requests, please try again
// later.","data":null}, as express-rate-limit answers, and changes no call's
// state; the key check, latency, faults and the hook come only after it
// (the latency before its 429 too with Delayed).
// Every cancel request counts against the limit, rejected keys included.
//
// With Window zero the limiter is a token bucket: Burst tokens, refilled at
// RPS per second, full at the start; a request takes one token or is
// refused. Its headers describe it as Q = RPS requests per W = 1 second (for
// RPS below 1: Q = 1 per W = 1/RPS seconds, rounded up), R = the tokens left
// after this request, rounded down, and T = the seconds, rounded up, until
// the bucket is full again (0 when it is). Retry-After is the whole seconds
// until a token is available, at least 1.
//
// With Window set the limiter is a fixed window, as express-rate-limit's
// memory store counts: a window opens at the first request after the last
// one ended, and lets Q = RPS*Window requests through (rounded down, at
// least 1); the rest of it is refused. W is Window in seconds (rounded up),
// R = Q less the requests let through in the window, and T = the seconds
// until it ends, rounded up; Retry-After is the same T, at least 1.
//
// The zero value is no limit.
type Limit struct {
	// RPS is the requests per second let through; 0 means no limit.
	RPS float64
	// Burst is the token bucket's size; 0 means max(1, RPS/10) rounded
	// down. It must be 0 with Window.
	Burst int
	// Window, when > 0, selects the fixed-window limiter.
	Window time.Duration
	// NoRetryAfter leaves Retry-After off the limit's 429 answers.
	NoRetryAfter bool
	// Delayed answers the limit's 429s after the Faults' latency, as an
	// API across a network does, where a round trip comes with every
	// answer; by default they come at once, as from a limiter in front
	// of a slow handler. The limit still decides at arrival.
	Delayed bool
	// Headers are sent on every answer of the cancel route, good and 429
	// alike; the empty style is HeadersNone.
	Headers HeaderStyle
}

// Validate reports a negative, infinite or NaN RPS, a negative Burst or
// Window, a Burst with a Window, settings without an RPS, and an unknown
// header style.
func (l Limit) Validate() error {
	switch {
	case !(l.RPS >= 0) || math.IsInf(l.RPS, 0):
		return fmt.Errorf("%w: rps %v is not a number of requests per second", ErrBadLimit, l.RPS)
	case l.Burst < 0:
		return fmt.Errorf("%w: burst %d is negative", ErrBadLimit, l.Burst)
	case l.Window < 0:
		return fmt.Errorf("%w: window %v is negative", ErrBadLimit, l.Window)
	case l.RPS == 0 && (l.Burst != 0 || l.Window != 0 || l.style() != HeadersNone || l.Delayed):
		return fmt.Errorf("%w: a burst, window, headers or delayed answers need a rate", ErrBadLimit)
	case l.Burst != 0 && l.Window != 0:
		return fmt.Errorf("%w: burst is for the token bucket; a fixed window has none", ErrBadLimit)
	}
	if slices.Contains(HeaderStyles, l.style()) {
		return nil
	}
	return fmt.Errorf("%w: headers %q: want one of %v", ErrBadLimit, l.Headers, HeaderStyles)
}

// style is Headers with the empty style as HeadersNone.
func (l Limit) style() HeaderStyle {
	if l.Headers == "" {
		return HeadersNone
	}
	return l.Headers
}

// EffectiveBurst is the token bucket's size: Burst, or its default.
func (l Limit) EffectiveBurst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return max(1, int(l.RPS/10))
}

// Quota is the Q of the headers: the requests a window of QuotaWindow
// lets through (for a token bucket, the rate over QuotaWindow).
func (l Limit) Quota() int64 {
	if l.Window > 0 {
		return max(1, int64(l.RPS*l.Window.Seconds()+1e-9))
	}
	if l.RPS >= 1 {
		return int64(l.RPS)
	}
	return 1
}

// QuotaWindow is the W of the headers.
func (l Limit) QuotaWindow() time.Duration {
	if l.Window > 0 {
		return l.Window
	}
	if l.RPS >= 1 || l.RPS <= 0 {
		return time.Second
	}
	return time.Duration(math.Ceil(1/l.RPS)) * time.Second
}

// String describes the limit as the fakesubverse flags would set it.
func (l Limit) String() string {
	if l.RPS == 0 {
		return "none"
	}
	s := fmt.Sprintf("%g/s token bucket, burst %d", l.RPS, l.EffectiveBurst())
	if l.Window > 0 {
		s = fmt.Sprintf("%g/s as a %v fixed window of %d", l.RPS, l.Window, l.Quota())
	}
	if l.NoRetryAfter {
		s += ", no Retry-After"
	} else {
		s += ", Retry-After"
	}
	if st := l.style(); st != HeadersNone {
		s += ", " + string(st) + " headers"
	}
	if l.Delayed {
		s += ", 429s after the latency"
	}
	return s
}

// verdict is the limiter's answer to one request.
type verdict struct {
	allowed    bool
	retryAfter time.Duration // refused: until a request would be let through
	remaining  int64         // R
	reset      time.Duration // T, before rounding
}

// limiter applies a Limit. Its clock is read under its lock, so the times it
// sees never go backwards.
type limiter struct {
	lim     Limit
	now     func() time.Time
	burst   float64
	quota   int64
	policy  []string // preformatted RateLimit-Policy, Limit and quota values
	quotaHV []string

	mu      sync.Mutex
	started bool
	tokens  float64   // token bucket
	last    time.Time // token bucket: time of the last refill
	winEnd  time.Time // fixed window: end of the current window
	winUsed int64     // fixed window: requests let through in it
}

// newLimiter returns nil for no limit.
func newLimiter(l Limit, now func() time.Time) *limiter {
	if l.RPS == 0 {
		return nil
	}
	q := l.Quota()
	w := int64(math.Ceil(l.QuotaWindow().Seconds()))
	return &limiter{
		lim:     l,
		now:     now,
		burst:   float64(l.EffectiveBurst()),
		quota:   q,
		policy:  []string{fmt.Sprintf(`"default";q=%d;w=%d`, q, w)},
		quotaHV: []string{strconv.FormatInt(q, 10)},
	}
}

// take decides one request at the limiter's current time and returns the
// verdict with that time.
func (l *limiter) take() (verdict, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.lim.Window > 0 {
		return l.takeWindow(now), now
	}
	return l.takeToken(now), now
}

// takeToken is take for the token bucket; l.mu is held.
func (l *limiter) takeToken(now time.Time) verdict {
	rps := l.lim.RPS
	if !l.started {
		l.started, l.tokens, l.last = true, l.burst, now
	}
	if d := now.Sub(l.last); d > 0 {
		l.tokens = min(l.burst, l.tokens+d.Seconds()*rps)
		l.last = now
	}
	v := verdict{allowed: l.tokens >= 1}
	if v.allowed {
		l.tokens--
	} else {
		v.retryAfter = secondsDuration((1 - l.tokens) / rps)
	}
	v.remaining = int64(l.tokens)
	if missing := l.burst - l.tokens; missing > 1e-9 {
		v.reset = secondsDuration(missing / rps)
	}
	return v
}

// takeWindow is take for the fixed window; l.mu is held.
func (l *limiter) takeWindow(now time.Time) verdict {
	if !l.started || !now.Before(l.winEnd) {
		l.started, l.winEnd, l.winUsed = true, now.Add(l.lim.Window), 0
	}
	v := verdict{allowed: l.winUsed < l.quota, reset: l.winEnd.Sub(now)}
	if v.allowed {
		l.winUsed++
	} else {
		v.retryAfter = v.reset
	}
	v.remaining = l.quota - l.winUsed
	return v
}

// secondsDuration converts seconds to a Duration, rounding up to the
// nanosecond.
func secondsDuration(s float64) time.Duration {
	return time.Duration(math.Ceil(s * 1e9))
}

// setHeaders adds the rate-limit headers of v, decided at now, to h.
func (l *limiter) setHeaders(h http.Header, v verdict, now time.Time) {
	r := strconv.FormatInt(v.remaining, 10)
	t := ceilSeconds(v.reset)
	switch l.lim.style() {
	case HeadersDraft:
		h["Ratelimit"] = []string{`"default";r=` + r + ";t=" + strconv.FormatInt(t, 10)}
		h["Ratelimit-Policy"] = l.policy
	case HeadersSplit:
		h["Ratelimit-Limit"] = l.quotaHV
		h["Ratelimit-Remaining"] = []string{r}
		h["Ratelimit-Reset"] = []string{strconv.FormatInt(t, 10)}
	case HeadersX:
		end := now.Add(v.reset)
		unix := end.Unix()
		if end.Nanosecond() > 0 {
			unix++
		}
		h["X-Ratelimit-Limit"] = l.quotaHV
		h["X-Ratelimit-Remaining"] = []string{r}
		h["X-Ratelimit-Reset"] = []string{strconv.FormatInt(unix, 10)}
	}
}
