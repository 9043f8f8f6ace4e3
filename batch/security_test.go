package batch_test

// Security tests, end to end through batch.Run against the fake API or a
// hostile httptest.Server: what an input file, a server's answer or a
// redirect can make the client do (SPEC.md, "Security").

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
)

const secKey = "sec-key-3b9d"

// secHostileIDs are IDs that would change the request path if they were
// not escaped as one segment.
var secHostileIDs = []string{
	"a/b", "../x", "x?y=1", "x#y", "%2e%2e", "é", "sp ace", "a%2Fb", "..%2f",
	"a%2Fb/..", "/", "?", "#", "%", "...", `\..\x`, "x;y=z", "http://evil.example/", "日本語",
}

// secConfig is a quick run: no rate limit, millisecond backoff, a failure
// rule that never trips.
func secConfig(concurrency int) batch.Config {
	c := batch.DefaultConfig()
	c.Concurrency = concurrency
	c.Rate = 0
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

// secStartFake serves a fake API accepting secKey and returns it with its
// base URL.
func secStartFake(t *testing.T, opts fake.Options) (*fake.Server, string) {
	t.Helper()
	opts.APIKey = secKey
	srv := fake.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL + "/api"
}

func TestSecIDIsOnePathSegment(t *testing.T) {
	t.Parallel()
	srv, base := secStartFake(t, fake.Options{})
	for _, id := range secHostileIDs {
		srv.Add(id, fake.StatusQueued)
	}
	rows, err := secRun(t, secConfig(4), secClient(t, &http.Client{}, base), secCSV(t, secHostileIDs))
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
	rows, err := secRun(t, secConfig(2), secClient(t, &http.Client{}, ts.URL+"/api/"), secCSV(t, secHostileIDs))
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
	srv, base := secStartFake(t, fake.Options{})
	srv.Add("good", fake.StatusQueued)
	bad := []string{"", "   ", ".", "..", " .. ", strings.Repeat("x", 129), "a\x00b", "a\nb", "a\u0085b", "a\xffb", "a\x7f", "a\x00b"}
	rows, err := secRun(t, secConfig(2), secClient(t, http.DefaultClient, base), secCSV(t, append(bad, "good")))
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

// secCounter is an httptest.Server that must never be reached: it counts
// requests and remembers any x-api-key it is given.
type secCounter struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	keys []string
}

func secStartCounter(t *testing.T) *secCounter {
	t.Helper()
	c := &secCounter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		c.mu.Lock()
		c.keys = append(c.keys, r.Header.Get("x-api-key"))
		c.mu.Unlock()
		w.Write([]byte(`{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`))
	}))
	t.Cleanup(c.Close)
	return c
}

func TestSecRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	target := secStartCounter(t)
	for _, code := range []int{301, 302, 303, 307, 308} {
		for _, hc := range []struct {
			name string
			c    *http.Client
		}{{"NewHTTPClient", batch.NewHTTPClient(2)}, {"plain http.Client", &http.Client{}}} {
			t.Run(fmt.Sprintf("%d/%s", code, hc.name), func(t *testing.T) {
				t.Parallel()
				var hits atomic.Int64
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits.Add(1)
					loc := target.URL + "/api/call/cancel/" + strings.TrimPrefix(r.URL.EscapedPath(), "/api/call/cancel/")
					if strings.HasSuffix(r.URL.Path, "/userinfo") {
						loc = "http://user:hunter2@" + strings.TrimPrefix(target.URL, "http://") + "/x?token=s3cr3t#frag"
					}
					w.Header().Set("Location", loc)
					w.WriteHeader(code)
				}))
				defer ts.Close()
				ids := []string{"r1", "r2", "userinfo"}
				rows, err := secRun(t, secConfig(2), secClient(t, hc.c, ts.URL+"/api"), secCSV(t, ids))
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				for i, id := range ids {
					r := rows[i+1]
					if r.Outcome != batch.UnexpectedResponse || r.HTTPStatus != code || r.Attempts != 1 || r.Final() {
						t.Errorf("ID %s: %s, HTTP %d, %d attempts; want unexpected_response, HTTP %d, 1 attempt",
							id, r.Outcome, r.HTTPStatus, r.Attempts, code)
					}
					if !strings.Contains(r.Error, "redirect") {
						t.Errorf("ID %s: error %q does not say it was a redirect", id, r.Error)
					}
					for _, secret := range []string{"hunter2", "s3cr3t", "frag", secKey} {
						if strings.Contains(r.Error, secret) {
							t.Errorf("ID %s: error %q repeats %q from the Location", id, r.Error, secret)
						}
					}
				}
				if n := hits.Load(); n != int64(len(ids)) {
					t.Errorf("the redirecting server got %d requests, want %d (one each, no retry)", n, len(ids))
				}
			})
		}
	}
	t.Cleanup(func() {
		// Runs after every parallel subtest: the target never heard a thing,
		// so it never saw the key.
		target.mu.Lock()
		defer target.mu.Unlock()
		if n := target.hits.Load(); n != 0 {
			t.Errorf("the redirect target got %d requests, with keys %q", n, target.keys)
		}
	})
}

func TestSecParseBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in       string
		wantPath string // "" with ok: accepted with path ""
		ok       bool
	}{
		{"https://api.subverseai.com/api", "/api", true},
		{"https://api.subverseai.com/api/", "/api", true},
		{"https://api.subverseai.com", "", true},
		{"  https://api.subverseai.com/api  ", "/api", true},
		{"HTTPS://api.subverseai.com/api", "/api", true},
		{"http://localhost:1/", "", true},
		{"http://LOCALHOST:8080/api", "/api", true},
		{"http://localhost./api", "/api", true},
		{"http://127.0.0.1:8080/api", "/api", true},
		{"http://127.8.9.10", "", true},
		{"http://127.255.255.254/x/", "/x", true},
		{"http://[::1]:8080/api/", "/api", true},
		{"http://[::1]/api", "/api", true},

		{"http://203.0.113.10/api", "", false},
		{"http://api.subverseai.com/api", "", false},
		{"http://localhost.evil.example/api", "", false},
		{"http://127.0.0.1.nip.io/api", "", false},
		{"http://evil.example#@127.0.0.1/", "", false},
		{"http://0.0.0.0:8080/", "", false},
		{"http://[::2]/", "", false},
		{"http://[::ffff:203.0.113.10]/", "", false},
		{"http://2130706433/", "", false},
		{"http://0x7f.1/", "", false},
		{"https://u:p@host/api", "", false},
		{"https://user@host/api", "", false},
		{"https://host/api?q=1", "", false},
		{"https://host/api?", "", false},
		{"https://host/api#frag", "", false},
		{"https://host/api#", "", false},
		{"ftp://host/api", "", false},
		{"file:///etc/passwd", "", false},
		{"//host/api", "", false},
		{"host/api", "", false},
		{"https:///api", "", false},
		{"", "", false},
		{"https://ho st/", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			u, err := batch.ParseBaseURL(tc.in)
			if !tc.ok {
				if err == nil {
					t.Fatalf("accepted as %s, want refused", u)
				}
				if !errors.Is(err, batch.ErrBaseURL) {
					t.Fatalf("error %v does not wrap ErrBaseURL", err)
				}
				for _, secret := range []string{":p@", "user@", "q=1", "#frag"} {
					if strings.Contains(tc.in, secret) && strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q repeats %q", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if u.Path != tc.wantPath || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("parsed as %#v, want path %q and nothing else", u, tc.wantPath)
			}
			c := batch.NewClient(http.DefaultClient, u, "k")
			if got, want := c.URL("x"), u.Scheme+"://"+u.Host+tc.wantPath+"/call/cancel/x"; got != want {
				t.Fatalf("URL(x) = %s, want %s", got, want)
			}
		})
	}
}

