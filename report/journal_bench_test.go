package report

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// BenchmarkJournalDispatched is the journal's cost per request on its
// own: a copy into the mapped file (mapped, where the platform allows),
// or one pwrite(2) of one line (no room reserved).
func BenchmarkJournalDispatched(b *testing.B) {
	const id = "6683df6907df1bd452370ac5"
	for _, mapped := range []bool{true, false} {
		name := "pwrite"
		if mapped {
			name = "mapped"
		}
		b.Run(name, func(b *testing.B) {
			room := 0
			if mapped {
				room = b.N * (len(id) + 1)
			}
			j, err := CreateJournal(filepath.Join(b.TempDir(), "r.journal"), room)
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := j.Dispatched(id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRunJournal is the command's send phase in one process, with
// the report written, with and without the dispatch journal: the fake
// over loopback, --rate 0, --concurrency 64, one op per row. cpu-µs/row
// counts the client and the fake (one process), so other load on the
// machine does not move it as it moves the wall time. For interleaved
// samples run off and on alternately, e.g. five times
// -bench 'RunJournal/off' then -bench 'RunJournal/on'.
func BenchmarkRunJournal(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			const key, concurrency = "bench-key", 64
			srv, url := faketest.StartFake(b, fake.Options{APIKey: key})
			ids := srv.Seed(b.N)
			base, _ := batch.ParseBaseURL(url)
			hc := batch.NewHTTPClient(concurrency)
			defer hc.CloseIdleConnections()
			client := batch.NewClient(hc, base, key)
			dir := b.TempDir()
			w, err := CreateCSV(filepath.Join(dir, "r.csv"))
			if err != nil {
				b.Fatal(err)
			}
			cfg := batch.DefaultConfig()
			cfg.AutoRate, cfg.Rate, cfg.Concurrency = false, 0, concurrency // no ceiling: the journal is what differs
			if on {
				room := 0
				for _, id := range ids {
					room += len(id) + 1
				}
				j, err := CreateJournal(JournalPath(w.Path()), room)
				if err != nil {
					b.Fatal(err)
				}
				defer j.Close()
				cfg.BeforeSend = func(job batch.Job) error { return j.Dispatched(job.ID) }
			}
			jobs := func(yield func(batch.Job) bool) {
				for i, id := range ids {
					if !yield(batch.Job{Row: i + 1, ID: id}) {
						return
					}
				}
			}
			b.ResetTimer()
			cpu := cpuTime()
			if err := batch.Run(context.Background(), cfg, client, jobs, w.Write); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu = cpuTime() - cpu
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/row") // client and fake: one process
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/row")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
