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
	// name is how the command was invoked, for the command it prints;
	// "" means bulkcancel.
	name string
}

// argv0 is the command's name for a printed command line.
func (e *env) argv0() string {
	if e.name == "" {
		return "bulkcancel"
	}
	return e.name
}

func newSystemEnv(sigs <-chan os.Signal) *env {
	isTTY := func(f *os.File) bool { return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()) }
	e := &env{
		stdin: os.Stdin, stdout: lenient{os.Stdout}, stderr: lenient{os.Stderr},
		getenv: os.Getenv, signals: sigs, now: time.Now,
		stderrTTY: isTTY(os.Stderr),
		name:      os.Args[0],
	}
	if e.stderrTTY {
		e.openTTY = func() (io.ReadWriteCloser, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }
	}
	return e
}

// lenient is stdout or stderr as a run writes to them: a write that fails
// (EPIPE from "| head", EIO from a terminal that went away) is dropped,
// never returned, so no writer (zerolog, the progress bar, the summary)
// stops or complains on stderr about it. The report on disk is what
// counts.
type lenient struct{ f *os.File }

func (l lenient) Write(p []byte) (int, error) {
	l.f.Write(p)
	return len(p), nil
}

// Fd lets terminal detection see the file behind.
func (l lenient) Fd() uintptr { return l.f.Fd() }
