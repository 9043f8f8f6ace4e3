package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/batch"
)

// TestCloseDoesNotPublishAfterAFailedWrite: a report whose write failed
// before Publish is removed by Close, never given its name: a partial
// report would make a later --resume send the missing final IDs again.
// Rows that could not be written count as not final.
func TestCloseDoesNotPublishAfterAFailedWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "carry.csv")
	w, err := CreateCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	final := batch.Result{Row: 1, CallID: "a", Outcome: batch.Canceled, Attempts: 1, RemovedJobs: 1}
	if err := w.Carry(final); err != nil {
		t.Fatal(err)
	}
	w.f.Close() // the disk fills up: every later write fails
	final.Row, final.CallID = 2, "b"
	if err := w.Carry(final); err == nil {
		t.Fatal("a write to a closed file succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close reported a whole report")
	}
	if _, err := os.Lstat(path); err == nil {
		t.Error("the partial report was published")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	s := w.Summary()
	if s.Total != 2 || s.Final != 1 || s.NotFinal != 1 || s.Unwritten != 1 || s.UnwrittenSent != 0 {
		t.Errorf("summary %+v", s)
	}
}

// TestResponseCodeKept: a responseCode outside 0-999 is written and read
// back as it came.
func TestResponseCodeKept(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.csv")
	var rs []batch.Result
	for i, code := range []int{4001, -1, 0} {
		rs = append(rs, batch.Result{Row: i + 1, CallID: string(rune('a' + i)), Outcome: batch.UnexpectedResponse, HTTPStatus: 400, ResponseCode: code, RemovedJobs: -1, Attempts: 1})
	}
	writeCSV(t, path, rs)
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), ",400,4001,") || !strings.Contains(string(data), ",400,-1,") || !strings.Contains(string(data), ",400,,") {
		t.Errorf("report:\n%s", data)
	}
	if _, err := ReadResume(path); err != nil {
		t.Errorf("resume: %v", err)
	}
}
