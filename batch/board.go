package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// noteMost is the most of a note that is read: a note is some 150 bytes.
const noteMost = 4096

// FileBoard is a PaceBoard in files: shard K of N writes its note to a
// hidden file of its own in a directory, and reads the other shards'.
// Shards of one input on one host, or on hosts that share the directory
// (a ReadWriteMany volume for the reports, as the docs' Kubernetes
// Indexed Job has), find one another so; shards that cannot each pace on
// their own answers, as a lone process does.
type FileBoard struct {
	dir, stem string
	shard     Shard
	last      map[int]PaceNote // the last note read of each shard
}

// NewFileBoard returns the board of shard s in dir; stem names the run's
// shards together (the same for every shard of one input).
func NewFileBoard(dir, stem string, s Shard) *FileBoard {
	return &FileBoard{dir: dir, stem: stem, shard: s, last: map[int]PaceNote{}}
}

func (b *FileBoard) path(k int) string {
	return filepath.Join(b.dir, fmt.Sprintf(".%s-%dof%d.pace", b.stem, k, b.shard.N))
}

// Publish replaces this shard's note: written to a new file beside it
// (never one that was there, which might lead elsewhere), then renamed
// over it, so a reader never sees half of one.
func (b *FileBoard) Publish(n PaceNote) error {
	n.Shard = b.shard.K
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	path := b.path(b.shard.K)
	f, err := os.CreateTemp(b.dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Read returns the other shards' notes. A shard with no note (none yet,
// or removed when it ended) is left out; one whose note cannot be read
// this time keeps the last one read, which ages as the shard's would.
// Read is not safe for concurrent use.
func (b *FileBoard) Read() ([]PaceNote, error) {
	var notes []PaceNote
	var errs []error
	for k := range b.shard.N {
		if k == b.shard.K {
			continue
		}
		data, err := readNote(b.path(k))
		if errors.Is(err, fs.ErrNotExist) {
			delete(b.last, k)
			continue
		}
		var n PaceNote
		if err == nil {
			err = json.Unmarshal(data, &n)
		}
		if err == nil && n.Shard != k {
			err = fmt.Errorf("it names shard %d", n.Shard)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("shard %d's pace note: %w", k, err))
			if last, ok := b.last[k]; ok {
				notes = append(notes, last)
			}
			continue
		}
		b.last[k] = n
		notes = append(notes, n)
	}
	return notes, errors.Join(errs...)
}

// Remove takes this shard's note away: the others take it as finished.
func (b *FileBoard) Remove() {
	os.Remove(b.path(b.shard.K))
}

// readNote reads the note at path if it is a regular file: opened
// without waiting (a FIFO put in its place would block the open, and a
// read of one would wait for a writer), and read no further than
// noteMost.
func readNote(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, noteMost))
}
