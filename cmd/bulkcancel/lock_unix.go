//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// lockInput takes an exclusive flock(2) on path without waiting. busy
// says another process (or another open of path) holds it; release drops
// the lock and removes the file when this run held it.
func lockInput(path string) (busy bool, release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return false, func() {}, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return true, func() {}, nil
		}
		return false, func() {}, err
	}
	return false, func() {
		os.Remove(path)
		f.Close()
	}, nil
}
