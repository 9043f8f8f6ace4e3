package batch

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
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

// meet has p read the notes at now, after reading an earlier note of
// each long ago (one it would not take as live until it changed).
func meet(p *pacer, now time.Time, notes ...PaceNote) {
	var earlier []PaceNote
	for _, n := range notes {
		n.At = n.At.Add(-time.Hour)
		earlier = append(earlier, n)
	}
	p.share(now.Add(-shareEvery), earlier)
	p.share(now, notes)
}

func TestShareEvensOutByRowsLeft(t *testing.T) {
	t.Parallel()
	p, t0 := steadyShard(t, 50, 100)
	meet(p, t0, peerNote(1, t0, 30, 100))
	// The pool is 80; this shard's rows are half of all: it moves half
	// the way from 50 to 40, and where it levels off with it.
	if !near(p.cur, 45) || !near(p.wmax, 45) {
		t.Errorf("pace %.2f levelling off at %.2f, want 45 and 45", p.cur, p.wmax)
	}

	// Three times the rows of the other: three quarters of the pool.
	p, t0 = steadyShard(t, 40, 300)
	meet(p, t0, peerNote(1, t0, 40, 100))
	if !near(p.cur, 50) {
		t.Errorf("with 300 rows of 400: pace %.2f, want 50 (half the way from 40 to 60)", p.cur)
	}
}

func TestShareWaitsForSlowStart(t *testing.T) {
	t.Parallel()
	p, t0 := steadyShard(t, 50, 100)
	n := peerNote(1, t0, 30, 100)
	n.Steady = false
	meet(p, t0, n)
	if p.cur != 50 {
		t.Errorf("another shard still in slow start: pace %.2f, want 50 unmoved", p.cur)
	}
	p, t0 = steadyShard(t, 50, 100)
	p.slowStart = true
	meet(p, t0, peerNote(1, t0, 30, 100))
	if p.cur != 50 {
		t.Errorf("in slow start: pace %.2f, want 50 unmoved", p.cur)
	}
}

func TestShareGivesAFinishedShardsPace(t *testing.T) {
	t.Parallel()
	p, t0 := steadyShard(t, 40, 100)
	meet(p, t0, peerNote(1, t0, 40, 100), peerNote(2, t0, 40, 100))
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
	// Shard 1's note stopped changing (it was stopped or killed): after
	// shareStale all of its pace comes here.
	t2 := t1.Add(shareStale)
	p.share(t2, []PaceNote{peerNote(1, t1, 40, 100)})
	if !near(p.cur, 100) {
		t.Errorf("after shard 1's note stood still for %s: pace %.2f, want 100", shareStale, p.cur)
	}
	if p.report().Peers != 2 {
		t.Errorf("report: %d peers, want the most seen at once, 2", p.report().Peers)
	}
	// A shard whose note went away (removed when it ended) is gone at once.
	p, t0 = steadyShard(t, 40, 100)
	meet(p, t0, peerNote(1, t0, 40, 100))
	p.share(t0.Add(shareEvery), nil)
	if !near(p.cur, 80) {
		t.Errorf("after shard 1's note was removed: pace %.2f, want 80", p.cur)
	}
}

func TestShareGoesByThisShardsClock(t *testing.T) {
	t.Parallel()
	// A fresh note by this clock is live at first sight.
	p0, t0 := steadyShard(t, 50, 100)
	p0.share(t0, []PaceNote{peerNote(1, t0.Add(-50*time.Millisecond), 30, 100)})
	if !near(p0.cur, 45) {
		t.Errorf("a fresh note read for the first time: pace %.2f, want 45", p0.cur)
	}
	// A note left by an earlier run, or by a clock an hour ahead, that
	// never changes: never live, so never a pace to take or share.
	for _, at := range []time.Duration{-time.Hour, time.Hour} {
		p, t0 := steadyShard(t, 40, 100)
		old := peerNote(1, t0.Add(at), 10, 100)
		for i := range 20 {
			p.share(t0.Add(time.Duration(i)*shareEvery), []PaceNote{old})
		}
		if p.cur != 40 || p.report().Peers != 0 {
			t.Errorf("a note dated %s that never changes: pace %.2f, %d peers; want 40 and none", at, p.cur, p.report().Peers)
		}
	}
	// A shard whose clock is an hour behind, writing as it goes: live.
	p, t0 := steadyShard(t, 50, 100)
	meet(p, t0, peerNote(1, t0.Add(-time.Hour), 30, 100))
	if !near(p.cur, 45) || p.report().Peers != 1 {
		t.Errorf("a live shard with a clock an hour behind: pace %.2f, %d peers; want 45, 1", p.cur, p.report().Peers)
	}
}

func TestShareCountsRowsTakenSinceTheNote(t *testing.T) {
	t.Parallel()
	// Read a second ago with 100 rows left, as many as here then; both
	// took 50 a second since. Counting 100 would pull this shard down to
	// a third of the pool.
	p, t0 := steadyShard(t, 40, 100)
	n := peerNote(1, t0.Add(-time.Second), 40, 100)
	n.Took = 50
	meet(p, t0.Add(-time.Second), n)
	p.left = 50
	p.share(t0, []PaceNote{n})
	if p.cur != 40 {
		t.Errorf("pace %.2f, want 40 unmoved", p.cur)
	}
}

