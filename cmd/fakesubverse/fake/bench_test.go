package fake_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// discard is a minimal ResponseWriter for measuring the handler alone.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkServeHTTP measures the handler without the network.
func BenchmarkServeHTTP(b *testing.B) {
	s := fake.New(fake.Options{APIKey: key})
	ids := s.Seed(100000)
	b.ReportAllocs()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		w := &discard{h: http.Header{}}
		for pb.Next() {
			id := ids[int(next.Add(1))%len(ids)]
			r := httptest.NewRequest(http.MethodPut, "/api/call/cancel/"+id, nil)
			r.Header.Set("x-api-key", key)
			s.ServeHTTP(w, r)
		}
	})
}

// BenchmarkCancelLoopback measures whole requests over loopback.
func BenchmarkCancelLoopback(b *testing.B) {
	_, base := faketest.StartFake(b, fake.Options{})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPut, base+"/call/cancel/id"+strconv.FormatInt(next.Add(1), 10), nil)
			req.Header.Set("x-api-key", key)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
