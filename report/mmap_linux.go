//go:build linux

package report

import (
	"os"
	"syscall"
)

// mapFile reserves size bytes of f on disk and maps them for writing; nil
// when it cannot. The room is reserved (fallocate) first, so a full disk
// shows here, never as a SIGBUS on a later store into the mapping.
func mapFile(f *os.File, size int) []byte {
	fd := int(f.Fd())
	if syscall.Fallocate(fd, 0, 0, int64(size)) != nil {
		return nil
	}
	mem, err := syscall.Mmap(fd, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return mem
}

func unmapFile(mem []byte) error { return syscall.Munmap(mem) }

// releaseMapped drops mem's pages from the process's memory; what was
// written to them stays in the file (MADV_DONTNEED on a shared mapping
// of a file).
func releaseMapped(mem []byte) error { return syscall.Madvise(mem, syscall.MADV_DONTNEED) }
