package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// journalHeader is the first line of a dispatch journal.
const journalHeader = "bulkcancel dispatch journal 1: one call ID a line, written before its first request\n"

// JournalPath is where the dispatch journal of the report csvPath lives:
// beside it, PREFIX.journal.
func JournalPath(csvPath string) string { return strings.TrimSuffix(csvPath, ".csv") + ".journal" }

// Journal is a run's dispatch journal: before the first request for an
// ID is sent, the ID is appended with one write(2), so after a kill -9
// the journal names every ID the run may have sent, the ones its report
// had not recorded yet included, and at most the requests in flight at
// the kill besides. It also names the IDs that earlier runs may have sent
// (Inherit), so the fact survives a chain of crashes and resumes. The
// file is synced at least every SyncEvery, not per write: a power cut can
// lose the last second of it, as of the report. Its methods are safe for
// concurrent use.
type Journal struct {
	path string

	mu  sync.Mutex
	f   *os.File
	buf []byte
	err error

	dirty    atomic.Bool
	stopSync chan struct{}
	synced   chan struct{}
}

// CreateJournal creates (or empties) the journal at path and writes its
// header.
func CreateJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create dispatch journal: %w", err)
	}
	if _, err := f.WriteString(journalHeader); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write dispatch journal %s: %w", path, err)
	}
	j := &Journal{path: path, f: f, stopSync: make(chan struct{}), synced: make(chan struct{})}
	go j.syncLoop()
	return j, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Inherit records ids, which an earlier run may have sent, in one write.
func (j *Journal) Inherit(ids []string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	b := j.buf[:0]
	for _, id := range ids {
		b = append(append(b, id...), '\n')
	}
	j.buf = b
	return j.write(b)
}

// Dispatched records that id's first request is about to be sent. It
// returns only once the line is in the file (the page cache, which a
// kill -9 does not lose).
func (j *Journal) Dispatched(id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(append(j.buf[:0], id...), '\n')
	return j.write(j.buf)
}

func (j *Journal) write(b []byte) error {
	if j.err != nil {
		return j.err
	}
	if len(b) == 0 {
		return nil
	}
	if _, err := j.f.Write(b); err != nil {
		j.err = fmt.Errorf("write dispatch journal %s: %w", j.path, err)
		return j.err
	}
	j.dirty.Store(true)
	return nil
}

// Close syncs and closes the journal.
func (j *Journal) Close() error {
	close(j.stopSync)
	<-j.synced
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.err
	if e := j.f.Sync(); e != nil && err == nil {
		err = e
	}
	if e := j.f.Close(); e != nil && err == nil {
		err = e
	}
	return err
}

// Remove closes the journal and deletes it: the run's report records
// every row, so nothing is left for the journal to tell.
func (j *Journal) Remove() error {
	j.Close()
	return os.Remove(j.path)
}

func (j *Journal) syncLoop() {
	defer close(j.synced)
	t := time.NewTicker(SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-j.stopSync:
			return
		case <-t.C:
			if j.dirty.Swap(false) {
				j.f.Sync()
			}
		}
	}
}

// readJournal calls seen for every ID in the journal at path. A last line
// without its newline was cut short by a kill during its write, so its
// request had not been sent: it is skipped. found is false when there is
// no journal.
func readJournal(path string, seen func(id string)) (found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, err := br.ReadString('\n')
	if err != nil || head != journalHeader {
		return false, fmt.Errorf("%s is not a bulkcancel dispatch journal", path)
	}
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return true, fmt.Errorf("%s: a line longer than %d bytes", path, br.Size())
		}
		if err == io.EOF {
			return true, nil // a torn last line, or none
		}
		if err != nil {
			return true, err
		}
		if id := bytes.TrimSuffix(line, []byte{'\n'}); len(id) > 0 {
			seen(string(id))
		}
	}
}
