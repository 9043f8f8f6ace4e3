package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/batch"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenResults are rows whose text needs every kind of care: CSV
// quoting (commas, quotes, CR and LF, a leading space or tab, `\.`),
// JSON escaping (control bytes, DEL, U+2028, invalid UTF-8, HTML
// characters), other Unicode, and empty, negative and large numbers.
func goldenResults() []batch.Result {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 123e6, time.UTC)
	return []batch.Result{
		{Row: 1, CallID: "6683df6907df1bd452370ac5", Outcome: batch.Canceled, HTTPStatus: 200, ResponseCode: 200,
			Message: "Call canceled successfully!", RemovedJobs: 1, Attempts: 1, StartedAt: t0, FinishedAt: t0.Add(3 * time.Millisecond)},
		{Row: 2, CallID: "b,2", Outcome: batch.NotCancelable, HTTPStatus: 400, ResponseCode: 400,
			Message: "say \"no\", then\r\nstop\rnow\nplease", RemovedJobs: -1, Attempts: 3, Ambiguous: true,
			StartedAt: t0, FinishedAt: t0.Add(2 * time.Second), Error: "an earlier attempt may have canceled this call"},
		{Row: 3, CallID: "", Outcome: batch.InvalidID, RemovedJobs: -1, Error: "empty ID: not sent"},
		{Row: 4, CallID: " lead", Outcome: batch.TransportError, RemovedJobs: -1, Attempts: 5,
			StartedAt: t0, FinishedAt: t0.Add(time.Minute), Error: "\ttimeout after the request was sent"},
		{Row: 5, CallID: "é/x?y", Outcome: batch.NotAttempted, RemovedJobs: -1, Message: "日本語 🚀 \u00a0nbsp", Error: "not sent: the run was interrupted"},
		{Row: 6, CallID: "ctl\x01\x08\x0c\x1f\x7f", Outcome: batch.InvalidID, RemovedJobs: -1, Error: "control characters: not sent"},
		{Row: 7, CallID: `\.`, Outcome: batch.UnexpectedResponse, HTTPStatus: 502, ResponseCode: -1, RemovedJobs: 0, Attempts: 1,
			Message: "<html>&amp; \u2028\u2029 \\back\\slash", StartedAt: t0, FinishedAt: t0, Error: "bad \xff\xfe byte"},
		{Row: 8, CallID: "quote\"inside", Outcome: batch.ServerError, HTTPStatus: 503, ResponseCode: 4001, RemovedJobs: 12345, Attempts: 5,
			Message: `"`, StartedAt: t0, FinishedAt: t0.Add(1500 * time.Microsecond), Error: "giving up after 5 attempt(s)"},
		{Row: 9, CallID: "dup", Outcome: batch.Duplicate, RemovedJobs: -1, Error: "same ID as row 8: not sent"},
		{Row: 10, CallID: "dry", Outcome: batch.DryRun, RemovedJobs: -1},
	}
}

// TestGoldenReport pins the exact bytes of the CSV and JSON reports for
// goldenResults. go test ./report -run Golden -update rewrites them.
func TestGoldenReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "golden.csv")
	w := writeCSV(t, csvPath, goldenResults())
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	meta := Meta{RunID: "golden", Version: "v0", StartedAt: t0, FinishedAt: t0.Add(time.Minute),
		Input: Input{Path: "in.csv", SHA256: "ab", Rows: 10}, Config: map[string]any{"rate": "auto"},
		Summary: w.Summary(), ExitCode: 1, FinishCommand: []string{"bulkcancel", "--resume", "golden.csv", "in.csv"}}
	jsonPath := filepath.Join(dir, "golden.json")
	if err := WriteJSON(jsonPath, meta, csvPath); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"golden.csv", "golden.json"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -run Golden -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n got %q\nwant %q", name, golden, got, want)
		}
	}
}
