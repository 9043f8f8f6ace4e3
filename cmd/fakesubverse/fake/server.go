// Package fake is a local stand-in for the SubVerse call API, with fault
// injection. It serves PUT /call/cancel/{callId} and POST /call/trigger with
// the API's JSON envelope {responseCode, message, data}, keeps each call's
// status, and exposes its state through Go methods and the inspection routes
// under /_fake/.
//
// A Server is an http.Handler; tests use it through httptest:
//
//	s := fake.New(fake.Options{APIKey: "k"})
//	ids := s.Seed(100)
//	ts := httptest.NewServer(s)
//	defer ts.Close()
//	// point the client at ts.URL (or ts.URL + "/api") with key "k"
//
// Every route is also served under an optional /api prefix, so both
// http://HOST and http://HOST/api work as base URLs.
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

	requests     atomic.Int64
	cancels      atomic.Int64
	inFlight     atomic.Int64
	maxInFlight  atomic.Int64
	firstArrival atomic.Int64 // unix nanoseconds, 0 = none yet
	lastArrival  atomic.Int64
	triggers     atomic.Int64
	authFailures atomic.Int64
	injected     atomic.Int64

	genMu sync.Mutex // guards gen
	gen   idGen
}

// New returns a Server with no calls; add them with Seed, Add or LoadCalls.
func New(opts Options) *Server {
	s := &Server{statuses: newStatusTable()}
	s.SetAPIKey(opts.APIKey)
	s.envelope200.Store(opts.Envelope200)
	s.SetFaults(opts.Faults)
	s.gen = newIDGen(opts.Seed)
	return s
}

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

// SetHook installs h, called for every cancel request after it is counted
// and before it is answered (before the key check, latency and faults), with
// the request's context, the decoded call ID and the 1-based number of this
// request for that ID. A hook that blocks holds the request in flight. nil
// removes the hook.
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
	}
	if n := s.firstArrival.Load(); n != 0 {
		st.FirstArrival = time.Unix(0, n).UTC()
	}
	if n := s.lastArrival.Load(); n != 0 {
		st.LastArrival = time.Unix(0, n).UTC()
	}
	return st
}

// ResetStats zeroes the server-wide counters (MaxInFlight restarts from the
// current InFlight). Per-call counts are kept.
func (s *Server) ResetStats() {
	s.requests.Store(0)
	s.cancels.Store(0)
	s.maxInFlight.Store(s.inFlight.Load())
	s.firstArrival.Store(0)
	s.lastArrival.Store(0)
	s.triggers.Store(0)
	s.authFailures.Store(0)
	s.injected.Store(0)
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
	s.begin()
	defer s.inFlight.Add(-1)
	const cancelPath = "/call/cancel"
	switch {
	case strings.HasPrefix(p, cancelPath) && r.Method == http.MethodPut:
		rest := p[len(cancelPath):]
		switch {
		case rest == "" || rest == "/":
			s.cancel(w, r, "")
		case rest[0] == '/' && !strings.Contains(rest[1:], "/"):
			s.cancel(w, r, rest[1:])
		default:
			notFound(w, r)
		}
	case p == "/call/trigger" && r.Method == http.MethodPost:
		s.trigger(w, r)
	default:
		notFound(w, r)
	}
}

// begin counts an API request and its arrival.
func (s *Server) begin() {
	s.requests.Add(1)
	raise(&s.maxInFlight, s.inFlight.Add(1))
	now := time.Now().UnixNano()
	raise(&s.lastArrival, now)
	for first := s.firstArrival.Load(); first == 0 || now < first; first = s.firstArrival.Load() {
		if s.firstArrival.CompareAndSwap(first, now) {
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

// cancel answers one cancel request for the escaped segment seg.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, seg string) {
	id, ok := unescapeSegment(seg)
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
		s.write(w, &ans429, f.RetryAfter)
	case faultBadGateway:
		writeBadGateway(w)
	case faultDropBefore:
		drop(w)
	case faultDropAfter:
		s.apply(id, rec)
		drop(w)
	case faultMalformed:
		writeMalformed(w)
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
