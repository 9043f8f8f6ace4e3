package batch

import (
	"math"
	"sort"
	"time"
)

// The API's limit read as a token bucket. A Retry-After of a second at
// most is a bucket's (a fixed window names the time to its reset, up to
// its length), and a bucket full when sending began, at the start of the
// run or the end of a pause, took every request sent before the first
// one it refused. So the times the requests left tell its limit, and
// the API's latency, which delays the answers, does not touch them:
//
//   - slow start, which ends at the first refusal, is replayed against a
//     bucket whose burst is worth burstTime at its limit: the least limit
//     under which that bucket takes every send is just under the API's,
//     whatever time the pace spent under it;
//   - a level held from the end of one pause to the next refusal drained
//     the burst and then the limit: sends = burst + limit × span. Two
//     such levels at different paces give both, where one alone cannot
//     tell a large burst from a high limit (an API whose burst is worth
//     half a second was cut seven times by a tenth, a pause each).

// segment is the sending from the start of the run or the end of a
// pause to the first refused request.
type segment struct {
	sends int     // requests the bucket took
	span  float64 // seconds from the first of them to the refused one
}

// openSegment starts a segment: the run began, or a pause was set,
// and the API's bucket is full when sending starts again.
func (p *pacer) openSegment() {
	p.replay, p.replayOn = p.replay[:0], true
}

// closeSegment ends the segment: a cut, or slow start from a cut undone,
// no longer runs from a full bucket.
func (p *pacer) closeSegment() {
	p.replay, p.replayOn = p.replay[:0], false
}

// logSend records an attempt leaving at now (not in a pause) while a
// segment is open, up to replayMost of them.
func (p *pacer) logSend(now time.Time) {
	if !p.replayOn || len(p.replay) >= replayMost {
		return
	}
	if len(p.replay) == 0 {
		p.replayPace = p.cur
	}
	p.replay = append(p.replay, now)
}

// bucketEstimate is the API's limit as the bucket reads it when the
// request sent at sentAt was refused with a pause of named, or 0 when
// it cannot tell: the pushback is no bucket's, too few requests went
// before it, or slow start ran longer than replaySpan. It is called at
// every cut, and closes the segment (the pause that comes with the cut
// opens the next); it keeps a level for the next cut's fit, and takes
// the limit for a window from the first pause named over a second.
func (p *pacer) bucketEstimate(sentAt time.Time, named time.Duration) float64 {
	if named > time.Second {
		p.window = true // a fixed window or a quota's reset, from now on
	}
	prev := p.level
	p.level = segment{}
	defer p.closeSegment()
	if p.window || !p.replayOn || named <= 0 || len(p.replay) == 0 || len(p.replay) >= replayMost {
		return 0
	}
	n := sort.Search(len(p.replay), func(i int) bool { return !p.replay[i].Before(sentAt) })
	seg := segment{sends: n, span: sentAt.Sub(p.replay[0]).Seconds()}
	if n < replayMin {
		return 0
	}
	if p.slowStart {
		if seg.span > replaySpan.Seconds() {
			return 0
		}
		return bucketLimit(p.replay[:n])
	}
	if p.cur != p.replayPace && math.Abs(p.cur-p.replayPace) > 0.01*p.cur {
		return 0 // the pace moved (a probe, or a gap regained): no level
	}
	p.level = seg
	return levelsLimit(prev, seg)
}

// levelsLimit is the limit two levels, each held from a full bucket until
// it refused, give together; 0 when they cannot tell: spans too close to
// part a burst from a limit, or a fit the levels themselves belie (a
// limit above either level would have refused nothing; a burst under
// zero is no burst).
func levelsLimit(a, b segment) float64 {
	if a.sends == 0 || a.span <= 0 || b.span <= 0 {
		return 0
	}
	dt := b.span - a.span
	if math.Abs(dt) < math.Max(0.2*math.Max(a.span, b.span), 0.05) {
		return 0
	}
	limit := float64(b.sends-a.sends) / dt
	burst := float64(b.sends) - limit*b.span
	if limit <= 0 || burst < 0 || limit >= float64(a.sends)/a.span || limit >= float64(b.sends)/b.span {
		return 0
	}
	return limit
}

// bucketLimit is the least limit of a token bucket (its burst worth
// burstTime at the limit, one request at least, full at the first send)
// that takes every one of sends. A higher limit takes at least as many,
// so it is found by bisection.
func bucketLimit(sends []time.Time) float64 {
	takesAll := func(limit float64) bool {
		burst := math.Max(1, limit*burstTime.Seconds())
		tokens, last := burst, sends[0]
		for _, t := range sends {
			tokens = math.Min(burst, tokens+limit*t.Sub(last).Seconds())
			last = t
			if tokens < 1 {
				return false
			}
			tokens--
		}
		return true
	}
	lo, hi := 0.0, 1.0
	for !takesAll(hi) {
		lo, hi = hi, 2*hi
	}
	for range 40 {
		if m := (lo + hi) / 2; takesAll(m) {
			hi = m
		} else {
			lo = m
		}
	}
	return hi
}
