package batch

// history is a ring of the last n slots of time, numbered from the Unix
// epoch in slots of a fixed length (slot k covers [k, k+1) of them): the
// pace keeps one of tenths of a second and one of seconds.
type history[T any] struct {
	slots []T
	at    int64 // number of the newest slot
}

func newHistory[T any](n int, at int64) history[T] {
	return history[T]{slots: make([]T, n), at: at}
}

// slot returns slot k, moving the ring forward to it and clearing the
// slots it passes; a slot older than the ring holds gives its oldest.
func (h *history[T]) slot(k int64) *T {
	n := int64(len(h.slots))
	for h.at < k {
		h.at++
		clear(h.slots[h.at%n : h.at%n+1])
		if k-h.at > n {
			h.at = k - n
		}
	}
	return h.back(int(h.at - max(k, h.at-n+1)))
}

// back returns the slot i slots before the newest (0 is the newest).
func (h *history[T]) back(i int) *T {
	n := int64(len(h.slots))
	return &h.slots[((h.at-int64(i))%n+n)%n]
}

// reset empties the ring, its newest slot k.
func (h *history[T]) reset(k int64) {
	clear(h.slots)
	h.at = k
}
