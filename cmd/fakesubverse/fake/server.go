// Package fake is a local stand-in for the SubVerse call API, with fault
// injection and a rate limit of its own. It serves PUT /call/cancel/{callId}
// and POST /call/trigger with the API's JSON envelope {responseCode, message,
// data}, keeps each call's status, and exposes its state through Go methods
// and the inspection routes under /_fake/.
//
// A Server is an http.Handler. cmd/fakesubverse serves it as a process;
// this module's tests serve it with faketest.StartFake (package
// cmd/fakesubverse/fake/faketest), which
// does what this does:
//
//	s := fake.New(fake.Options{APIKey: "k"})
//	ids := s.Seed(100)
//	ts := httptest.NewServer(s)
//	defer ts.Close()
//	// point the client at ts.URL (or ts.URL + "/api") with key "k"
//
// Every route is also served under an optional /api prefix, so both
// http://HOST and http://HOST/api work as base URLs.
//
// Options.Limit plays the API's own rate limit (a token bucket or a fixed
// window, with or without Retry-After and rate-limit headers; see Limit).
// Stats counts the cancel requests, the 429s and the first and last cancel
// arrival, so a client's goodput is Stats.Goodput; Timeline gives the
// requests per 10 ms slot, for how fast a client reached a rate. The
// limiter and those times read Options.Now, so tests can drive them with a
// fake clock.
package fake

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Status is a call status as the API reports it.
type Status string

// The call statuses the fake knows. Only StatusQueued can be canceled.
const (
	StatusQueued     Status = "call_in_queue"
	StatusPlaced     Status = "call_placed"
	StatusInProgress Status = "call_in_progress"
	StatusCompleted  Status = "completed"
	StatusCanceled   Status = "call_canceled"
	StatusFailed     Status = "call_failed"
)

// DefaultAPIKey is the key a Server accepts when Options.APIKey is empty.
const DefaultAPIKey = "fake-key"

// Options configures a Server.
type Options struct {
	// APIKey is the key requests must carry in x-api-key; empty means
	// DefaultAPIKey. A missing or wrong key gets a 401 envelope.
	APIKey string
	// Envelope200 selects the "always returns 200" mode: every envelope
	// answer is sent with HTTP 200 and the real code only in responseCode.
	// Faults that are not envelopes (502 HTML, drops, malformed, truncated)
	// are unchanged.
	Envelope200 bool
	// Faults are injected into cancel requests; see Faults.
	Faults Faults
	// Seed seeds the generated call IDs and status mix of Seed and the IDs
	// of triggered calls.
	Seed uint64
	// Limit is the API's own rate limit on the cancel route; the zero value
	// is none. New panics if it does not pass Limit.Validate.
	Limit Limit
	// Now is the clock of the limiter and of the arrival times in Stats and
	// Timeline; nil means time.Now. Latency and the other faults use real
	// timers whatever it is.
	Now func() time.Time
}

// Call is a snapshot of one call ID as the server saw it.
type Call struct {
	ID string `json:"id"`
	// Status is empty for an ID that was requested but never existed.
	Status Status `json:"status"`
	// Requests counts the cancel requests received for this ID: every one
	// that reached the handler, authentication failures and faults included.
	Requests int `json:"requests"`
	// Cancels counts the call_in_queue -> call_canceled transitions; the
	// server never lets it exceed 1.
	Cancels int `json:"cancels"`
}

// Stats are the server-wide counters. Requests, InFlight, MaxInFlight and the
// arrival times cover every API request (cancel, trigger and unknown routes),
// not the /_fake/ inspection routes.
type Stats struct {
	Requests     int64
	Cancels      int64 // successful call_in_queue -> call_canceled transitions
	InFlight     int64
	MaxInFlight  int64
	FirstArrival time.Time // zero before the first request
	LastArrival  time.Time
	Triggers     int64 // calls created by POST /call/trigger
	AuthFailures int64 // requests rejected for a missing or wrong key
	Injected     int64 // requests answered with an injected fault

	CancelRequests  int64     // PUT /call/cancel requests, 429s included
	TooManyRequests int64     // cancel requests answered 429, by the limit or an injected fault
	Limited         int64     // cancel requests answered 429 by the limit
	FirstCancel     time.Time // arrival of the first cancel request; zero before it
	LastCancel      time.Time // arrival of the latest cancel request
}

