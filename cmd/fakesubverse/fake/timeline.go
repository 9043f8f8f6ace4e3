package fake

import (
	"sync/atomic"
	"time"
)

// TimelineSlot is the width of one slot of a Timeline.
const TimelineSlot = 10 * time.Millisecond

// Timeline counts the cancel requests that arrived in each TimelineSlot,
// from Start, the beginning of the first slot with a request, to the last
// slot with one. From it a client's achieved rate over any window of whole
// slots can be read, e.g. the first time the requests the limit let through
// in one second reached a given rate.
type Timeline struct {
	Start    time.Time
	Slot     time.Duration
	Requests []int // cancel requests that arrived in each slot
	Limited  []int // those of them the limit answered with 429
}

// Admitted returns the requests the limit let through in each slot.
func (t Timeline) Admitted() []int {
	out := make([]int, len(t.Requests))
	for i, n := range t.Requests {
		out[i] = n - t.Limited[i]
	}
	return out
}

// The timeline keeps its counts in chunks allocated as requests reach
// them, each count an atomic, so recording takes no lock. Slots are counted
// from the server's start (or its last ResetStats); requests past
// maxTimelineChunks*chunkSlots slots (about 11.6 hours) are left out of it,
// not out of Stats.
const (
	chunkSlots        = 1024
	maxTimelineChunks = 4096
)

type slotCount struct{ requests, limited atomic.Uint32 }

type timeline struct {
	origin time.Time
	chunks [maxTimelineChunks]atomic.Pointer[[chunkSlots]slotCount]
}

func newTimeline(origin time.Time) *timeline { return &timeline{origin: origin} }

// add counts a request that arrived at t, limited or not.
func (tl *timeline) add(t time.Time, limited bool) {
	i := int64(max(t.Sub(tl.origin), 0) / TimelineSlot)
	c := i / chunkSlots
	if c >= maxTimelineChunks {
		return
	}
	p := tl.chunks[c].Load()
	if p == nil {
		p = new([chunkSlots]slotCount)
		if !tl.chunks[c].CompareAndSwap(nil, p) {
			p = tl.chunks[c].Load()
		}
	}
	sc := &p[i%chunkSlots]
	sc.requests.Add(1)
	if limited {
		sc.limited.Add(1)
	}
}

// snapshot returns the counts from the first slot with a request to the
// last.
func (tl *timeline) snapshot() Timeline {
	out := Timeline{Slot: TimelineSlot, Requests: []int{}, Limited: []int{}}
	first, last := int64(-1), int64(-1)
	for c := range tl.chunks {
		p := tl.chunks[c].Load()
		if p == nil {
			continue
		}
		for j := range p {
			if p[j].requests.Load() == 0 {
				continue
			}
			i := int64(c)*chunkSlots + int64(j)
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return out
	}
	out.Start = tl.origin.Add(time.Duration(first) * TimelineSlot)
	for i := first; i <= last; i++ {
		var req, lim int
		if p := tl.chunks[i/chunkSlots].Load(); p != nil {
			sc := &p[i%chunkSlots]
			lim = int(sc.limited.Load()) // first: a request is counted before it is limited
			req = int(sc.requests.Load())
		}
		out.Requests = append(out.Requests, req)
		out.Limited = append(out.Limited, lim)
	}
	return out
}
