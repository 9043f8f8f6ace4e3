package report

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// createHidden creates a new, empty file beside path, under a hidden name
// of its own, to be given path's name later by place. It is open for
// reading too, so it can be mapped.
func createHidden(path string) (*os.File, error) {
	for range 10 {
		var b [6]byte
		rand.Read(b[:])
		name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			// Name the directory, not the hidden file nobody asked for.
			return nil, fmt.Errorf("cannot create a file in %s: %w", filepath.Dir(name), pe.Err)
		}
		return f, err
	}
	return nil, fmt.Errorf("no free temporary name beside %s", path)
}

// place gives the file named tmp the name path, which must not exist: an
// existing path is never replaced. The directory is synced so the name
// survives a crash.
func place(tmp, path string) error {
	if err := os.Link(tmp, path); err != nil {
		_, serr := os.Lstat(path)
		if errors.Is(err, os.ErrExist) || serr == nil {
			return fmt.Errorf("report %s already exists; not replaced; choose another --report prefix", path)
		}
		// A file system without hard links: rename, having checked above.
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	} else {
		os.Remove(tmp)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