// Goodput is the calls canceled per second between the first and the last
// cancel request's arrival; 0 before two requests arrived apart.
func (st Stats) Goodput() float64 {
	d := st.LastCancel.Sub(st.FirstCancel).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(st.Cancels) / d
}

// Server is the fake API. It is safe for concurrent use; all setters may be
// called while it serves.
type Server struct {
	shards   [numShards]shard
	statuses *statusTable

	apiKey      atomic.Pointer[string]
	envelope200 atomic.Bool
	faults      atomic.Pointer[Faults]
	hook        atomic.Pointer[func(context.Context, string, int)]
	limiter     atomic.Pointer[limiter] // nil: no limit
	now         func() time.Time
	timeline    atomic.Pointer[timeline]

	requests     atomic.Int64
	cancels      atomic.Int64
	inFlight     atomic.Int64
	maxInFlight  atomic.Int64
	firstArrival atomic.Int64 // unix nanoseconds, 0 = none yet
	lastArrival  atomic.Int64
	triggers     atomic.Int64
	authFailures atomic.Int64
	injected     atomic.Int64
	cancelReqs   atomic.Int64
	tooMany      atomic.Int64
	limited      atomic.Int64
	firstCancel  atomic.Int64 // unix nanoseconds, 0 = none yet
	lastCancel   atomic.Int64

	genMu sync.Mutex // guards gen
	gen   idGen
}

// New returns a Server with no calls; add them with Seed, Add or LoadCalls.
// It panics if opts.Limit is not valid (see Limit.Validate).
func New(opts Options) *Server {
	s := &Server{statuses: newStatusTable(), now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.SetAPIKey(opts.APIKey)
	s.envelope200.Store(opts.Envelope200)
	s.SetFaults(opts.Faults)
	if err := s.SetLimit(opts.Limit); err != nil {
		panic("fake.New: " + err.Error())
	}
	s.timeline.Store(newTimeline(s.now()))
	s.gen = newIDGen(opts.Seed)
	return s
}

// SetLimit replaces the rate limit, starting it afresh (a full bucket, no
// window open), or returns the error of l.Validate and keeps the old one.
func (s *Server) SetLimit(l Limit) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if l.Headers == "" {
		l.Headers = HeadersNone
	}
	s.limiter.Store(newLimiter(l, s.now))
	return nil
}

// Limit returns the rate limit in force; its Headers is never empty.
func (s *Server) Limit() Limit {
	if l := s.limiter.Load(); l != nil {
		return l.lim
	}
	return Limit{Headers: HeadersNone}
}

// Timeline returns the cancel requests counted per TimelineSlot since the
// server started or its stats were last reset.
func (s *Server) Timeline() Timeline { return s.timeline.Load().snapshot() }

// SetFaults replaces the injected faults; requests already past their fault
// decision are not affected.
func (s *Server) SetFaults(f Faults) { s.faults.Store(&f) }

// Faults returns the faults currently injected.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// SetAPIKey replaces the accepted key; empty means DefaultAPIKey.
func (s *Server) SetAPIKey(k string) {
	if k == "" {
		k = DefaultAPIKey
	}
	s.apiKey.Store(&k)
}

// SetEnvelope200 switches the "always returns 200" mode on or off.
func (s *Server) SetEnvelope200(on bool) { s.envelope200.Store(on) }

// SetHook installs h, called for every cancel request the limit lets
// through, after it is counted and before it is answered (before the key
// check, latency and faults), with the request's context, the decoded call
// ID and the 1-based number of this request for that ID. A hook that blocks
// holds the request in flight. nil removes the hook.
func (s *Server) SetHook(h func(ctx context.Context, id string, n int)) {
	if h == nil {
		s.hook.Store(nil)
		return
	}
	s.hook.Store(&h)
}

