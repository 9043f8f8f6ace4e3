//go:build crashloop

package main

import (
	"flag"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
)

var (
	loopKills = flag.Int("kills", 50, "crash loop: kill -9s before the last run")
	loopIDs   = flag.Int("ids", 20000, "crash loop: input rows")
	loopConc  = flag.Int("concurrency", 16, "crash loop: --concurrency of every run")
	loopSeed  = flag.Uint64("seed", uint64(time.Now().UnixNano()), "crash loop: seed of the kill points")
)

// TestCrashLoop is make crashloop: many kill -9s at random requests, each
// followed by a resume, against a fake that fails a fifth of first
// attempts (500, 503, connections dropped before and after the cancel)
// and a few later ones, then the four facts: every queued call canceled
// once, no final ID sent again, every row once in the last report, and
// false "possibly sent" and false ambiguity within the requests in flight
// at the kills.
func TestCrashLoop(t *testing.T) {
	t.Logf("seed %d", *loopSeed)
	crashLoop{ids: *loopIDs, kills: *loopKills, concurrency: *loopConc, seed: *loopSeed,
		faults: fake.Faults{P500: 0.06, P503: 0.04, PDropBefore: 0.05, PDropAfter: 0.05, FirstN: 2, Seed: *loopSeed}}.run(t).check(t)
}
