// Command bulkcancel cancels queued outbound calls in bulk through the
// SubVerse API: a CSV of call IDs in, a per-row report out. See README.md.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], newSystemEnv(sigs)))
}
