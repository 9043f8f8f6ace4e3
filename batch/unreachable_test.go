package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A base URL where nothing listens: every attempt is refused. The run
// stops once the first rows have all failed to connect, naming the host,
// and most rows are never sent.
func TestRunStopsWhenNothingReachesTheAPI(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	c := newTestClient(t, "http://"+addr, testKey, 4)
	cfg := testConfig()
	cfg.Concurrency, cfg.MaxAttempts, cfg.BaseBackoff = 4, 3, time.Millisecond
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = "c" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	got, err := runAll(t, context.Background(), cfg, c, ids)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err %v, want ErrUnreachable naming %s", err, addr)
	}
	sent := 0
	for _, r := range got {
		if r.Attempts > 0 {
			sent++
		}
	}
	if sent < 4 || sent > 4*openRows+4 {
		t.Errorf("%d of %d IDs sent, want the first few only", sent, len(ids))
	}
}

// One attempt that connects turns the rule off: later refusals are the
// failure rule's business, not "nothing reaches the API".
func TestUnreachableRuleOffOnceConnected(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Concurrency, cfg.MinSample = 2, 100
	refused := Attempt{Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
	row := Result{Outcome: TransportError, Attempts: 1}

	if !connectFailure(refused) || connectFailure(Attempt{HTTPStatus: 500}) {
		t.Fatal("a refused dial is a connect failure; an answer is none")
	}
	u := newUnreachableRule(cfg)
	if err := u.add(row, "h"); err != nil {
		t.Fatalf("tripped after 1 of 2 rows: %v", err)
	}
	if err := u.add(row, "h"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("2 of 2 rows never connected: %v, want ErrUnreachable", err)
	}

	u = newUnreachableRule(cfg)
	u.reached() // an answer came
	u.add(row, "h")
	if err := u.add(row, "h"); err != nil {
		t.Errorf("tripped after an answer had come: %v", err)
	}
	if connectFailure(Attempt{Err: refused.Err, Written: true}) {
		t.Error("a failure after the request was written is not a connect failure")
	}
}

// A host whose TLS certificate the client does not trust is reached by
// nothing either: no request is ever written.
func TestRunStopsWhenTLSFailsForEveryAttempt(t *testing.T) {
	t.Parallel()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // each handshake fails, on purpose
	ts.StartTLS()                                   // with a certificate no client trusts
	t.Cleanup(ts.Close)
	c := newTestClient(t, ts.URL, testKey, 4)
	cfg := testConfig()
	cfg.Concurrency, cfg.MaxAttempts, cfg.BaseBackoff = 4, 3, time.Millisecond
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%03d", i)
	}
	_, err := runAll(t, context.Background(), cfg, c, ids)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err %v, want ErrUnreachable naming the certificate", err)
	}
}
