package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/batch"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestCSVNamedOnlyWhenPublished: the report has no name until Publish, so
// a run killed while writing its settled rows leaves no report; rows
// written after Publish go to the named file; nothing else is left behind.
func TestCSVNamedOnlyWhenPublished(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	w, err := CreateCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	rs := sampleResults()
	w.Carry(rs[0])
	if _, err := os.Lstat(path); err == nil {
		t.Fatal("the report has its name before Publish")
	}
	if err := w.Publish(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "a1,canceled") {
		t.Fatalf("published report lacks the carried row:\n%s", data)
	}
	w.Write(rs[1])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 3 {
		t.Errorf("%d lines after Close, want header and 2 rows:\n%s", n, data)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "r.csv" {
		t.Errorf("directory holds %v, want only r.csv", names)
	}
}

// TestCSVPublishNeverReplaces: a file that took the name meanwhile is
// kept as it is, the hidden file is removed and writes fail from then on.
func TestCSVPublishNeverReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	w, err := CreateCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("someone else's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = w.Publish()
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Publish over an existing file: %v", err)
	}
	if w.Write(batch.Result{Row: 1, CallID: "x", Outcome: batch.Canceled}) == nil {
		t.Error("Write after a failed Publish succeeded")
	}
	w.Close()
	if data, _ := os.ReadFile(path); string(data) != "someone else's\n" {
		t.Errorf("existing file changed to %q", data)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only r.csv", names)
	}
}

// TestReportsShareTheirMode: PREFIX.csv and PREFIX.json are created alike
// (0644 less the umask), so whoever may read one may read the other.
func TestReportsShareTheirMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath, _ := writeSample(t, dir)
	jsonPath := filepath.Join(dir, "r.json")
	if err := WriteJSON(jsonPath, Meta{}, csvPath); err != nil {
		t.Fatal(err)
	}
	c, err1 := os.Stat(csvPath)
	j, err2 := os.Stat(jsonPath)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if c.Mode() != j.Mode() || c.Mode().Perm()&0o600 != 0o600 {
		t.Errorf("csv %v, json %v: want the same mode, readable and writable by the owner", c.Mode(), j.Mode())
	}
	if names := dirNames(t, dir); len(names) != 2 {
		t.Errorf("directory holds %v, want only r.csv and r.json", names)
	}
}
