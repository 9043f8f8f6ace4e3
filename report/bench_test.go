package report

// Benchmarks of the report writers. They run only with -bench, e.g.
//
//	go test -run '^$' -bench . -benchmem ./report

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/batch"
)

// benchResult is a typical sent row: canceled on the first attempt.
func benchResult(row int) batch.Result {
	start := time.Date(2026, 11, 29, 10, 50, 53, 924_000_000, time.UTC)
	return batch.Result{
		Row: row, CallID: "6683df6907df1bd452370ac5", Outcome: batch.Canceled,
		HTTPStatus: 200, ResponseCode: 200, Message: "Call canceled successfully!", RemovedJobs: 1,
		Attempts: 1, StartedAt: start, FinishedAt: start.Add(3 * time.Millisecond),
	}
}

// BenchmarkAppendResult formats one row as a CSV line.
func BenchmarkAppendResult(b *testing.B) {
	for _, tc := range []struct {
		name string
		r    batch.Result
	}{
		{"canceled", benchResult(12345)},
		{"not_cancelable_ambiguous", func() batch.Result {
			r := benchResult(12345)
			r.Outcome, r.HTTPStatus, r.ResponseCode, r.RemovedJobs, r.Attempts, r.Ambiguous = batch.NotCancelable, 400, 400, -1, 2, true
			r.Message = "This call cannot be canceled as it is no longer in queue."
			r.Error = "an earlier attempt may have canceled this call before this answer"
			return r
		}()},
		{"duplicate_quoted", batch.Result{Row: 377, CallID: " a,\"b\"", Outcome: batch.Duplicate, RemovedJobs: -1,
			Error: "same ID as row 190: not sent"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := newLines()
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = l.result(tc.r)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkCSVWrite is CSV.Write into a file in a temporary directory:
// formatting, the summary and one write(2) per row, as a run does.
func BenchmarkCSVWrite(b *testing.B) {
	w, err := CreateCSV(filepath.Join(b.TempDir(), "report.csv"))
	if err != nil {
		b.Fatal(err)
	}
	r := benchResult(1)
	b.ReportAllocs()
	for b.Loop() {
		r.Row++
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteJSON writes PREFIX.json from a finished 100,000-row CSV
// report; ns/row is the JSON report's cost per row at the end of a run.
func BenchmarkWriteJSON(b *testing.B) {
	const rows = 100_000
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "report.csv")
	w, err := CreateCSV(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	for i := range rows {
		if err := w.Write(benchResult(i + 1)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	meta := Meta{RunID: "bench", Version: "bench", Input: Input{Path: "in.csv", Rows: rows}, Summary: w.Summary()}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		p := filepath.Join(dir, fmt.Sprintf("report-%d.json", n))
		if err := WriteJSON(p, meta, csvPath); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = os.Remove(p)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*rows), "ns/row")
}
