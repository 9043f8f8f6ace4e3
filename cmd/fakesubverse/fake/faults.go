package fake

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrBadFaults is wrapped by the errors of Faults.Validate.
var ErrBadFaults = errors.New("bad faults")

// Faults describes the faults injected into cancel requests. Each request
// after the key check gets at most one fault, chosen by cumulative
// probability in field order (P500, P503, P429, PBadGateway, PDropBefore,
// PDropAfter, PMalformed, PTruncated). The choice is a hash of (Seed, call
// ID, request number for that ID), so it does not depend on goroutine
// scheduling. The zero value injects nothing.
type Faults struct {
	// Seed seeds the fault decisions and the latency jitter.
	Seed uint64
	// P500 is the probability of HTTP 500 with a responseCode 500 envelope.
	P500 float64
	// P503 is the probability of HTTP 503 with Retry-After and a
	// responseCode 503 envelope.
	P503 float64
	// P429 is the probability of HTTP 429 with Retry-After and a
	// responseCode 429 envelope.
	P429 float64
	// PBadGateway is the probability of HTTP 502 with an HTML body.
	PBadGateway float64
	// PDropBefore is the probability that the connection is closed with no
	// response and the cancel does not take effect.
	PDropBefore float64
	// PDropAfter is the probability that the cancel takes effect and then
	// the connection is closed with no response.
	PDropAfter float64
	// PMalformed is the probability of a complete HTTP 200 response whose
	// body is invalid JSON; the cancel does not take effect.
	PMalformed float64
	// PTruncated is the probability that the cancel takes effect and the
	// response is cut short of its Content-Length (unexpected EOF).
	PTruncated float64
	// RetryAfter is sent on 429 and 503 as whole seconds, rounded up, at
	// least 1; 0 sends no header.
	RetryAfter time.Duration
	// Latency delays every API request (cancel and trigger) before it is
	// answered, but those the Limit refuses unless Limit.Delayed; the
	// wait ends early, with nothing applied, if the client goes away.
	Latency time.Duration
	// LatencyJitter adds a uniform extra delay in [0, LatencyJitter).
	LatencyJitter time.Duration
	// FirstN, when > 0, limits faults to the first FirstN cancel requests of
	// each call ID, so retries can succeed. Requests are numbered as in
	// Call.Requests: every cancel request for the ID, rejected keys included.
	FirstN int
}

// Validate reports probabilities outside [0, 1], a total above 1, or a
// negative duration or FirstN.
func (f Faults) Validate() error {
	total := 0.0
	for i, p := range f.probs() {
		if !(p >= 0 && p <= 1) { // also rejects NaN
			return fmt.Errorf("%w: %s = %v is not in [0, 1]", ErrBadFaults, faultNames[i+1], p)
		}
		total += p
	}
	if total > 1+1e-9 {
		return fmt.Errorf("%w: probabilities add up to %v, more than 1", ErrBadFaults, total)
	}
	switch {
	case f.RetryAfter < 0:
		return fmt.Errorf("%w: retry_after %v is negative", ErrBadFaults, f.RetryAfter)
	case f.Latency < 0:
		return fmt.Errorf("%w: latency %v is negative", ErrBadFaults, f.Latency)
	case f.LatencyJitter < 0:
		return fmt.Errorf("%w: latency_jitter %v is negative", ErrBadFaults, f.LatencyJitter)
	case f.FirstN < 0:
		return fmt.Errorf("%w: first_n %d is negative", ErrBadFaults, f.FirstN)
	}
	return nil
}

// fault is one injected fault kind; faultNone answers normally.
type fault uint8

const (
	faultNone fault = iota
	fault500
	fault503
	fault429
	faultBadGateway
	faultDropBefore
	faultDropAfter
	faultMalformed
	faultTruncated
)

// faultNames are the snake_case names of the probabilities, by fault.
var faultNames = [...]string{"none", "p500", "p503", "p429", "p_bad_gateway",
	"p_drop_before", "p_drop_after", "p_malformed", "p_truncated"}

// probs returns the probabilities in decision order; index i is fault i+1.
func (f *Faults) probs() [8]float64 {
	return [8]float64{f.P500, f.P503, f.P429, f.PBadGateway,
		f.PDropBefore, f.PDropAfter, f.PMalformed, f.PTruncated}
}

// decide picks the fault for the n-th request of id.
func (f *Faults) decide(id string, n int) fault {
	if f.FirstN > 0 && n > f.FirstN {
		return faultNone
	}
	ps := f.probs()
	if ps == [8]float64{} {
		return faultNone
	}
	u := unit(f.Seed, id, n, 0)
	acc := 0.0
	for i, p := range ps {
		acc += p
		if u < acc {
			return fault(i + 1)
		}
	}
	return faultNone
}

// wait sleeps for the latency of the n-th request of id. It reports false
// if ctx ended first.
func (f *Faults) wait(ctx context.Context, id string, n int) bool {
	d := f.Latency
	if f.LatencyJitter > 0 {
		d += time.Duration(unit(f.Seed, id, n, 1) * float64(f.LatencyJitter))
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// unit hashes (seed, id, n, stream) to a uniform float64 in [0, 1).
func unit(seed uint64, id string, n int, stream uint64) float64 {
	h := mix64(seed ^ fnv64(id))
	h = mix64(h ^ uint64(n)*0x9e3779b97f4a7c15)
	h = mix64(h ^ stream)
	return float64(h>>11) / (1 << 53)
}

// fnv64 is FNV-1a over s.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
