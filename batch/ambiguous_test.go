package batch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
)

// TestAmbiguousOnNonFinalRows: a row whose ID may have reached the server
// (an attempt written then dropped, a 5xx, or an earlier run's send) keeps
// ambiguous=true whatever non-final outcome it ends with, so a later
// resume still treats it as possibly sent; a row no attempt of which can
// have reached the server is never ambiguous, nor is a canceled or
// not_found row.
func TestAmbiguousOnNonFinalRows(t *testing.T) {
	t.Parallel()
	const (
		ok      = `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`
		gone    = `{"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue."}`
		nf      = `{"responseCode":400,"message":"User call not found."}`
		weird   = `{"responseCode":200,"message":"something new"}`
		limited = `{"responseCode":429,"message":"Too many requests"}`
		err500  = `{"responseCode":500,"message":"Internal error"}`
	)
	type answer struct {
		status int
		body   string // "drop" closes the connection after reading the request
	}
	cases := []struct {
		name      string
		maybeSent bool
		answers   []answer
		want      Outcome
		ambiguous bool
	}{
		{"drop then 429", false, []answer{{0, "drop"}, {429, limited}}, RateLimited, true},
		{"500 then unexpected", false, []answer{{500, err500}, {200, weird}}, UnexpectedResponse, true},
		{"drop then 302", false, []answer{{0, "drop"}, {302, ""}}, UnexpectedResponse, true},
		{"500 to the end", false, []answer{{500, err500}, {500, err500}}, ServerError, true},
		{"drop to the end", false, []answer{{0, "drop"}, {0, "drop"}}, TransportError, true},
		{"500 then gone", false, []answer{{500, err500}, {400, gone}}, NotCancelable, true},
		{"500 then canceled", false, []answer{{500, err500}, {200, ok}}, Canceled, false},
		{"500 then not found", false, []answer{{500, err500}, {400, nf}}, NotFound, false},
		{"429 only", false, []answer{{429, limited}, {429, limited}}, RateLimited, false},
		{"unexpected only", false, []answer{{200, weird}}, UnexpectedResponse, false},
		{"gone at once", false, []answer{{400, gone}}, NotCancelable, false},
		{"earlier run, 429", true, []answer{{429, limited}, {429, limited}}, RateLimited, true},
		{"earlier run, unexpected", true, []answer{{200, weird}}, UnexpectedResponse, true},
		{"earlier run, gone", true, []answer{{400, gone}}, NotCancelable, true},
		{"earlier run, canceled", true, []answer{{200, ok}}, Canceled, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			n := 0
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				a := tc.answers[min(n, len(tc.answers)-1)]
				n++
				mu.Unlock()
				if a.body == "drop" {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				if a.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(a.status)
				w.Write([]byte(a.body))
			}))
			t.Cleanup(ts.Close)
			c := newTestClient(t, ts.URL, testKey, 1)
			cfg := testConfig()
			cfg.Concurrency, cfg.MaxAttempts = 1, len(tc.answers)
			cfg.ExpectNotFound = true // one not_found answer alone would trip the wrong-workspace rule
			var got []Result
			jobs := func(yield func(Job) bool) { yield(Job{Row: 1, ID: "c1", MaybeSent: tc.maybeSent}) }
			if err := Run(context.Background(), cfg, c, jobs, func(r Result) error { got = append(got, r); return nil }); err != nil {
				t.Fatal(err)
			}
			r := got[0]
			if r.Outcome != tc.want || r.Ambiguous != tc.ambiguous {
				t.Errorf("%s ambiguous=%v, want %s ambiguous=%v (%s)", r.Outcome, r.Ambiguous, tc.want, tc.ambiguous, r.Error)
			}
			if r.Outcome == NotCancelable && r.Ambiguous != strings.Contains(r.Error, "may have canceled") {
				t.Errorf("error %q", r.Error)
			}
		})
	}
}

// TestAmbiguousNotAttempted: a possibly-sent job that a stopped run never
// sends keeps ambiguous=true on its not_attempted row; another does not.
func TestAmbiguousNotAttempted(t *testing.T) {
	t.Parallel()
	_, c := startFake(t, fake.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	jobs := func(yield func(Job) bool) {
		_ = yield(Job{Row: 1, ID: "a", MaybeSent: true}) && yield(Job{Row: 2, ID: "b"})
	}
	got := map[string]Result{}
	Run(ctx, testConfig(), c, jobs, func(r Result) error { got[r.CallID] = r; return nil })
	if a, b := got["a"], got["b"]; a.Outcome != NotAttempted || !a.Ambiguous || b.Outcome != NotAttempted || b.Ambiguous {
		t.Errorf("a %+v\nb %+v", a, b)
	}
}