func TestShareKeepsCeilings(t *testing.T) {
	t.Parallel()
	// Another shard with no ceiling (--rate 0): its pace is not a
	// figure to share, and it is not gone.
	p, t0 := steadyShard(t, 40, 100)
	meet(p, t0, peerNote(1, t0, 0, 300))
	if p.cur != 40 || p.report().Peers != 1 {
		t.Errorf("beside a shard with no ceiling: pace %.2f, %d peers; want 40, 1", p.cur, p.report().Peers)
	}
	// Another at its --rate: each keeps its own pace.
	p, t0 = steadyShard(t, 40, 100)
	n := peerNote(1, t0, 50, 300)
	n.Held = true
	meet(p, t0, n)
	if p.cur != 40 {
		t.Errorf("beside a shard held at its ceiling: pace %.2f, want 40", p.cur)
	}
	// This one at its own ceiling: it stays there, and a pace it would
	// take beyond it is not taken.
	p, t0 = pacerAt(t, func(c *Config) { c.AutoRate, c.Rate, c.Sharers, c.Rows = false, 50, 3, 100 })
	meet(p, t0, peerNote(1, t0, 20, 300), peerNote(2, t0, 20, 100))
	p.share(t0.Add(shareEvery), []PaceNote{peerNote(1, t0.Add(shareEvery), 20, 300)})
	if p.cur != 50 {
		t.Errorf("--rate 50 beside two slower shards, one of which finished: pace %.2f, want 50", p.cur)
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
			meet(p, d.now, n)
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
	meet(p, t0, n) // its cuts so far say nothing new
	if p.wmax != 40 || p.grown != 12*time.Second {
		t.Fatalf("first notes: levels off at %.1f after %s; want 40 after 12s, unchanged", p.wmax, p.grown)
	}
	t1 := t0.Add(shareEvery)
	n.At, n.Cuts = t1, 3
	p.share(t1, []PaceNote{n})
	if p.wmax != p.cur || p.grown != 0 || p.gap != 0 {
		t.Errorf("after the other shard's cut: pace %.1f, levels off at %.1f after %s (gap %.1f); want at the pace, from now", p.cur, p.wmax, p.grown, p.gap)
	}
}

// recordBoard keeps the notes published to it and has no other shard;
// with block set, a read waits until it is closed (a volume that hangs).
type recordBoard struct {
	mu    sync.Mutex
	notes []PaceNote
	block chan struct{}
}

func (b *recordBoard) Publish(n PaceNote) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, n)
	return nil
}

func (b *recordBoard) Read() ([]PaceNote, error) {
	if b.block != nil {
		<-b.block
	}
	return nil, nil
}

func (b *recordBoard) last() (PaceNote, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.notes) == 0 {
		return PaceNote{}, 0
	}
	return b.notes[len(b.notes)-1], len(b.notes)
}

// A board that never answers does not keep a run from ending: the run
// writes its results and returns.
func TestRunEndsWhenTheBoardHangs(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{})
	ids := srv.Seed(60)
	b := &recordBoard{block: make(chan struct{})}
	defer close(b.block)
	cfg := testConfig()
	cfg.Board, cfg.Rows = b, len(ids)
	done := make(chan error, 1)
	go func() {
		_, err := runAll(t, context.Background(), cfg, c, ids)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second): // a guard: the run takes milliseconds
		t.Fatal("the run did not end while the board hung")
	}
	if _, n := b.last(); n == 0 {
		t.Error("no note was published")
	}
}

// A run that stops midway (a signal, an abort) says at once that it has
// no rows left, so the other shards take its pace while it lets its
// requests in flight finish.
func TestRunStoppedSaysNoRowsAreLeft(t *testing.T) {
	t.Parallel()
	srv, c := startFake(t, fake.Options{})
	ids := srv.Seed(400)
	b := &recordBoard{}
	cfg := testConfig()
	cfg.Board, cfg.Rows = b, len(ids)
	// The real clock: the run waits up to shareEvery for its last note,
	// which an instant clock would not.
	cfg.Clock = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := 0
	err := Run(ctx, cfg, c, jobsOf(ids), func(r Result) error {
		if results++; results == 20 {
			cancel()
		}
		return nil
	})
	if err == nil {
		t.Fatal("the run was stopped midway and says nothing of it")
	}
	if n, count := b.last(); count == 0 || n.Left != 0 {
		t.Errorf("last of %d notes: %+v; want one that says no rows are left", count, n)
	}
}

// A note seen but never live (left by a killed run) does not make a
// shard level off as one that reads the others' pace.
func TestShardLevelNeedsLiveNotes(t *testing.T) {
	t.Parallel()
	p, t0 := pacerAt(t, func(c *Config) { c.Sharers, c.Rows = 4, 100 })
	p.slowStart, p.est = false, 40
	p.set(40)
	p.share(t0, []PaceNote{peerNote(1, t0.Add(-time.Hour), 40, 100)})
	if got := p.shardLevel(0.1); got != 10 {
		t.Errorf("beside a note left behind: levels off at %.1f, want the estimate over 4, 10", got)
	}
	meet(p, t0.Add(shareEvery), peerNote(1, t0.Add(shareEvery), 40, 100))
	if got := p.shardLevel(0.1); !near(got, 36) {
		t.Errorf("beside a live shard: levels off at %.1f, want 36 (0.9 of the pace, under 0.95 of the estimate)", got)
	}
	if p.sharers = 1; p.shardLevel(0.1) != 0 {
		t.Error("a lone process levelled off instead of cutting blind")
	}
}
