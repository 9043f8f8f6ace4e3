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
)

// journalHeader is the first line of a dispatch journal.
const journalHeader = "bulkcancel dispatch journal 1: one call ID a line, written before its first request\n"

// JournalPath is where the dispatch journal of the report csvPath lives:
// beside it, PREFIX.journal.
func JournalPath(csvPath string) string { return strings.TrimSuffix(csvPath, ".csv") + ".journal" }

// Journal is a run's dispatch journal: before the first request for an
// ID is sent, the ID is put in the file as one line, so after a kill -9
// the journal names every ID the run may have sent, the ones its report
// had not recorded yet included, and at most the requests in flight at
// the kill besides. It also names the IDs that earlier runs may have sent
// (Inherit), so the fact survives a chain of crashes and resumes.
//
// A line is in the page cache, which a kill -9 does not lose, once its
// method returns. Where it can (Linux), the journal reserves the room
// the run needs on disk and maps the file, so a line is a copy into
// memory, not a system call per request; past that room, and elsewhere,
// a line is one pwrite(2). Until Close trims it, a mapped journal ends in
// the zero bytes of the room not used yet. The file is synced at least
// every SyncEvery, not per line: a power cut can lose the last second of
// it, as of the report. Its methods are safe for concurrent use.
type Journal struct {
	path string

	mu        sync.Mutex
	f         *os.File
	published bool   // the file has its name
	mem       []byte // the file, mapped; nil when it is not
	end       int    // the length of the lines written
	released  int    // mem before this is synced and out of the process's memory
	buf       []byte
	err       error

	syncer *syncer
}

// CreateJournal starts the journal that will be path, with room for
// lines of that many bytes (an ID and its newline each), and writes its
// header. As a report is, it is written under a hidden name beside path
// until Publish gives it its name, which must not exist.
func CreateJournal(path string, room int) (*Journal, error) {
	f, err := createHidden(path)
	if err != nil {
		return nil, fmt.Errorf("create dispatch journal: %w", err)
	}
	j := &Journal{path: path, f: f, mem: mapFile(f, len(journalHeader)+room)}
	j.syncer = startSyncer(f, j.syncFailed, j.release)
	if err := j.write([]byte(journalHeader)); err != nil {
		j.Remove()
		return nil, err
	}
	return j, nil
}

// Publish gives the journal its name. Call it before the report's
// Publish, so a report never has its name without its journal.
func (j *Journal) Publish() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := place(j.f.Name(), j.path); err != nil {
		return fmt.Errorf("create dispatch journal: %w", err)
	}
	j.published = true
	return nil
}

// Inherit records ids, which an earlier run may have sent, at once.
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
// returns only once the line is in the page cache.
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
	if j.end+len(b) <= len(j.mem) {
		copy(j.mem[j.end:], b)
	} else if _, err := j.f.WriteAt(b, int64(j.end)); err != nil {
		j.err = fmt.Errorf("write dispatch journal %s: %w", j.path, err)
		return j.err
	}
	j.end += len(b)
	j.syncer.mark()
	return nil
}

// release gives back the pages of the mapping that hold only synced
// lines: on disk and in the page cache, they need not count in the
// process's memory (a million IDs would add 25 MB to it otherwise).
func (j *Journal) release() {
	j.mu.Lock()
	defer j.mu.Unlock()
	page := os.Getpagesize()
	upto := j.end / page * page
	if j.mem == nil || upto <= j.released {
		return
	}
	if releaseMapped(j.mem[j.released:upto]) == nil {
		j.released = upto
	}
}

func (j *Journal) syncFailed(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = fmt.Errorf("sync dispatch journal %s: %w", j.path, err)
	}
}

// Close trims the journal to its lines, syncs and closes it.
func (j *Journal) Close() error {
	j.syncer.stop()
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.err
	keep := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	if j.mem != nil {
		keep(unmapFile(j.mem))
		j.mem = nil
	}
	keep(j.f.Truncate(int64(j.end)))
	keep(j.f.Sync())
	keep(j.f.Close())
	return err
}

// Remove closes the journal and deletes it: the run's report records
// every row (or was never published), so nothing is left for the
// journal to tell.
func (j *Journal) Remove() error {
	j.Close()
	name := j.f.Name()
	if j.published {
		name = j.path
	}
	return os.Remove(name)
}

// readJournal calls seen for every ID in the journal at path. A last line
// without its newline, or one holding a zero byte, was cut short by a
// kill during its write, so its request had not been sent: it is skipped,
// and so is the room a mapped journal had not used yet (zero bytes, which
// no ID holds). found is false when there is no journal.
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
		if bytes.IndexByte(line, 0) >= 0 {
			return true, nil // a torn line, then room not used
		}
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
