package batch_test

// Security tests of the API key: where it travels, and that a server
// echoing it back never gets it into a result or a log.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// TestSecKeyOnlyInHeader: the key travels in x-api-key and nowhere else in
// the request.
func TestSecKeyOnlyInHeader(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var problems []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if got := r.Header.Values("x-api-key"); len(got) != 1 || got[0] != secKey {
			problems = append(problems, fmt.Sprintf("x-api-key is %q", got))
		}
		if strings.Contains(r.RequestURI, secKey) {
			problems = append(problems, "the key is in the request line")
		}
		for name, vs := range r.Header {
			for _, v := range vs {
				if name != "X-Api-Key" && strings.Contains(v, secKey) {
					problems = append(problems, "the key is in header "+name)
				}
			}
		}
		w.Write([]byte(`{"responseCode":400,"message":"User call not found.","data":null}`))
	}))
	defer ts.Close()
	cfg := secConfig(2)
	cfg.ExpectNotFound = true // every answer is "not found"
	rows, err := secRun(t, cfg, secClient(t, batch.NewHTTPClient(2), ts.URL), secCSV(t, []string{"a", "b", "c"}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, r := range rows {
		if r.Outcome != batch.NotFound {
			t.Errorf("row %d: %s", r.Row, r.Outcome)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
}

// TestSecEnvelopeWithOddlyTypedField: an envelope whose responseCode says
// 401 is unauthorized even in an HTTP 200, whatever the type of a side
// field; HTTP 200 and HTTP 401 with the same envelope classify alike.
// (Regression: such an envelope once fell back to the HTTP status, so the
// run went on with a rejected key.)
func TestSecEnvelopeWithOddlyTypedField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want batch.Outcome
	}{
		{`{"responseCode":401,"message":"Invalid API key","errorCode":401,"data":null}`, batch.Unauthorized},
		{`{"responseCode":401,"message":{"text":"Invalid API key"},"data":null}`, batch.Unauthorized},
		{`{"responseCode":403,"message":["Forbidden"],"data":null}`, batch.Unauthorized},
		{`{"responseCode":429,"message":"Too many requests","errorCode":{"retry":true}}`, batch.RateLimited},
		{`{"responseCode":503,"message":503}`, batch.ServerError},
	} {
		for _, st := range []int{200, 400, 401} {
			if v := batch.Classify(st, []byte(tc.body)); v.Outcome != tc.want {
				t.Errorf("HTTP %d %s: %s (%s), want %s: the responseCode decides", st, tc.body, v.Outcome, v.Detail, tc.want)
			}
		}
	}
}

// TestSecEchoedKeyIsRedacted: a server that puts the request's key into its
// answer (a message, an HTML page, a redirect target) must not get it into
// a report row or a log line.
func TestSecEchoedKeyIsRedacted(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("x-api-key")
		switch path := r.URL.Path; {
		case strings.HasSuffix(path, "/envelope"):
			fmt.Fprintf(w, `{"responseCode":400,"message":"User call not found for key %s","data":null}`, key)
		case strings.HasSuffix(path, "/escaped"):
			var esc strings.Builder
			for _, c := range key {
				fmt.Fprintf(&esc, `\u%04x`, c)
			}
			fmt.Fprintf(w, `{"responseCode":400,"message":"Something new: %s","data":null}`, esc.String())
		case strings.HasSuffix(path, "/html"):
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<html><body>bad request from %s</body></html>", key)
		case strings.HasSuffix(path, "/gateway"):
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body>upstream refused %s</body></html>", key)
		case strings.HasSuffix(path, "/redirect"):
			w.Header().Set("Location", "https://elsewhere.example/"+key+"/call")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case strings.HasSuffix(path, "/unauthorized"):
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"responseCode":401,"message":"Invalid API key %s","data":null}`, key)
		}
	}))
	defer ts.Close()
	logs := &faketest.Buffer{}
	cfg := secConfig(1)
	cfg.Log = zerolog.New(logs)
	ids := []string{"envelope", "escaped", "html", "gateway", "redirect", "unauthorized"}
	rows, err := secRun(t, cfg, secClient(t, batch.NewHTTPClient(1), ts.URL), secCSV(t, ids))
	if !errors.Is(err, batch.ErrUnauthorized) {
		t.Errorf("Run: %v, want ErrUnauthorized from the last row", err)
	}
	for _, r := range rows {
		if strings.Contains(r.Message, secKey) || strings.Contains(r.Error, secKey) {
			t.Errorf("row %d (%s, %s): the key is in the row: message %q, error %q", r.Row, r.CallID, r.Outcome, r.Message, r.Error)
		}
	}
	if strings.Contains(logs.String(), secKey) {
		t.Errorf("the key is in the log:\n%s", logs.String())
	}
}

// secSnippetLeaks cancels "pN" for each pad N against a server that
// answers with echo(w, key, N), and fails for every answer that keeps 8
// bytes or more of the key.
func secSnippetLeaks(t *testing.T, pads []int, echo func(w http.ResponseWriter, key string, pad int)) {
	t.Helper()
	const key = "sk-LEAKCHECK-7f3a9c"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pad int
		fmt.Sscanf(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], "p%d", &pad)
		echo(w, r.Header.Get("x-api-key"), pad)
	}))
	defer ts.Close()
	u, err := batch.ParseBaseURL(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := batch.NewClient(batch.NewHTTPClient(1), u, key)
	for _, p := range pads {
		a := c.Cancel(context.Background(), fmt.Sprintf("p%d", p))
		for n := 8; n <= len(key); n++ {
			if strings.Contains(a.Detail, key[:n]) || strings.Contains(a.Message, key[:n]) {
				t.Errorf("pad %d: %d bytes of the key are in %q", p, n, a.Detail)
				break
			}
		}
	}
}

// secPads are the pads from lo to hi, both included.
func secPads(lo, hi int) []int {
	var pads []int
	for p := lo; p <= hi; p++ {
		pads = append(pads, p)
	}
	return pads
}

// TestSecEchoedKeyCutBySnippet: the key echoed where the report's snippet
// of a body, message or Location cuts it must not leave its first half
// behind. (Regression: redaction once ran after the cut.) Body snippets
// are cut near 120 bytes, Location and message snippets near 200.
func TestSecEchoedKeyCutBySnippet(t *testing.T) {
	t.Parallel()
	pads := append(append(secPads(95, 125), secPads(1150, 1185)...), secPads(2180, 2205)...)
	secSnippetLeaks(t, pads, func(w http.ResponseWriter, key string, pad int) {
		switch {
		case pad >= 2000:
			fmt.Fprintf(w, `{"responseCode":500,"message":"%s%s and more","data":null}`, strings.Repeat("m", pad-2000), key)
		case pad >= 1000:
			w.Header().Set("Location", "https://elsewhere.example/"+strings.Repeat("a", pad-1000)+key)
			w.WriteHeader(http.StatusFound)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "%s%s and more", strings.Repeat("x", pad), key)
		}
	})
}

// TestSecEchoedEscapedKeyCutBySnippet: the same with the key JSON-escaped in
// an envelope message (as an encoder that escapes <, > and & would write a
// key holding them): redacting the raw body misses it, and the message is
// cut for the error column unless the decoded key is redacted first.
func TestSecEchoedEscapedKeyCutBySnippet(t *testing.T) {
	t.Parallel()
	// Message snippets are cut near 200 bytes.
	secSnippetLeaks(t, secPads(175, 205), func(w http.ResponseWriter, key string, pad int) {
		var esc strings.Builder
		for _, c := range key {
			fmt.Fprintf(&esc, `\u%04x`, c)
		}
		fmt.Fprintf(w, `{"responseCode":500,"message":"%s%s and more","data":null}`, strings.Repeat("m", pad), esc.String())
	})
}
