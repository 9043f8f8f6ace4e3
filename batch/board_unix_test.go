//go:build unix

package batch

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO in the place of another shard's note (anyone who can write to
// the directory can put one there) is not read: opening and reading one
// would wait for a writer for ever.
func TestFileBoardSkipsAFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := NewFileBoard(dir, "bulkcancel-0123", Shard{K: 0, N: 2})
	if err := syscall.Mkfifo(filepath.Join(dir, ".bulkcancel-0123-1of2.pace"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	type read struct {
		notes []PaceNote
		err   error
	}
	done := make(chan read, 1)
	go func() {
		notes, err := b.Read()
		done <- read{notes, err}
	}()
	select {
	case r := <-done:
		if len(r.notes) != 0 || r.err == nil || !strings.Contains(r.err.Error(), "not a regular file") {
			t.Errorf("a FIFO for shard 1's note: %+v, %v; want no note and an error saying why", r.notes, r.err)
		}
	case <-time.After(10 * time.Second): // a guard: the read takes microseconds
		t.Fatal("reading a FIFO in the place of a note did not return")
	}
}
