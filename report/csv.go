package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/subverseai/bulkcancel/batch"
)

// CSV streams report rows to PREFIX.csv: each row is appended to the file
// the moment it is given, in one write(2), and the file is synced at least
// every SyncEvery and on Close. No byte already written is written again.
// A kill -9 during a row's write can leave that row cut short as the
// file's last line, which ReadResume skips. It also keeps the run's
// Summary. Its methods are safe for concurrent use.
type CSV struct {
	path string

	mu        sync.Mutex
	f         *os.File
	published bool // the file has its name
	discarded bool // Publish failed and removed the file
	lines     *lines
	err       error // first write error; every later Write returns it
	summary   Summary

	syncer *syncer
}

// CreateCSV starts the report that will be path (it must not exist) and
// writes the header. The file is written under a hidden name beside path
// until Publish or Close gives it its name, so a caller can write the
// rows settled before its first request (carried, invalid, duplicate) and
// publish them together: a run killed before that leaves no report that
// lacks some of them, which a later --resume would take as possibly sent.
func CreateCSV(path string) (*CSV, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("report %s already exists; choose another --report prefix", path)
	}
	f, err := createHidden(path)
	if err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	w := &CSV{path: path, f: f, lines: newLines()}
	w.summary.init()
	if _, err := f.Write(w.lines.line(Columns)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("write report %s: %w", path, err)
	}
	w.syncer = startSyncer(f, w.syncFailed, nil)
	w.syncer.mark()
	return w, nil
}

// Path is the file being written.
func (w *CSV) Path() string { return w.path }

// Write appends r as one row and counts it in the summary.
func (w *CSV) Write(r batch.Result) error { return w.write(r, false) }

// Carry appends r, a row carried unchanged from an earlier report: it is
// counted as carried and its attempts are not counted as this run's.
func (w *CSV) Carry(r batch.Result) error { return w.write(r, true) }

func (w *CSV) write(r batch.Result, carried bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		w.summary.unwritten(r, carried)
		return w.err
	}
	if _, err := w.f.Write(w.lines.result(r)); err != nil {
		w.err = fmt.Errorf("write report %s: %w", w.path, err)
		w.summary.unwritten(r, carried)
		return w.err
	}
	w.syncer.mark()
	w.summary.add(r, carried)
	return nil
}

// Summary returns the counts of the rows written so far.
func (w *CSV) Summary() Summary {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.summary.clone()
}

// Publish syncs the rows written so far and gives the file its name.
// Rows written later go to the named file as before. On an error the file
// is removed and nothing is published.
func (w *CSV) Publish() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.publish(); err != nil {
		os.Remove(w.f.Name())
		w.discarded = true
		w.err = fmt.Errorf("create report %s: %w", w.path, err)
		return w.err
	}
	return nil
}

func (w *CSV) publish() error {
	if w.published || w.discarded {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if err := place(w.f.Name(), w.path); err != nil {
		return err
	}
	w.published = true
	return nil
}

// Close publishes the file if Publish was not called and no write
// failed, then syncs and closes it. A report that met an error before it
// was published is removed, never published: it lacks rows, and a later
// --resume would send their IDs again. Close returns the first error the
// report met, so a caller that checks Close knows the file is whole.
func (w *CSV) Close() error {
	w.syncer.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		if err := w.publish(); err != nil {
			w.err = fmt.Errorf("report rows are in %s, not in %s: %w", w.f.Name(), w.path, err)
		}
	} else if !w.published && !w.discarded {
		os.Remove(w.f.Name())
		w.discarded = true
	}
	if err := w.f.Sync(); err != nil && w.err == nil {
		w.err = fmt.Errorf("sync report %s: %w", w.path, err)
	}
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = fmt.Errorf("close report %s: %w", w.path, err)
	}
	return w.err
}

// syncFailed records a failed sync: every later Write returns it.
func (w *CSV) syncFailed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = fmt.Errorf("sync report %s: %w", w.path, err)
	}
}

// lines formats report lines with encoding/csv. It is not safe for
// concurrent use.
type lines struct {
	buf    bytes.Buffer
	cw     *csv.Writer
	fields []string
}

func newLines() *lines {
	l := &lines{fields: make([]string, len(columns))}
	l.cw = csv.NewWriter(&l.buf)
	return l
}

// result returns r as one line, in Columns order, valid until the next
// call.
func (l *lines) result(r batch.Result) []byte {
	for i, c := range columns {
		l.fields[i] = c.text(&r)
	}
	return l.line(l.fields)
}

func (l *lines) line(fields []string) []byte {
	l.buf.Reset()
	l.cw.Write(fields) // into a bytes.Buffer, which does not fail
	l.cw.Flush()
	return l.buf.Bytes()
}

// oneLine keeps free text on one line so every report row is one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}
