package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The inspection routes, served without a key (under an optional /api
// prefix too):
//
//	GET /_fake/calls[?status=S]  every call as [{id,status,requests,cancels}], sorted by id
//	GET /_fake/calls/{id}        one call; 404 if it never existed nor was requested
//	GET /_fake/stats             Stats with snake_case keys, times RFC 3339 (null before any request)
//	GET /_fake/timeline          Timeline: {start, slot, requests, limited}; start null before any cancel
//	GET /_fake/limit             the current Limit: {rps, burst, window, retry_after, headers, latency}
//	GET /_fake/faults            the current Faults
//	PUT /_fake/faults            replace the Faults (fields left out are zero)
//	PATCH /_fake/faults          change only the fields given
//
// Faults use snake_case keys (seed, p500, p503, p429, p_bad_gateway,
// p_drop_before, p_drop_after, p_malformed, p_truncated, retry_after,
// latency, latency_jitter, first_n); durations are Go duration strings such
// as "250ms". Unknown keys are refused.
func (s *Server) inspect(w http.ResponseWriter, r *http.Request, p string) {
	const callsPath = "/_fake/calls"
	switch {
	case p == callsPath && r.Method == http.MethodGet:
		calls := s.Calls()
		if st := r.URL.Query().Get("status"); r.URL.Query().Has("status") {
			calls = slices.DeleteFunc(calls, func(c Call) bool { return string(c.Status) != st })
		}
		if calls == nil {
			calls = []Call{}
		}
		writeJSON(w, http.StatusOK, calls)
	case strings.HasPrefix(p, callsPath+"/") && r.Method == http.MethodGet:
		seg := p[len(callsPath)+1:]
		id, ok := unescapeSegment(seg)
		if !ok || strings.Contains(seg, "/") {
			writeJSON(w, http.StatusBadRequest, jsonError{"call id must be one escaped path segment"})
			return
		}
		c, ok := s.Call(id)
		if !ok {
			writeJSON(w, http.StatusNotFound, jsonError{fmt.Sprintf("call %q was never seen", id)})
			return
		}
		writeJSON(w, http.StatusOK, c)
	case p == "/_fake/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, statsToJSON(s.Stats()))
	case p == "/_fake/timeline" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, timelineToJSON(s.Timeline()))
	case p == "/_fake/limit" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, limitToJSON(s.Limit()))
	case p == "/_fake/faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, faultsToJSON(s.Faults()))
	case p == "/_fake/faults" && (r.Method == http.MethodPut || r.Method == http.MethodPatch):
		var base Faults
		if r.Method == http.MethodPatch {
			base = s.Faults()
		}
		f, err := decodeFaults(r, base)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, jsonError{err.Error()})
			return
		}
		s.SetFaults(f)
		writeJSON(w, http.StatusOK, faultsToJSON(f))
	default:
		writeJSON(w, http.StatusNotFound, jsonError{"no such inspection route: " + r.Method + " " + p})
	}
}

type jsonError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding failed"}`)
	}
	w.Header()["Content-Type"] = ctJSON
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// statsJSON is Stats on the wire.
type statsJSON struct {
	Requests     int64      `json:"requests"`
	Cancels      int64      `json:"cancels"`
	InFlight     int64      `json:"in_flight"`
	MaxInFlight  int64      `json:"max_in_flight"`
	FirstArrival *time.Time `json:"first_arrival"`
	LastArrival  *time.Time `json:"last_arrival"`
	Triggers     int64      `json:"triggers"`
	AuthFailures int64      `json:"auth_failures"`
	Injected     int64      `json:"injected"`

	CancelRequests  int64      `json:"cancel_requests"`
	TooManyRequests int64      `json:"too_many_requests"`
	Limited         int64      `json:"limited"`
	FirstCancel     *time.Time `json:"first_cancel"`
	LastCancel      *time.Time `json:"last_cancel"`
	Goodput         float64    `json:"goodput"` // Stats.Goodput, calls canceled per second
}

