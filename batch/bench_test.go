package batch_test

// Benchmarks of the hot paths: classification, the input reader, the
// plan, and the engine end to end. They run only with -bench, e.g.
//
//	go test -run '^$' -bench . -benchmem ./batch
//
// Figures per row are reported as custom metrics (ns/row, allocs/row,
// rows/s) where one op is more than one row.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
	"github.com/subverseai/bulkcancel/report"
)

const benchKey = "bench-key"

// The fake's answers, byte for byte: the common case of a run.
var (
	benchCanceled   = []byte(`{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`)
	benchNotInQueue = []byte(`{"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue.","data":null}`)
)

func BenchmarkClassify(b *testing.B) {
	for _, bc := range []struct {
		name   string
		status int
		body   []byte
		want   batch.Outcome
	}{
		{"canceled", 200, benchCanceled, batch.Canceled},
		{"not_in_queue", 400, benchNotInQueue, batch.NotCancelable},
		{"not_in_queue_envelope200", 200, benchNotInQueue, batch.NotCancelable},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				if v := batch.Classify(bc.status, bc.body); v.Outcome != bc.want {
					b.Fatalf("got %s, want %s", v.Outcome, bc.want)
				}
			}
		})
	}
}

// benchInput is an input CSV shaped like fakesubverse --ids-out: a header
// and call_id,status rows with 24-hex IDs.
func benchInput(rows int) []byte {
	var buf bytes.Buffer
	buf.Grow(rows * 40)
	buf.WriteString("call_id,status\n")
	for i := range rows {
		fmt.Fprintf(&buf, "6683%020x,call_in_queue\n", i)
	}
	return buf.Bytes()
}

const benchRows = 100_000

// perRow reports ns/row and allocs/row for ops of rows rows each.
func perRow(b *testing.B, rows int, mallocs0 uint64) {
	n := float64(b.N) * float64(rows)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/row")
	b.ReportMetric(float64(mallocs()-mallocs0)/n, "allocs/row")
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// BenchmarkReadInput reads a 100,000-row input from memory.
func BenchmarkReadInput(b *testing.B) {
	data := benchInput(benchRows)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	m0 := mallocs()
	for b.Loop() {
		in, err := batch.ReadInput(bytes.NewReader(data), "bench.csv", batch.InputOptions{SizeHint: int64(len(data))})
		if err != nil || in.Len() != benchRows {
			b.Fatalf("ReadInput: %v, %d rows", err, in.Len())
		}
	}
	perRow(b, benchRows, m0)
}

// BenchmarkNewPlan validates and dedupes a 100,000-row input (every
// tenth row repeats the ID nine rows up).
func BenchmarkNewPlan(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("call_id\n")
	for i := range benchRows {
		id := i
		if i%10 == 9 {
			id = i - 9 // row i-9 holds a unique ID
		}
		fmt.Fprintf(&buf, "6683%020x\n", id)
	}
	in, err := batch.ReadInput(&buf, "bench.csv", batch.InputOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	m0 := mallocs()
	for b.Loop() {
		p := batch.NewPlan(in, batch.PlanOptions{})
		if p.Counts.Duplicate != benchRows/10 {
			b.Fatalf("%d duplicates", p.Counts.Duplicate)
		}
	}
	perRow(b, benchRows, m0)
}

// stubTransport answers every request at once with the fake's success
// envelope, without a network: what is left is the engine and client.
type stubTransport struct{}

func (stubTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(benchCanceled)),
		ContentLength: int64(len(benchCanceled)), Request: r,
	}, nil
}

func benchJobs(ids []string) iter.Seq[batch.Job] {
	return func(yield func(batch.Job) bool) {
		for i, id := range ids {
			if !yield(batch.Job{Row: i + 1, ID: id}) {
				return
			}
		}
	}
}

func benchConfig(concurrency int) batch.Config {
	cfg := batch.DefaultConfig()
	cfg.AutoRate, cfg.Rate, cfg.Concurrency = false, 0, concurrency
	return cfg
}

// benchSink is where a run's rows go: nowhere, or a report CSV in a
// temporary directory, as the command writes it.
func benchSink(b *testing.B, withReport bool) (sink func(batch.Result) error, done func()) {
	if !withReport {
		return func(batch.Result) error { return nil }, func() {}
	}
	w, err := report.CreateCSV(filepath.Join(b.TempDir(), fmt.Sprintf("report-%d.csv", b.N)))
	if err != nil {
		b.Fatal(err)
	}
	return w.Write, func() {
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		_ = os.Remove(w.Path())
	}
}

// BenchmarkRun runs the engine end to end at --rate 0, one op per row:
// against a stub transport (engine and client only), and against the
// fake over loopback (faketest.StartFake, client and server in one
// process: allocs then include the server's), each with and without the
// report CSV written.
func BenchmarkRun(b *testing.B) {
	for _, tc := range []struct {
		name       string
		loopback   bool
		withReport bool
	}{
		{"stub", false, false},
		{"stub+report", false, true},
		{"loopback-fake", true, false},
		{"loopback-fake+report", true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const concurrency = 64
			ids := make([]string, b.N)
			var client *batch.Client
			if tc.loopback {
				srv, url := faketest.StartFake(b, fake.Options{APIKey: benchKey})
				ids = srv.Seed(b.N)
				base, err := batch.ParseBaseURL(url)
				if err != nil {
					b.Fatal(err)
				}
				hc := batch.NewHTTPClient(concurrency)
				defer hc.CloseIdleConnections()
				client = batch.NewClient(hc, base, benchKey)
			} else {
				for i := range ids {
					ids[i] = fmt.Sprintf("6683%020x", i)
				}
				base, _ := batch.ParseBaseURL("https://api.example.com/api")
				client = batch.NewClient(&http.Client{Transport: stubTransport{}}, base, benchKey)
			}
			sink, done := benchSink(b, tc.withReport)
			rows := 0
			count := func(r batch.Result) error {
				if r.Outcome != batch.Canceled && r.Outcome != batch.NotCancelable {
					return fmt.Errorf("row %d: %s %s", r.Row, r.Outcome, r.Error)
				}
				rows++
				return sink(r)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := batch.Run(context.Background(), benchConfig(concurrency), client, benchJobs(ids), count); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			done()
			if rows != b.N {
				b.Fatalf("%d rows of %d", rows, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkCancel is one attempt through the client against the stub
// transport: request building, the transport hop and classification.
func BenchmarkCancel(b *testing.B) {
	base, _ := batch.ParseBaseURL("https://api.example.com/api")
	c := batch.NewClient(&http.Client{Transport: stubTransport{}}, base, benchKey)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if a := c.Cancel(ctx, "6683df6907df1bd452370ac5"); a.Outcome != batch.Canceled {
			b.Fatal(a.Outcome, a.Detail)
		}
	}
}
