package report

import (
	"os"
	"sync/atomic"
	"time"
)

// SyncEvery is how often a report or journal with news is synced to disk.
const SyncEvery = time.Second

// syncer syncs a file at least every SyncEvery while it has news (mark),
// until stop. A failed sync is given to failed; after one that worked,
// synced is called, when set.
type syncer struct {
	dirty atomic.Bool
	halt  chan struct{}
	done  chan struct{}
}

func startSyncer(f *os.File, failed func(error), synced func()) *syncer {
	s := &syncer{halt: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(SyncEvery)
		defer t.Stop()
		for {
			select {
			case <-s.halt:
				return
			case <-t.C:
				if s.dirty.Swap(false) {
					if err := f.Sync(); err != nil {
						failed(err)
					} else if synced != nil {
						synced()
					}
				}
			}
		}
	}()
	return s
}

// mark says the file has news to sync.
func (s *syncer) mark() { s.dirty.Store(true) }

// stop ends the loop and waits for a sync in progress; the owner syncs
// the file once more as it closes it.
func (s *syncer) stop() {
	close(s.halt)
	<-s.done
}