func statsToJSON(st Stats) statsJSON {
	j := statsJSON{Requests: st.Requests, Cancels: st.Cancels, InFlight: st.InFlight,
		MaxInFlight: st.MaxInFlight, Triggers: st.Triggers, AuthFailures: st.AuthFailures,
		Injected: st.Injected, CancelRequests: st.CancelRequests, TooManyRequests: st.TooManyRequests,
		Limited: st.Limited, Goodput: st.Goodput()}
	if !st.FirstArrival.IsZero() {
		j.FirstArrival, j.LastArrival = &st.FirstArrival, &st.LastArrival
	}
	if !st.FirstCancel.IsZero() {
		j.FirstCancel, j.LastCancel = &st.FirstCancel, &st.LastCancel
	}
	return j
}

// timelineJSON is Timeline on the wire.
type timelineJSON struct {
	Start    *time.Time `json:"start"`
	Slot     duration   `json:"slot"`
	Requests []int      `json:"requests"`
	Limited  []int      `json:"limited"`
}

func timelineToJSON(t Timeline) timelineJSON {
	j := timelineJSON{Slot: duration(t.Slot), Requests: t.Requests, Limited: t.Limited}
	if !t.Start.IsZero() {
		start := t.Start.UTC()
		j.Start = &start
	}
	return j
}

// limitJSON is Limit on the wire; burst is the effective one.
type limitJSON struct {
	RPS        float64     `json:"rps"`
	Burst      int         `json:"burst"`
	Window     duration    `json:"window"`
	RetryAfter bool        `json:"retry_after"`
	Headers    HeaderStyle `json:"headers"`
	Latency    bool        `json:"latency"` // Limit.Delayed, as --limit-latency
}

func limitToJSON(l Limit) limitJSON {
	j := limitJSON{RPS: l.RPS, Window: duration(l.Window), RetryAfter: !l.NoRetryAfter, Headers: l.style(), Latency: l.Delayed}
	if l.RPS > 0 && l.Window == 0 {
		j.Burst = l.EffectiveBurst()
	}
	return j
}

// duration is a time.Duration written as a Go duration string.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"250ms\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// faultsJSON is Faults on the wire.
type faultsJSON struct {
	Seed          uint64   `json:"seed"`
	P500          float64  `json:"p500"`
	P503          float64  `json:"p503"`
	P429          float64  `json:"p429"`
	PBadGateway   float64  `json:"p_bad_gateway"`
	PDropBefore   float64  `json:"p_drop_before"`
	PDropAfter    float64  `json:"p_drop_after"`
	PMalformed    float64  `json:"p_malformed"`
	PTruncated    float64  `json:"p_truncated"`
	RetryAfter    duration `json:"retry_after"`
	Latency       duration `json:"latency"`
	LatencyJitter duration `json:"latency_jitter"`
	FirstN        int      `json:"first_n"`
}

func faultsToJSON(f Faults) faultsJSON {
	return faultsJSON{f.Seed, f.P500, f.P503, f.P429, f.PBadGateway, f.PDropBefore,
		f.PDropAfter, f.PMalformed, f.PTruncated, duration(f.RetryAfter),
		duration(f.Latency), duration(f.LatencyJitter), f.FirstN}
}

func (j faultsJSON) faults() Faults {
	return Faults{j.Seed, j.P500, j.P503, j.P429, j.PBadGateway, j.PDropBefore,
		j.PDropAfter, j.PMalformed, j.PTruncated, time.Duration(j.RetryAfter),
		time.Duration(j.Latency), time.Duration(j.LatencyJitter), j.FirstN}
}

// decodeFaults reads a faults JSON body over base and validates the result.
func decodeFaults(r *http.Request, base Faults) (Faults, error) {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	j := faultsToJSON(base)
	if err := dec.Decode(&j); err != nil {
		return Faults{}, fmt.Errorf("faults: %w", err)
	}
	f := j.faults()
	if err := f.Validate(); err != nil {
		return Faults{}, err
	}
	return f, nil
}
