// Command bulkcancel cancels queued outbound calls in bulk through the
// SubVerse API: a CSV of call IDs in, a per-row report out. See README.md.
//
// This package is the command line only: flags, environment, logging,
// the terminal (confirmation, progress) and exit codes. Package batch does
// the work and package report writes and reads the report files.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], newSystemEnv(stopSignals())))
}

// stopSignals delivers the signals that stop a run: SIGINT, SIGTERM and
// SIGHUP (a closed terminal or SSH session), unless SIGHUP was ignored
// when the process started (nohup), in which case it stays ignored.
// SIGPIPE is ignored, so a write to a closed stdout or stderr fails with
// EPIPE (which the writers swallow) instead of killing the process.
func stopSignals() <-chan os.Signal {
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 2)
	stop := []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		stop = append(stop, syscall.SIGHUP)
	}
	signal.Notify(sigs, stop...)
	return sigs
}
