package batch_test

// Security tests, end to end through batch.Run against the fake API or a
// hostile httptest.Server: what an input file, a server's answer or a
// redirect can make the client do. The rules: the key travels in x-api-key
// and nowhere else, and no answer gets it into a result or a log; an ID is
// one path segment or is not sent; a redirect is not followed; a body is
// read up to a limit. This file holds the helpers they share and the call
// ID tests (one path segment, what is never sent); security_http_test.go
// the server and network side; security_key_test.go the key.

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

const secKey = "sec-key-3b9d"

// secHostileIDs are IDs that would change the request path if they were
// not escaped as one segment.
var secHostileIDs = []string{
	"a/b", "../x", "x?y=1", "x#y", "%2e%2e", "é", "sp ace", "a%2Fb", "..%2f",
	"a%2Fb/..", "/", "?", "#", "%", "...", `\..\x`, "x=y&z", "http://evil.example/", "日本語",
}

// secConfig is a quick run: no rate limit, millisecond backoff, a failure
// rule that never trips.
func secConfig(concurrency int) batch.Config {
	c := batch.DefaultConfig()
	c.Concurrency = concurrency
	c.AutoRate, c.Rate = false, 0
	c.MaxAttempts = 3
	c.Timeout = 10 * time.Second
	c.BaseBackoff = time.Millisecond
	c.MaxBackoff = time.Millisecond
	c.MinSample = 1 << 30
	return c
}

// secClient returns a client for the API at base, built on hc.
func secClient(t *testing.T, hc *http.Client, base string) *batch.Client {
	t.Helper()
	u, err := batch.ParseBaseURL(base)
	if err != nil {
		t.Fatalf("ParseBaseURL(%q): %v", base, err)
	}
	return batch.NewClient(hc, u, secKey)
}

// secCSV writes ids as a one-column CSV with a call_id header.
func secCSV(t *testing.T, ids []string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"call_id"})
	for _, id := range ids {
		if id == "" {
			// csv.Writer would write a blank line, which is not a row.
			w.Flush()
			b.WriteString("\"\"\n")
			continue
		}
		w.Write([]string{id})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// secRun reads data as an input CSV, plans it and runs it; it returns
// every row's Result by row number (settled rows included) and Run's error.
// secPlainClient is an http.Client as a library user might pass one:
// nothing set but a transport of its own, because every
// httptest.Server.Close closes http.DefaultTransport's idle connections,
// which can break one a parallel test is using.
func secPlainClient() *http.Client { return &http.Client{Transport: &http.Transport{}} }

func secRun(t *testing.T, cfg batch.Config, c *batch.Client, data []byte) (map[int]batch.Result, error) {
	t.Helper()
	in, err := batch.ReadInput(bytes.NewReader(data), "sec.csv", batch.InputOptions{})
	if err != nil {
		t.Fatalf("ReadInput: %v", err)
	}
	plan := batch.NewPlan(in, batch.PlanOptions{})
	rows := map[int]batch.Result{}
	for r := range plan.Settled() {
		rows[r.Row] = r
	}
	runErr := batch.Run(context.Background(), cfg, c, plan.Jobs(), func(r batch.Result) error {
		if _, dup := rows[r.Row]; dup {
			t.Errorf("row %d reported twice", r.Row)
		}
		rows[r.Row] = r
		return nil
	})
	if len(rows) != in.Len() {
		t.Fatalf("%d rows reported for %d input rows", len(rows), in.Len())
	}
	return rows, runErr
}

func TestSecIDIsOnePathSegment(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{APIKey: secKey})
	for _, id := range secHostileIDs {
		srv.Add(id, fake.StatusQueued)
	}
	rows, err := secRun(t, secConfig(4), secClient(t, secPlainClient(), base), secCSV(t, secHostileIDs))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, id := range secHostileIDs {
		r := rows[i+1]
		if r.CallID != id || r.Outcome != batch.Canceled || r.Attempts != 1 {
			t.Errorf("ID %q: row %+v, want canceled after 1 attempt", id, r)
		}
		c, ok := srv.Call(id)
		if !ok || c.Requests != 1 || c.Cancels != 1 {
			t.Errorf("ID %q: the fake saw %+v (ok=%v), want exactly 1 request that canceled it", id, c, ok)
		}
	}
	// No request went anywhere else: every ID the fake knows is one of ours.
	calls := srv.Calls()
	if len(calls) != len(secHostileIDs) {
		t.Errorf("the fake knows %d IDs, want %d: %+v", len(calls), len(secHostileIDs), calls)
	}
	for _, c := range calls {
		if !slices.Contains(secHostileIDs, c.ID) {
			t.Errorf("the fake recorded a request for %q, which is no input ID", c.ID)
		}
	}
	if st := srv.Stats(); st.Requests != int64(len(secHostileIDs)) {
		t.Errorf("the fake got %d requests, want %d", st.Requests, len(secHostileIDs))
	}
}

