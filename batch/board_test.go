package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileBoardNotes(t *testing.T) {
	dir := t.TempDir()
	b0 := NewFileBoard(dir, "bulkcancel-0123", Shard{K: 0, N: 3})
	b1 := NewFileBoard(dir, "bulkcancel-0123", Shard{K: 1, N: 3})
	other := NewFileBoard(dir, "bulkcancel-4567", Shard{K: 2, N: 3}) // another input
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range []*FileBoard{b0, b1, other} {
		if err := b.Publish(PaceNote{Shard: 7, At: at, Pace: 37.5, Left: 120, Steady: true, Took: 36}); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := b0.Read()
	if err != nil {
		t.Fatal(err)
	}
	want := PaceNote{Shard: 1, At: at, Pace: 37.5, Left: 120, Steady: true, Took: 36}
	if len(notes) != 1 || notes[0] != want {
		t.Errorf("shard 0 read %+v, want only shard 1's note %+v (shard 2 of this input wrote none)", notes, want)
	}
	names, _ := filepath.Glob(filepath.Join(dir, ".*"))
	for _, n := range names {
		if strings.Contains(n, ".tmp") {
			t.Errorf("%s left behind", n)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, ".bulkcancel-0123-1of3.pace")); err != nil || fi.Mode().Perm()&0o044 != 0o044 {
		t.Errorf("shard 1's note: %v, %v; want it readable by the other shards' users", fi, err)
	}

	// A note that cannot be read is left out, and the others still come.
	os.WriteFile(filepath.Join(dir, ".bulkcancel-0123-2of3.pace"), []byte(`{"shard":2,"pa`), 0o644)
	notes, err = b0.Read()
	if err == nil || !strings.Contains(err.Error(), "shard 2") || len(notes) != 1 {
		t.Errorf("with shard 2's note cut short: %+v, %v", notes, err)
	}
	os.WriteFile(filepath.Join(dir, ".bulkcancel-0123-2of3.pace"), []byte(`{"shard":1}`), 0o644)
	if notes, err = b0.Read(); err == nil || len(notes) != 1 {
		t.Errorf("with a note in shard 2's file that names shard 1: %+v, %v", notes, err)
	}
	// One that was read before and cannot be read now stands as it was:
	// the shard did not stop.
	os.WriteFile(filepath.Join(dir, ".bulkcancel-0123-1of3.pace"), []byte(`{"shard":1,"pa`), 0o644)
	if notes, err = b0.Read(); err == nil || len(notes) != 1 || notes[0] != want {
		t.Errorf("with shard 1's note cut short after it was read: %+v, %v; want its last note", notes, err)
	}

	b1.Remove()
	if notes, _ := b0.Read(); len(notes) != 0 {
		t.Errorf("shard 1's note read after it was removed: %+v", notes)
	}
	if _, err := os.Stat(filepath.Join(dir, ".bulkcancel-0123-1of3.pace")); err == nil {
		t.Error("shard 1's note is still there after Remove")
	}
}
