package batch

import (
	"math"
	"testing"
	"time"
)

// steadyShard is shard 0 of 3 past slow start, levelled off at pace with
// rows left, at t0.
func steadyShard(t *testing.T, pace float64, rows int) (*pacer, time.Time) {
	t.Helper()
	p, t0 := pacerAt(t, func(c *Config) { c.Sharers, c.Rows = 3, rows })
	p.slowStart, p.wmax, p.est = false, pace, pace
	p.set(pace)
	return p, t0
}

func peerNote(shard int, at time.Time, pace, left float64) PaceNote {
	return PaceNote{Shard: shard, At: at, Pace: pace, Left: left, Steady: true}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestShareEvensOutByRowsLeft(t *testing.T) {
	t.Parallel()
	p, t0 := steadyShard(t, 50, 100)
	p.share(t0, []PaceNote{peerNote(1, t0, 30, 100)})
	// The pool is 80; this shard's rows are half of all: it moves half
	// the way from 50 to 40, and where it levels off with it.
	if !near(p.cur, 45) || !near(p.wmax, 45) {
		t.Errorf("pace %.2f levelling off at %.2f, want 45 and 45", p.cur, p.wmax)
	}

	// Three times the rows of the other: three quarters of the pool.
	p, t0 = steadyShard(t, 40, 300)
	p.share(t0, []PaceNote{peerNote(1, t0, 40, 100)})
	if !near(p.cur, 50) {
		t.Errorf("with 300 rows of 400: pace %.2f, want 50 (half the way from 40 to 60)", p.cur)
	}
}

func TestShareWaitsForSlowStart(t *testing.T) {
	t.Parallel()
	p, t0 := steadyShard(t, 50, 100)
	n := peerNote(1, t0, 30, 100)
	n.Steady = false
	p.share(t0, []PaceNote{n})
	if p.cur != 50 {
		t.Errorf("another shard still in slow start: pace %.2f, want 50 unmoved", p.cur)
	}
	p, t0 = steadyShard(t, 50, 100)
	p.slowStart = true
	p.share(t0, []PaceNote{peerNote(1, t0, 30, 100)})
	if p.cur != 50 {
		t.Errorf("in slow start: pace %.2f, want 50 unmoved", p.cur)
	}
}

func TestShareGivesAFinishedShardsPace(t *testing.T) {
	t.Parallel()
	p, t0 := steadyShard(t, 40, 100)
	p.share(t0, []PaceNote{peerNote(1, t0, 40, 100), peerNote(2, t0, 40, 100)})
	if p.cur != 40 || p.report().Peers != 2 {
		t.Fatalf("three even shards: pace %.2f, %d peers; want 40 unmoved, 2", p.cur, p.report().Peers)
	}
	// Shard 2 finished: its note says no rows are left. Its 40/s go to
	// the two left, half each.
	t1 := t0.Add(shareEvery)
	p.share(t1, []PaceNote{peerNote(1, t1, 40, 100), peerNote(2, t1, 40, 0)})
	if !near(p.cur, 60) {
		t.Errorf("after shard 2 finished: pace %.2f, want 60", p.cur)
	}
	// Shard 1 stopped writing notes (stopped, or its note was removed):
	// all of its pace comes here.
	t2 := t1.Add(shareStale)
	p.share(t2, []PaceNote{peerNote(1, t1, 40, 100)})
	if !near(p.cur, 100) {
		t.Errorf("after shard 1's note went stale: pace %.2f, want 100", p.cur)
	}
	if p.report().Peers != 2 {
		t.Errorf("report: %d peers, want the most seen at once, 2", p.report().Peers)
	}
}

func TestShareIgnoresOldNotes(t *testing.T) {
	t.Parallel()
	// A note from an earlier run: never live, so never a pace to take.
	p, t0 := steadyShard(t, 40, 100)
	old := peerNote(1, t0.Add(-time.Hour), 40, 100)
	p.share(t0, []PaceNote{old})
	p.share(t0.Add(shareEvery), []PaceNote{old})
	if p.cur != 40 || len(p.peers) != 0 {
		t.Errorf("an hour-old note: pace %.2f, %d peers; want 40 and none", p.cur, len(p.peers))
	}
}

func TestShareCountsRowsTakenSinceTheNote(t *testing.T) {
	t.Parallel()
	// Written a second ago with 100 rows left, 50 taken a second since:
	// 50 left now, as many as here. Counting 100 would pull this shard
	// down to a third of the pool.
	p, t0 := steadyShard(t, 40, 50)
	n := peerNote(1, t0.Add(-time.Second), 40, 100)
	n.Took = 50
	p.share(t0, []PaceNote{n})
	if p.cur != 40 {
		t.Errorf("pace %.2f, want 40 unmoved", p.cur)
	}
}

// A shard refused while it reads the others' notes paces at its share of
// what the API took from all of them: its own estimate counts time when
// the others paused.
func TestShardCutTakesItsShareOfWhatTheAPITook(t *testing.T) {
	t.Parallel()
	for _, peers := range []bool{false, true} {
		p, t0 := pacerAt(t, func(c *Config) { c.Sharers, c.Rows = 2, 10000 })
		d := &atPace{p: p, now: t0}
		d.good(time.Second) // slow start, alone on the API
		if peers {
			n := peerNote(1, d.now, 20, float64(p.left))
			n.Took = 20
			p.share(d.now, []PaceNote{n})
		}
		took := p.took(d.now)
		d.step(status(429, RateLimited, time.Second))
		if p.cuts != 1 {
			t.Fatalf("%d cuts, want 1", p.cuts)
		}
		want := cutToEstimate * (took + 20) / 2
		switch {
		case peers && math.Abs(p.cur-want) > 0.02*want: // took moves with the refused request
			t.Errorf("with a peer that took 20/s: cut to %.2f, want %.2f (0.95 of half of %.1f + 20)", p.cur, want, took)
		case !peers && p.cur <= want:
			t.Errorf("alone: cut to %.2f, want its own estimate, above %.2f", p.cur, want)
		}
	}
}

// Another shard's cut is the pool meeting the limit: a shard probing
// above where it levelled off ends its probe and levels off where it is.
func TestShareLevelsOffWhenAnotherShardIsCut(t *testing.T) {
	t.Parallel()
	p, t0 := steadyShard(t, 48, 100)
	p.wmax, p.grown = 40, 12*time.Second // probing 20 % above its level
	n := peerNote(1, t0, 48, 100)
	n.Cuts = 2
	p.share(t0, []PaceNote{n}) // first seen: its cuts so far say nothing new
	if p.wmax != 40 || p.grown != 12*time.Second {
		t.Fatalf("first note: levels off at %.1f after %s; want 40 after 12s, unchanged", p.wmax, p.grown)
	}
	t1 := t0.Add(shareEvery)
	n.At, n.Cuts = t1, 3
	p.share(t1, []PaceNote{n})
	if p.wmax != p.cur || p.grown != 0 || p.gap != 0 {
		t.Errorf("after the other shard's cut: pace %.1f, levels off at %.1f after %s (gap %.1f); want at the pace, from now", p.cur, p.wmax, p.grown, p.gap)
	}
}
