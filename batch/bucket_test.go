package batch

import (
	"math"
	"testing"
	"time"
)

// bucketLimit finds, from the sends a token bucket took before it first
// refused, a limit just under the bucket's: the least one that takes
// them all. The sends come at a doubling pace from under the limit (the
// time under it drains nothing) or at a steady pace far above it.
func TestBucketLimitFromTheSendsItTook(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tried := 0
	for _, limit := range []float64{20, 150, 1000} {
		for _, from := range []float64{0.6, 0.9, 3} {
			api := simAPI{limit: limit, burst: math.Max(1, limit*burstTime.Seconds())}
			var sends []time.Time
			now, pace := t0, from*limit
			for {
				if ok, _ := api.take(now); !ok {
					break // refused
				}
				sends = append(sends, now)
				now = now.Add(time.Duration(float64(time.Second) / pace))
				if from < 1 {
					pace *= math.Exp2(1 / pace / slowStartDouble.Seconds())
				}
			}
			if len(sends) < replayMin {
				continue // too few to tell: the pacer does not replay them
			}
			tried++
			got := bucketLimit(sends)
			if got > limit || got < 0.96*limit {
				t.Errorf("limit %g, pace from %g of it: %d sends taken give %.2f, want 0.96-1.00 of the limit", limit, from, len(sends), got)
			}
		}
	}
	if tried < 8 {
		t.Errorf("%d cases had enough sends to replay, want 8", tried)
	}
}

// levelSegment sends at a steady pace from a full bucket of limit and
// burst until the bucket refuses, as a level held from the end of a
// pause does: in closed form, exact where the steps of a simulated bucket
// add up a rounding error at the very send that decides.
func levelSegment(limit, burst, pace float64) segment {
	tokens, n := burst, 0
	for t := 0.0; ; t += 1 / pace {
		tokens = math.Min(burst, burst+limit*t-float64(n))
		if tokens < 1 {
			return segment{sends: n, span: t}
		}
		n++
	}
}

// Two levels, each held from a full bucket until it refused, part the
// bucket's burst from its limit: one alone reads a large burst as a
// high limit.
func TestLevelsLimitPartsTheBurstFromTheLimit(t *testing.T) {
	for _, c := range []struct{ limit, burst, high, low float64 }{
		{150, 75, 275, 247},
		{150, 15, 200, 165},
		{1000, 500, 1800, 1500},
		{20, 10, 40, 30},
	} {
		a, b := levelSegment(c.limit, c.burst, c.high), levelSegment(c.limit, c.burst, c.low)
		got := levelsLimit(a, b)
		if got < 0.97*c.limit || got > 1.03*c.limit {
			t.Errorf("limit %g, burst %g, levels %g then %g (%+v, %+v): got %.1f, want within 3%%", c.limit, c.burst, c.high, c.low, a, b, got)
		}
	}
	// Spans too close to tell, and fits the levels belie.
	a := levelSegment(150, 75, 275)
	for _, b := range []segment{a, {sends: a.sends + 1, span: a.span * 1.05}, {sends: a.sends * 3, span: a.span * 1.5}, {}} {
		if got := levelsLimit(a, b); got != 0 {
			t.Errorf("%+v then %+v: got %.1f, want 0 (cannot tell)", a, b, got)
		}
	}
}
