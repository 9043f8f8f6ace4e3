package main

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
)

// env is everything run takes from the process, so tests can give it
// buffers, variables and signals of their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	signals        <-chan os.Signal
	now            func() time.Time
	// stderrTTY says whether stderr is a terminal.
	stderrTTY bool
	// openTTY opens the controlling terminal for the confirmation
	// question; nil when there is none.
	openTTY func() (io.ReadWriteCloser, error)
}

func newSystemEnv(sigs <-chan os.Signal) *env {
	isTTY := func(f *os.File) bool { return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()) }
	e := &env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, signals: sigs, now: time.Now,
		stderrTTY: isTTY(os.Stderr),
	}
	if e.stderrTTY {
		e.openTTY = func() (io.ReadWriteCloser, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }
	}
	return e
}