// secEnvelope is a success envelope padded with spaces to n bytes.
func secEnvelope(t *testing.T, n int) []byte {
	const env = `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`
	if n < len(env) {
		t.Fatalf("%d bytes is too short", n)
	}
	return append([]byte(env), bytes.Repeat([]byte(" "), n-len(env))...)
}

func TestSecBodyLimit(t *testing.T) {
	t.Parallel()
	exact, over := secEnvelope(t, batch.MaxBody), secEnvelope(t, batch.MaxBody+1)
	if len(exact) != 1<<20 || len(over) != 1<<20+1 {
		t.Fatalf("bodies of %d and %d bytes", len(exact), len(over))
	}
	var conns atomic.Int64
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "over"):
			w.Write(over)
		case strings.Contains(r.URL.Path, "endless"):
			// An envelope that never ends, until the client hangs up.
			w.Write(exact)
			chunk := bytes.Repeat([]byte(" "), 32<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		default:
			w.Write(exact)
		}
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	defer ts.Close()

	const concurrency = 3
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("exact-%d", i), fmt.Sprintf("over-%d", i))
	}
	rows, err := secRun(t, secConfig(concurrency), secClient(t, batch.NewHTTPClient(concurrency), ts.URL), secCSV(t, ids))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for i, id := range ids {
		r := rows[i+1]
		if strings.HasPrefix(id, "exact") {
			if r.Outcome != batch.Canceled || r.RemovedJobs != 1 {
				t.Errorf("%s: a body of exactly 1 MiB gave %s (%s), want canceled", id, r.Outcome, r.Error)
			}
			continue
		}
		if r.Outcome != batch.UnexpectedResponse || r.Attempts != 1 || r.HTTPStatus != 200 {
			t.Errorf("%s: a body of 1 MiB + 1 gave %s after %d attempts, want unexpected_response after 1", id, r.Outcome, r.Attempts)
		}
		if !strings.Contains(r.Error, "larger than") {
			t.Errorf("%s: error %q does not say the body was too large", id, r.Error)
		}
	}
	if n := conns.Load(); n > concurrency {
		t.Errorf("%d connections for %d requests, concurrency %d: bodies are not drained for reuse", n, len(ids), concurrency)
	}

	// A body that never ends is refused just the same: the client stops
	// reading at the limit instead of waiting for the attempt's deadline.
	cfg := secConfig(1)
	cfg.Timeout = 5 * time.Second
	rows, err = secRun(t, cfg, secClient(t, batch.NewHTTPClient(1), ts.URL), secCSV(t, []string{"endless"}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r := rows[1]; r.Outcome != batch.UnexpectedResponse || r.Attempts != 1 {
		t.Errorf("endless body: %s after %d attempts (%s), want unexpected_response after 1", r.Outcome, r.Attempts, r.Error)
	}
}

func TestSecProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	tr, ok := batch.NewHTTPClient(4).Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T, want *http.Transport", batch.NewHTTPClient(4).Transport)
	}
	if tr.Proxy == nil || reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Fatal("the transport does not use http.ProxyFromEnvironment")
	}
}

const secProxyChildEnv = "BULKCANCEL_SEC_PROXY_CHILD"

// TestSecProxyHonoured runs TestSecProxyChild in a fresh process (Go reads
// the proxy variables once per process) with HTTPS_PROXY pointing at a
// local listener, and checks that the request went through the proxy as a
// CONNECT that does not carry the key.
func TestSecProxyHonoured(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan *http.Request, 8)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err == nil {
				got <- req
			}
			conn.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			conn.Close()
		}
	}()

	cmd := exec.Command(os.Args[0], "-test.run=^TestSecProxyChild$", "-test.count=1", "-test.v")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "REQUEST_METHOD", secProxyChildEnv:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "HTTPS_PROXY=http://"+ln.Addr().String(), secProxyChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
	if !strings.Contains(string(out), "outcome=transport_error") {
		t.Fatalf("child did not report a transport error through the refusing proxy:\n%s", out)
	}
	select {
	case req := <-got:
		if req.Method != http.MethodConnect || req.Host != "api.subverseai.invalid:443" {
			t.Errorf("proxy got %s %s, want CONNECT api.subverseai.invalid:443", req.Method, req.Host)
		}
		for name, vs := range req.Header {
			for _, v := range vs {
				if strings.Contains(v, secKey) {
					t.Errorf("the CONNECT request carries the key in %s", name)
				}
			}
		}
	default:
		t.Fatalf("the proxy got no request; child said:\n%s", out)
	}
}

