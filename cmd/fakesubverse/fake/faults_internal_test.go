package fake

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"
)

func TestDecideFollowsProbabilities(t *testing.T) {
	t.Parallel()
	f := Faults{Seed: 9, P500: 0.1, P503: 0.05, P429: 0.2, PBadGateway: 0.05,
		PDropBefore: 0.05, PDropAfter: 0.05, PMalformed: 0.05, PTruncated: 0.05}
	const n = 100000
	var got [9]int
	for i := range n {
		got[f.decide(strconv.Itoa(i), 1)]++
	}
	want := [9]float64{0.4, 0.1, 0.05, 0.2, 0.05, 0.05, 0.05, 0.05, 0.05}
	for k, p := range want {
		if frac := float64(got[k]) / n; math.Abs(frac-p) > 0.01 {
			t.Errorf("%s: %.3f of requests, want %.2f", faultNames[k], frac, p)
		}
	}
}

func TestDecideIsPerIDAndRequest(t *testing.T) {
	t.Parallel()
	f := Faults{Seed: 1, P500: 0.5}
	same, diffSeed := 0, 0
	g := f
	g.Seed = 2
	for i := range 1000 {
		id := strconv.Itoa(i)
		if first, again := f.decide(id, 1), f.decide(id, 1); first != again {
			t.Fatal("decide is not deterministic")
		}
		if f.decide(id, 1) == f.decide(id, 2) {
			same++
		}
		if f.decide(id, 1) == g.decide(id, 1) {
			diffSeed++
		}
	}
	// Independent coin flips agree about half the time.
	if same < 400 || same > 600 || diffSeed < 400 || diffSeed > 600 {
		t.Errorf("agreement across requests %d, across seeds %d (of 1000)", same, diffSeed)
	}
	if (&Faults{P500: 1, FirstN: 2}).decide("x", 3) != faultNone {
		t.Error("FirstN did not stop faults")
	}
	if (&Faults{}).decide("x", 1) != faultNone {
		t.Error("zero Faults injected a fault")
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if (&Faults{Latency: time.Hour}).wait(ctx, "x", 1) {
		t.Error("wait ignored a canceled context")
	}
	if (&Faults{}).wait(ctx, "x", 1) {
		t.Error("wait without latency ignored a canceled context")
	}
	if !(&Faults{Latency: time.Microsecond, LatencyJitter: time.Microsecond}).wait(context.Background(), "x", 1) {
		t.Error("wait failed without cancellation")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		time.Nanosecond: "1", time.Second: "1", 1001 * time.Millisecond: "2", time.Minute: "60",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %s, want %s", d, got, want)
		}
	}
}