// TestSecIDOnTheWire looks at the raw request line: the ID is one escaped
// segment under the base path, with no query or fragment.
func TestSecIDOnTheWire(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]string{} // decoded last segment -> raw request URI
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		raw := r.RequestURI
		seg, ok := strings.CutPrefix(raw, "/api/call/cancel/")
		id, err := url.PathUnescape(seg)
		if !ok || err != nil || strings.ContainsAny(seg, "/?#") || r.Method != http.MethodPut {
			t.Errorf("%s %s is not PUT /api/call/cancel/{one segment}", r.Method, raw)
		}
		seen[id] = raw
		w.Write([]byte(`{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`))
	}))
	defer ts.Close()
	rows, err := secRun(t, secConfig(2), secClient(t, secPlainClient(), ts.URL+"/api/"), secCSV(t, secHostileIDs))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, id := range secHostileIDs {
		if rows[i+1].Outcome != batch.Canceled {
			t.Errorf("ID %q: %s", id, rows[i+1].Outcome)
		}
		if _, ok := seen[id]; !ok {
			t.Errorf("ID %q never arrived as itself; the server saw %v", id, seen)
		}
	}
	if len(seen) != len(secHostileIDs) {
		t.Errorf("server saw %d distinct IDs, want %d: %v", len(seen), len(secHostileIDs), seen)
	}
}

func TestSecCheckID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		id   string
		ok   bool
	}{
		{"empty", "", false},
		{"dot", ".", false},
		{"dot dot", "..", false},
		{"129 bytes", strings.Repeat("a", 129), false},
		{"128 bytes", strings.Repeat("a", 128), true},
		{"128 bytes of two-byte runes", strings.Repeat("é", 64), true},
		{"130 bytes of two-byte runes", strings.Repeat("é", 65), false},
		{"NUL", "a\x00b", false},
		{"newline", "a\nb", false},
		{"carriage return", "a\rb", false},
		{"tab", "a\tb", false},
		{"semicolon", "x;y=z", false},
		{"comma", "a,b", false},
		{"DEL", "a\x7fb", false},
		{"NEL U+0085", "a\u0085b", false},
		{"C1 U+009B", "a\u009bb", false},
		{"ESC", "\x1b[31m", false},
		{"invalid UTF-8", "a\xffb", false},
		{"truncated UTF-8", "a\xc3", false},
		{"surrogate half", "a\xed\xa0\x80", false},
		{"three dots", "...", true},
		{"hostile but printable", "../x", true},
		{"percent", "%2e%2e", true},
		{"space inside", "sp ace", true},
		{"mongo id", "665f1c2e9b1d4a0012345678", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reason := batch.CheckID(tc.id)
			if (reason == "") != tc.ok {
				t.Fatalf("CheckID(%q) = %q, want ok=%v", tc.id, reason, tc.ok)
			}
			if !tc.ok && strings.ContainsAny(reason, "\r\n\x00") {
				t.Fatalf("reason %q is not one clean line", reason)
			}
		})
	}
}

// TestSecInvalidIDsAreNeverSent: IDs that cannot be call IDs end invalid_id
// and the server never hears of them, however often they repeat.
func TestSecInvalidIDsAreNeverSent(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{APIKey: secKey})
	srv.Add("good", fake.StatusQueued)
	bad := []string{"", "   ", ".", "..", " .. ", strings.Repeat("x", 129), "a\x00b", "a\nb", "a\u0085b", "a\xffb", "a\x7f", "a\x00b"}
	rows, err := secRun(t, secConfig(2), secClient(t, secPlainClient(), base), secCSV(t, append(bad, "good")))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i := range bad {
		if r := rows[i+1]; r.Outcome != batch.InvalidID || r.Attempts != 0 {
			t.Errorf("row %d (%q): %s after %d attempts, want invalid_id, never sent", i+1, bad[i], r.Outcome, r.Attempts)
		}
	}
	if r := rows[len(bad)+1]; r.Outcome != batch.Canceled {
		t.Errorf("the good ID: %s", r.Outcome)
	}
	if st := srv.Stats(); st.Requests != 1 {
		t.Errorf("the fake got %d requests, want 1 (only the good ID)", st.Requests)
	}
}