// TestSecProxyChild is the child of TestSecProxyHonoured; alone it skips.
func TestSecProxyChild(t *testing.T) {
	if os.Getenv(secProxyChildEnv) != "1" {
		t.Skip("run by TestSecProxyHonoured in a child process")
	}
	c := secClient(t, batch.NewHTTPClient(1), "https://api.subverseai.invalid/api")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := c.Cancel(ctx, "abc")
	fmt.Printf("outcome=%s detail=%s\n", a.Outcome, a.Detail)
}

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
	rows, err := secRun(t, secConfig(2), secClient(t, batch.NewHTTPClient(2), ts.URL), secCSV(t, []string{"a", "b", "c"}))
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
	logs := &secLogBuffer{}
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

// TestSecEchoedKeyCutBySnippet: the key echoed where the report's snippet
// of a body, message or Location cuts it must not leave its first half
// behind. (Regression: redaction once ran after the cut.)
func TestSecEchoedKeyCutBySnippet(t *testing.T) {
	t.Parallel()
	const key = "sk-LEAKCHECK-7f3a9c"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pad int
		fmt.Sscanf(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], "p%d", &pad)
		key := r.Header.Get("x-api-key")
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
	}))
	defer ts.Close()
	u, err := batch.ParseBaseURL(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := batch.NewClient(batch.NewHTTPClient(1), u, key)
	// Body snippets are cut near 120 bytes, Location and message snippets
	// near 200.
	var pads []int
	for p := 95; p <= 125; p++ {
		pads = append(pads, p)
	}
	for p := 1150; p <= 1185; p++ {
		pads = append(pads, p)
	}
	for p := 2180; p <= 2205; p++ {
		pads = append(pads, p)
	}
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

// TestSecEchoedEscapedKeyCutBySnippet: the same with the key JSON-escaped in
// an envelope message (as an encoder that escapes <, > and & would write a
// key holding them): redacting the raw body misses it, and the message is
// cut for the error column unless the decoded key is redacted first.
func TestSecEchoedEscapedKeyCutBySnippet(t *testing.T) {
	t.Parallel()
	const key = "sk-LEAKCHECK-7f3a9c"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var pad int
		fmt.Sscanf(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:], "p%d", &pad)
		var esc strings.Builder
		for _, c := range r.Header.Get("x-api-key") {
			fmt.Fprintf(&esc, `\u%04x`, c)
		}
		fmt.Fprintf(w, `{"responseCode":500,"message":"%s%s and more","data":null}`, strings.Repeat("m", pad), esc.String())
	}))
	defer ts.Close()
	u, err := batch.ParseBaseURL(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := batch.NewClient(batch.NewHTTPClient(1), u, key)
	for p := 175; p <= 205; p++ { // message snippets are cut near 200 bytes
		a := c.Cancel(context.Background(), fmt.Sprintf("p%d", p))
		for n := 8; n <= len(key); n++ {
			if strings.Contains(a.Detail, key[:n]) || strings.Contains(a.Message, key[:n]) {
				t.Errorf("pad %d: %d bytes of the key are in %q", p, n, a.Detail)
				break
			}
		}
	}
}

// secLogBuffer collects log lines written from several goroutines.
type secLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *secLogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *secLogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
