package batch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestShortKeyRedaction: a key shorter than ShortKey is redacted only
// where it stands whole, and the body is classified as it came: with the
// key "k", a cancel is still canceled (its "removedJobs" intact) and "Api
// key is missing" still reads so, while a message that is the key is
// redacted. A long key is redacted wherever it appears.
func TestShortKeyRedaction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key, body   string
		want        Outcome
		wantMessage string
	}{
		{"k", `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`, Canceled, "Call canceled successfully!"},
		{"k", `{"responseCode":401,"message":"Api key is missing"}`, Unauthorized, "Api key is missing"},
		{"k", `{"responseCode":400,"message":"k"}`, UnexpectedResponse, "[redacted]"},
		{"1", `{"responseCode":400,"message":"bad key 1 for call 123"}`, UnexpectedResponse, "bad key [redacted] for call 123"},
		{"long-secret-key", `{"responseCode":400,"message":"xlong-secret-keyx is wrong"}`, UnexpectedResponse, "x[redacted]x is wrong"},
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(tc.body))
		}))
		a := newTestClient(t, ts.URL, tc.key, 1).Cancel(context.Background(), "c1")
		ts.Close()
		wantRemoved := -1
		if tc.want == Canceled {
			wantRemoved = 1
		}
		if a.Outcome != tc.want || a.Message != tc.wantMessage || a.RemovedJobs != wantRemoved {
			t.Errorf("key %q, %s: %s %q removedJobs %d", tc.key, tc.body, a.Outcome, a.Message, a.RemovedJobs)
		}
	}
	// The key in a body that is no envelope, cut short for the detail.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		w.Write([]byte("<p>k</p> bad gateway for key k"))
	}))
	defer ts.Close()
	a := newTestClient(t, ts.URL, "k", 1).Cancel(context.Background(), "c1")
	if a.Outcome != ServerError || strings.Contains(strings.ReplaceAll(a.Detail, "key", ""), "k") {
		t.Errorf("%s %q", a.Outcome, a.Detail)
	}
}
