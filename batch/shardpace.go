package batch

import (
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
	Held   bool      `json:"held"`   // at its own ceiling (--rate N, --max-rate)
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
	shareEvery   = 200 * time.Millisecond // notes are written and read this often
	shareStale   = 2 * time.Second        // a note older than this: its shard stopped
	shareStep    = 0.5                    // each reading moves the pace this share of the way to its share of the pool
	shareTook    = 500 * time.Millisecond // what the API took lately is counted over this...
	shareTookMin = 100 * time.Millisecond // ...of which at least this much unpaused
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
	return PaceNote{At: now, Pace: pace, Left: float64(max(p.left, 0)), Steady: !p.slowStart, Took: p.took(now),
		Cuts: p.cuts, Held: p.cur >= p.ceiling}
}

// peer is what this shard knows of another from its notes.
type peer struct {
	note    PaceNote
	changed time.Time // when its note last changed, by this shard's clock
	live    bool      // its note changed within shareStale
}

// share takes in the other shards' notes. A shard is live while its note
// keeps changing (by this shard's clock: the others' may differ, and a
// note left by a run that was killed never changes) and it has rows left.
// The pace of a live shard that stops being live goes to this one in the
// share its rows left make of those of every live shard's; another's cut
// ends this one's probe; and once every live shard is past slow start,
// this one's pace moves toward the pool's share its rows left make, so
// that all finish together.
func (p *pacer) share(now time.Time, notes []PaceNote) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.left <= 0 || math.IsInf(p.cur, 1) {
		return
	}
	if p.peers == nil {
		p.peers = map[int]*peer{}
	}
	cut, current := false, map[int]bool{}
	for _, n := range notes {
		current[n.Shard] = true
		pr := p.peers[n.Shard]
		switch {
		case pr == nil:
			// First seen: live if this clock says it is fresh; else it
			// may be a note left behind, or a clock set apart, and it is
			// live once it changes.
			pr = &peer{note: n, changed: now}
			if age := now.Sub(n.At); age < 0 || age >= shareStale {
				pr.changed = now.Add(-shareStale)
			}
			p.peers[n.Shard] = pr
			continue
		case n.At.Equal(pr.note.At):
			continue
		}
		cut = cut || pr.live && n.Cuts > pr.note.Cuts
		pr.note, pr.changed = n, now
	}
	// In the order of the shards, so that every run of the same notes
	// decides the same.
	left, pool, steady, freedPace := float64(p.left), p.cur, !p.slowStart && p.cur < p.ceiling, 0.0
	var live []*peer
	for _, k := range slices.Sorted(maps.Keys(p.peers)) {
		pr := p.peers[k]
		was := pr.live
		pr.live = current[k] && now.Sub(pr.changed) < shareStale && pr.note.Left > 0
		switch {
		case pr.live:
			live = append(live, pr)
			left += pr.leftAt(now)
			pool += pr.note.Pace
			// A shard with no ceiling (pace 0) or held at its own keeps
			// the pool from being shared out.
			steady = steady && pr.note.Steady && pr.note.Pace > 0 && !pr.note.Held
		case was:
			// Finished, stopped or gone: its pace is free.
			freedPace += pr.note.Pace
		}
		if !current[k] {
			delete(p.peers, k)
		}
	}
	p.peersMost = max(p.peersMost, len(live))
	if p.hdrCap > 0 {
		// The API's headers name the key's limit: the pool's, not this
		// shard's.
		pool = math.Min(pool, p.hdrCap)
	}
	next := p.cur
	switch {
	case freedPace > 0 && !p.slowStart:
		// The others take their shares of it too, each when it reads
		// that: evening out before they all did would undo some of this.
		next += freedPace * float64(p.left) / left
	case steady && len(live) > 0 && !now.Before(p.pauseUntil) && p.probe == nil:
		next += shareStep * (pool*float64(p.left)/left - next)
	}
	next = math.Min(math.Max(next, p.floor), p.ceiling)
	if p.hdrCap > 0 {
		next = math.Min(next, p.hdrCap)
	}
	if cut && !p.slowStart {
		// Another shard was cut: the pool met the limit, which is this
		// shard's too. Its probe ends there, and all of them level off
		// where the pool now is, to probe again together later.
		defer func() { p.levelOffAt(p.cur) }()
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
// every shareEvery until stopped (the run stops dispatching: its note
// then says no rows are left, so the others take its pace while it lets
// the requests in flight finish) or the returned func is called. A
// board that fails is logged once (at debug) and tried again: the run
// paces on its own answers meanwhile. The returned func waits for the
// board no longer than shareEvery: a note on a volume that hangs must
// not keep the run from ending and writing its report.
func sharePace(cfg Config, p *pacer, stopped <-chan struct{}) (end func()) {
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
			case <-stopped:
			case <-cfg.Clock.After(shareEvery):
			}
			select {
			case <-stopped: // first: the others may take its pace
				n := p.note(cfg.Clock.Now())
				n.Left = 0
				cfg.Board.Publish(n)
				return
			default:
			}
			select {
			case <-stop:
				return
			default:
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
		select {
		case <-done:
		case <-cfg.Clock.After(shareEvery):
		}
	}
}

// took is the rate the API took this shard's requests at over the last
// shareTook, while it was not paused: 0 when it was paused all along.
// Counted over the pause too, a shard cut soon after one read a small
// part of its pace.
func (p *pacer) took(now time.Time) float64 {
	span := min(shareTook, now.Sub(p.begun))
	_, answers, active := p.exact(span)
	if active < shareTookMin.Seconds() {
		return 0
	}
	return answers / active
}

// pooledShare is the share of what the API took from every shard of the
// limit together lately that this shard's rows left make of all of
// theirs: what it may pace at when the API pushes back. 0 when no other
// shard's note is fresh.
func (p *pacer) pooledShare(now time.Time) float64 {
	took, left, all, n := p.took(now), float64(max(p.left, 0)), float64(max(p.left, 0)), 0
	for _, k := range slices.Sorted(maps.Keys(p.peers)) {
		if pr := p.peers[k]; pr.live {
			took += pr.note.Took
			all += pr.leftAt(now)
			n++
		}
	}
	if n == 0 || left == 0 {
		return 0
	}
	return took * left / all
}

// leftAt is how many rows the shard has left at now: as many fewer than
// its note said as the API took since it was written. Rows counted when
// the note was written would make every shard's own share look smaller
// than it is, and the pool would sink (by 1 % a second, and more for
// two shards).
func (pr *peer) leftAt(now time.Time) float64 {
	age := now.Sub(pr.note.At)
	if age < 0 || age > shareStale {
		// The clocks are set apart: count from when the note was read.
		age = now.Sub(pr.changed)
	}
	return math.Max(pr.note.Left-pr.note.Took*age.Seconds(), 0)
}

// livePeers is how many other shards' notes are live.
func (p *pacer) livePeers() (n int) {
	for _, pr := range p.peers {
		if pr.live {
			n++
		}
	}
	return n
}
