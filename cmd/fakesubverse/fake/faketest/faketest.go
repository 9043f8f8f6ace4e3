// Package faketest is what the tests of several packages share: the
// stand-in API served for one test, a file written for one, and a buffer
// that goroutines write while the test reads it. Only _test.go files import it.
package faketest

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
)

// StartFake serves a fake.Server built from opts on loopback, as
// httptest.NewServer does, until t ends. It returns the server and its base
// URL, which ends in /api as the real API's does; the fake serves every
// route without that prefix too.
func StartFake(t testing.TB, opts fake.Options) (*fake.Server, string) {
	t.Helper()
	srv := fake.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts.URL + "/api"
}

// WriteFile writes data to dir/name, readable by the owner only, and
// returns its path.
func WriteFile(t testing.TB, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Buffer is a bytes.Buffer safe for concurrent use: goroutines write to it
// while the test reads it. It keeps each Write apart too, for Writes. The
// zero value is an empty buffer.
type Buffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	ends []int // where each Write ended
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	b.ends = append(b.ends, b.b.Len())
	return n, err
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Writes returns what each Write wrote, in order.
func (b *Buffer) Writes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	all, start := b.b.String(), 0
	ws := make([]string, len(b.ends))
	for i, end := range b.ends {
		ws[i], start = all[start:end], end
	}
	return ws
}
