package batch

import "testing"

// The ring moves forward to the slot asked for and clears every slot it
// passes, also when it jumps further than it holds; a slot older than it
// holds gives its oldest.
func TestHistoryMovesAndClears(t *testing.T) {
	h := newHistory[int](4, 10)
	for k := int64(7); k <= 10; k++ {
		*h.slot(k) = int(k)
	}
	if got := *h.back(0) + *h.back(3); got != 10+7 {
		t.Fatalf("newest and oldest %d, want 17", got)
	}
	*h.slot(12) += 100 // passes 11 and 12, clearing what 7 and 8 held
	if got := []int{*h.back(0), *h.back(1), *h.back(2), *h.back(3)}; got[0] != 100 || got[1] != 0 || got[2] != 10 || got[3] != 9 {
		t.Errorf("after a step of two: %v, want [100 0 10 9]", got)
	}
	if got := *h.slot(6); got != 9 {
		t.Errorf("slot 6, older than the ring: %d, want its oldest, 9", got)
	}
	h.slot(100) // a jump further than the ring holds
	for i := range 4 {
		if v := *h.back(i); v != 0 {
			t.Errorf("after a long jump, slot %d back holds %d, want 0", i, v)
		}
	}
}