// Stats returns a snapshot of the server-wide counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:     s.requests.Load(),
		Cancels:      s.cancels.Load(),
		InFlight:     s.inFlight.Load(),
		MaxInFlight:  s.maxInFlight.Load(),
		Triggers:     s.triggers.Load(),
		AuthFailures: s.authFailures.Load(),
		Injected:     s.injected.Load(),

		CancelRequests:  s.cancelReqs.Load(),
		TooManyRequests: s.tooMany.Load(),
		Limited:         s.limited.Load(),
	}
	st.FirstArrival, st.LastArrival = unixTime(s.firstArrival.Load()), unixTime(s.lastArrival.Load())
	st.FirstCancel, st.LastCancel = unixTime(s.firstCancel.Load()), unixTime(s.lastCancel.Load())
	return st
}

// unixTime is the UTC time of n Unix nanoseconds; zero for 0.
func unixTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// ResetStats zeroes the server-wide counters (MaxInFlight restarts from the
// current InFlight) and starts a new Timeline. Per-call counts and the
// limiter's state are kept.
func (s *Server) ResetStats() {
	for _, c := range []*atomic.Int64{&s.requests, &s.cancels, &s.firstArrival, &s.lastArrival, &s.triggers,
		&s.authFailures, &s.injected, &s.cancelReqs, &s.tooMany, &s.limited, &s.firstCancel, &s.lastCancel} {
		c.Store(0)
	}
	s.maxInFlight.Store(s.inFlight.Load())
	s.timeline.Store(newTimeline(s.now()))
}

// ServeHTTP routes on the path with an optional /api prefix removed:
// PUT /call/cancel/{callId}, POST /call/trigger and /_fake/... . The call ID
// is exactly one escaped path segment, decoded once.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if p == "/api" || strings.HasPrefix(p, "/api/") {
		p = p[len("/api"):]
	}
	if p == "/_fake" || strings.HasPrefix(p, "/_fake/") {
		s.inspect(w, r, p)
		return
	}
	now := s.begin()
	defer s.inFlight.Add(-1)
	const cancelPath = "/call/cancel"
	switch {
	case strings.HasPrefix(p, cancelPath) && r.Method == http.MethodPut:
		rest := p[len(cancelPath):]
		switch {
		case rest == "" || rest == "/":
			s.cancel(w, r, "", now)
		case rest[0] == '/' && !strings.Contains(rest[1:], "/"):
			s.cancel(w, r, rest[1:], now)
		default:
			notFound(w, r)
		}
	case p == "/call/trigger" && r.Method == http.MethodPost:
		s.trigger(w, r)
	default:
		notFound(w, r)
	}
}

// begin counts an API request and returns its arrival time.
func (s *Server) begin() time.Time {
	s.requests.Add(1)
	raise(&s.maxInFlight, s.inFlight.Add(1))
	now := s.now()
	arrived(&s.firstArrival, &s.lastArrival, now.UnixNano())
	return now
}

// arrived moves first back and last forward to include t.
func arrived(first, last *atomic.Int64, t int64) {
	raise(last, t)
	for f := first.Load(); f == 0 || t < f; f = first.Load() {
		if first.CompareAndSwap(f, t) {
			break
		}
	}
}

// raise sets a to v if v is larger.
func raise(a *atomic.Int64, v int64) {
	for old := a.Load(); v > old; old = a.Load() {
		if a.CompareAndSwap(old, v) {
			return
		}
	}
}

// cancel answers one cancel request for the escaped segment seg, which
// arrived at now. The limit comes first: a request it refuses is counted
// for its ID and answered, and nothing else happens.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, seg string, now time.Time) {
	s.cancelReqs.Add(1)
	arrived(&s.firstCancel, &s.lastCancel, now.UnixNano())
	refused, retryAfter, delayed := s.refuse(w)
	s.timeline.Load().add(now, refused)
	id, ok := unescapeSegment(seg)
	if refused {
		n := 0
		if ok {
			n, _ = s.countRequest(id)
		}
		if delayed && !s.faults.Load().wait(r.Context(), id, n) {
			return // the client went away
		}
		s.write(w, &ansLimited, retryAfter)
		return
	}
	if !ok {
		s.write(w, &ansBadEscape, 0)
		return
	}
	n, rec := s.countRequest(id)
	if h := s.hook.Load(); h != nil {
		(*h)(r.Context(), id, n)
	}
	f := s.faults.Load()
	if !f.wait(r.Context(), id, n) {
		return // the client went away; nothing is applied
	}
	if !s.authorized(w, r) {
		return
	}
	kind := f.decide(id, n)
	if kind != faultNone {
		s.injected.Add(1)
	}
	switch kind {
	case fault500:
		s.write(w, &ans500, 0)
	case fault503:
		s.write(w, &ans503, f.RetryAfter)
	case fault429:
		s.tooMany.Add(1)
		s.write(w, &ans429, f.RetryAfter)
	case faultBadGateway:
		writeRaw(w, http.StatusBadGateway, ctHTML, badGatewayBody) // HTML, no envelope, whatever the mode
	case faultDropBefore:
		drop(w)
	case faultDropAfter:
		s.apply(id, rec)
		drop(w)
	case faultMalformed:
		writeRaw(w, http.StatusOK, ctJSON, malformedBody) // complete, but not JSON
	case faultTruncated:
		a := s.apply(id, rec)
		code := a.code
		if s.envelope200.Load() {
			code = http.StatusOK
		}
		truncate(w, code, a.body)
	default:
		s.write(w, s.apply(id, rec), 0)
	}
}

