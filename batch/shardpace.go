package batch

import (
	"cmp"
	"errors"
	"maps"
	"math"
	"slices"
	"time"
)

// Shards (--shard K/N) share one key's limit but each sees only its own
// answers: they settle at unequal shares of it, and as shards have about
// the same rows, the ones with the larger shares finish first while the
// others go on at theirs, leaving the rest of the limit unused. Shards
// that can read one another's notes (a PaceBoard: a file each beside the
// reports) pool their paces instead: each paces at the pool's share that
// its rows left make of every shard's, so they finish together, and the
// pace of a shard that finished or stopped goes to the ones left.

// PaceNote is what a shard tells the others of its pace.
type PaceNote struct {
	Shard  int       `json:"shard"`  // K of --shard K/N
	At     time.Time `json:"at"`     // when it was written
	Pace   float64   `json:"pace"`   // requests a second; 0 when there is none
	Left   float64   `json:"left"`   // rows not yet settled
	Steady bool      `json:"steady"` // past slow start: the pace is a level the API allowed
	Took   float64   `json:"took"`   // requests a second the API took from this shard over the last shareTook
	Cuts   int       `json:"cuts"`   // times the API pushed back and this shard's pace was cut
}

// PaceBoard is where shards of one input leave notes of their pace for
// one another. Publish replaces this shard's note; Read returns the
// other shards' notes as last written, however old. Both are called
// from one goroutine, never under the pacer's lock.
type PaceBoard interface {
	Publish(PaceNote) error
	Read() ([]PaceNote, error)
}

const (
	shareEvery = 200 * time.Millisecond // notes are written and read this often
	shareStale = 2 * time.Second        // a note older than this: its shard stopped
	shareStep  = 0.5                    // each reading moves the pace this share of the way to its share of the pool
	shareTook  = 500 * time.Millisecond // what the API took lately is counted over this
)

// note is this shard's note at now (the board names the shard).
func (p *pacer) note(now time.Time) PaceNote {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(now)
	pace := p.cur
	if math.IsInf(pace, 1) {
		pace = 0
	}
	return PaceNote{At: now, Pace: pace, Left: float64(max(p.left, 0)), Steady: !p.slowStart, Took: p.took(now), Cuts: p.cuts}
}

// share takes in the other shards' notes. The pace of a shard whose
// notes stopped, or that has no rows left, goes to this one in the share
// its rows left make of those of every shard still sending; and once
// every shard is past slow start, this one's pace moves toward the
// pool's share its rows left make, so that all finish together.
func (p *pacer) share(now time.Time, notes []PaceNote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.left <= 0 || math.IsInf(p.cur, 1) {
		return
	}
	if p.peers == nil {
		p.peers = map[int]PaceNote{}
	}
	// In the order of the shards, so that every run of the same notes
	// decides the same.
	var live []PaceNote
	for _, n := range notes {
		if n.Left > 0 && n.Pace > 0 && now.Sub(n.At) < shareStale {
			n.Left = n.leftAt(now)
			live = append(live, n)
		}
	}
	slices.SortFunc(live, func(a, b PaceNote) int { return cmp.Compare(a.Shard, b.Shard) })
	left, pool, steady, cut := float64(p.left), p.cur, !p.slowStart, false
	seen := map[int]bool{}
	for _, n := range live {
		left += n.Left
		pool += n.Pace
		steady = steady && n.Steady
		seen[n.Shard] = true
		if last, ok := p.peers[n.Shard]; ok && n.Cuts > last.Cuts {
			cut = true
		}
	}
	next, freed := p.cur, false
	for _, k := range slices.Sorted(maps.Keys(p.peers)) {
		if seen[k] {
			continue
		}
		// Finished or stopped: its pace is free. The others take their
		// shares of it too, each when it reads that: evening out before
		// they all did would undo some of this.
		if !p.slowStart {
			next += p.peers[k].Pace * float64(p.left) / left
			freed = true
		}
		delete(p.peers, k)
	}
	for _, n := range live {
		p.peers[n.Shard] = n
	}
	p.peersMost = max(p.peersMost, len(live))
	if steady && !freed && len(live) > 0 && !now.Before(p.pauseUntil) && p.probe == nil {
		pool += next - p.cur
		next += shareStep * (pool*float64(p.left)/left - next)
	}
	next = math.Min(math.Max(next, p.floor), p.ceiling)
	if cut && !p.slowStart {
		// Another shard was cut: the pool met the limit, which is this
		// shard's too. Its probe ends there, and all of them level off
		// where the pool now is, to probe again together later.
		defer func() { p.wmax, p.gap, p.grown = p.cur, 0, 0 }()
	}
	if next == p.cur {
		return
	}
	f := next / p.cur
	if p.trace != nil {
		p.trace("%s share %.1f -> %.1f (pool %.1f, %d rows of %.0f)", now.Format("05.000"), p.cur, next, pool, p.left, left)
	}
	p.wmax *= f
	p.est *= f
	p.gap *= f
	p.set(next)
}

// sharePace writes this shard's note to cfg.Board and reads the others'
// every shareEvery until the returned func is called. A board that
// fails is logged once (at debug) and tried again: the run paces on its
// own answers meanwhile.
func sharePace(cfg Config, p *pacer) (end func()) {
	if cfg.Board == nil {
		return func() {}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		logged := false
		for {
			select {
			case <-stop:
				return
			case <-cfg.Clock.After(shareEvery):
			}
			err := cfg.Board.Publish(p.note(cfg.Clock.Now()))
			notes, rerr := cfg.Board.Read()
			p.share(cfg.Clock.Now(), notes)
			if err = errors.Join(err, rerr); err != nil && !logged {
				logged = true
				cfg.Log.Debug().Err(err).Msg("shards cannot read one another's pace; each paces on its own answers")
			}
		}
	}()
	return func() {
		close(stop)
		<-done
	}
}

// took is the rate the API took this shard's requests at over the last
// shareTook (since the run began, when that is sooner), pauses included.
func (p *pacer) took(now time.Time) float64 {
	span := min(shareTook, now.Sub(p.begun))
	if span <= 0 {
		return 0
	}
	_, answers, _ := p.exact(span)
	return answers / span.Seconds()
}

// pooledShare is the share of what the API took from every shard of the
// limit together lately that this shard's rows left make of all of
// theirs: what it may pace at when the API pushes back. 0 when no other
// shard's note is fresh.
func (p *pacer) pooledShare(now time.Time) float64 {
	took, left, all, n := p.took(now), float64(max(p.left, 0)), float64(max(p.left, 0)), 0
	for _, k := range slices.Sorted(maps.Keys(p.peers)) {
		if pr := p.peers[k]; pr.Left > 0 && now.Sub(pr.At) < shareStale {
			took += pr.Took
			all += pr.leftAt(now)
			n++
		}
	}
	if n == 0 || left == 0 {
		return 0
	}
	return took * left / all
}

// leftAt is how many rows the note's shard has left at now: as many
// fewer than it said as the API took since. Rows counted when the note
// was written would make every shard's own share look smaller than it
// is, and the pool would sink.
func (n PaceNote) leftAt(now time.Time) float64 {
	age := max(now.Sub(n.At), 0) // a clock a little ahead of this one
	return math.Max(n.Left-n.Took*age.Seconds(), 0)
}
