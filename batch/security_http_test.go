package batch_test

// Security tests of what a server or the network can do: redirects, the
// base URL, oversized bodies, proxies.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

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
		}{
			{"NewHTTPClient", batch.NewHTTPClient(2)},
			{"plain http.Client", secPlainClient()}, // one that would follow redirects
		} {
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
				cfg := secConfig(2)
				logs := &faketest.Buffer{}
				cfg.Log = zerolog.New(logs)
				rows, err := secRun(t, cfg, secClient(t, hc.c, ts.URL+"/api"), secCSV(t, ids))
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				for i, id := range ids {
					r := rows[i+1]
					if r.Outcome != batch.UnexpectedResponse || r.HTTPStatus != code || r.Attempts != 1 || r.Final() {
						t.Errorf("ID %s: %s, HTTP %d, %d attempts (%s); want unexpected_response, HTTP %d, 1 attempt",
							id, r.Outcome, r.HTTPStatus, r.Attempts, r.Error, code)
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
					t.Errorf("the redirecting server got %d requests, want %d (one each, no retry); log:\n%s", n, len(ids), logs)
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
		in         string
		wantPath   string // "" with ok: accepted with path ""
		ok         bool
		say, never string // in the error, and not
	}{
		{"https://api.subverseai.com/api", "/api", true, "", ""},
		{"https://api.subverseai.com/api/", "/api", true, "", ""},
		{"https://api.subverseai.com", "", true, "", ""},
		{"  https://api.subverseai.com/api  ", "/api", true, "", ""},
		{"HTTPS://api.subverseai.com/api", "/api", true, "", ""},
		{"http://localhost:1/", "", true, "", ""},
		{"http://LOCALHOST:8080/api", "/api", true, "", ""},
		{"http://localhost./api", "/api", true, "", ""},
		{"http://127.0.0.1:8080/api", "/api", true, "", ""},
		{"http://127.8.9.10", "", true, "", ""},
		{"http://127.255.255.254/x/", "/x", true, "", ""},
		{"http://[::1]:8080/api/", "/api", true, "", ""},
		{"http://[::1]/api", "/api", true, "", ""},

		{"http://203.0.113.10/api", "", false, "", ""},
		{"http://api.subverseai.com/api", "", false, "", ""},
		{"http://localhost.evil.example/api", "", false, "", ""},
		{"http://127.0.0.1.nip.io/api", "", false, "", ""},
		{"http://evil.example#@127.0.0.1/", "", false, "", ""},
		{"http://0.0.0.0:8080/", "", false, "", ""},
		{"http://[::2]/", "", false, "", ""},
		{"http://[::ffff:203.0.113.10]/", "", false, "", ""},
		{"http://2130706433/", "", false, "", ""},
		{"http://0x7f.1/", "", false, "", ""},
		{"https://u:p@host/api", "", false, "", ""},
		{"https://user@host/api", "", false, "", ""},
		{"https://host/api?q=1", "", false, "", ""},
		{"https://host/api?", "", false, "", ""},
		{"https://host/api#frag", "", false, "", ""},
		{"https://host/api#", "", false, "", ""},
		{"ftp://host/api", "", false, "", ""},
		{"file:///etc/passwd", "", false, "", ""},
		{"//host/api", "", false, "", ""},
		{"host/api", "", false, "", ""},
		{"https:///api", "", false, "", ""},
		{"", "", false, "", ""},
		{"https://ho st/", "", false, "", ""},
		// No scheme: the error says which one was probably meant.
		{in: "127.0.0.1:8080/api", say: "did you mean http://127.0.0.1:8080/api?"},
		{in: "localhost:8080/api", say: "did you mean http://localhost:8080/api?"},
		{in: "[::1]:8080/api", say: "did you mean http://[::1]:8080/api?"},
		{in: "api.subverseai.com/api", say: "did you mean https://api.subverseai.com/api?"},
		{in: "user:secret@host/api", say: "no scheme", never: "secret"},
		{in: "host/api?token=secret", say: "no scheme", never: "secret"},
		{in: "https:/api.subverseai.com/api", say: "two slashes"},
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
				if !strings.Contains(err.Error(), tc.say) || tc.never != "" && strings.Contains(err.Error(), tc.never) {
					t.Fatalf("error %q, want it to say %q and not %q", err, tc.say, tc.never)
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