// refuse asks the limit, if there is one, about a cancel request and puts
// its headers on w. A refused request is counted as limited; retryAfter is
// the Retry-After of its answer, 0 for none, and delayed says it waits out
// the latency (Limit.Delayed).
func (s *Server) refuse(w http.ResponseWriter) (refused bool, retryAfter time.Duration, delayed bool) {
	lim := s.limiter.Load()
	if lim == nil {
		return false, 0, false
	}
	v, at := lim.take()
	lim.setHeaders(w.Header(), v, at)
	if v.allowed {
		return false, 0, false
	}
	s.limited.Add(1)
	s.tooMany.Add(1)
	if lim.lim.NoRetryAfter {
		return true, 0, lim.lim.Delayed
	}
	return true, v.retryAfter, lim.lim.Delayed // > 0: until a token comes or the window ends
}

// countRequest records a cancel request for id and returns its 1-based
// number for that ID and where id's record is, for apply.
func (s *Server) countRequest(id string) (int, recRef) {
	sh, h := s.shardOf(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(h, id)
	if i < 0 {
		i = sh.insert(h, id, codeNone)
	}
	sh.recs[i].requests++
	return int(sh.recs[i].requests), recRef{sh: sh, i: i}
}

// apply performs the cancel for id, whose record is at ref, and returns
// the answer the API gives.
func (s *Server) apply(id string, ref recRef) *answer {
	if id == "" {
		return &ansIDMissing
	}
	sh := ref.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := &sh.recs[ref.i]
	switch {
	case r.status == codeNone:
		return &ansNotFound
	case r.status == codeQueued:
		r.status = codeCanceled
		r.cancels++
		s.cancels.Add(1)
		return &ansCanceled
	default:
		return &ansNotInQueue
	}
}

// authorized checks x-api-key and answers the request when it fails.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := r.Header.Get("x-api-key")
	if got == "" {
		s.authFailures.Add(1)
		s.write(w, &ansKeyMissing, 0)
		return false
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(*s.apiKey.Load())) != 1 {
		s.authFailures.Add(1)
		s.write(w, &ansKeyInvalid, 0)
		return false
	}
	return true
}

// maxTriggerBody bounds the body of POST /call/trigger.
const maxTriggerBody = 1 << 20

// trigger queues a new call with a fresh ID. Latency applies; other faults
// do not.
func (s *Server) trigger(w http.ResponseWriter, r *http.Request) {
	n := s.triggers.Load() + 1
	if !s.faults.Load().wait(r.Context(), "/call/trigger", int(n)) {
		return
	}
	if !s.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTriggerBody+1))
	var fields map[string]any
	if err != nil || len(body) > maxTriggerBody || json.Unmarshal(body, &fields) != nil || fields == nil {
		s.write(w, &ansBadBody, 0)
		return
	}
	id := s.newCall(StatusQueued)
	s.triggers.Add(1)
	b := append([]byte(`{"responseCode":200,"message":"Call triggered successfully","data":{"callId":`), quoteJSON(id)...)
	b = append(b, "}}"...)
	s.write(w, &answer{code: http.StatusOK, body: b}, 0)
}

// quoteJSON returns s as a JSON string literal.
func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// newRand returns the deterministic generator behind IDs and status mixes.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}
