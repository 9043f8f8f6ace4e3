package fake

import (
	"fmt"
	"testing"
)

// TestShardHashCollisions forces every ID onto one hash, so find must
// walk the collision chain and compare the IDs themselves.
func TestShardHashCollisions(t *testing.T) {
	t.Parallel()
	var sh shard
	const h = 42
	for i := range 50 {
		id := fmt.Sprintf("id-%d", i)
		if sh.find(h, id) != -1 {
			t.Fatalf("%s found before insert", id)
		}
		if got := sh.insert(h, id, uint32(i%3)); got != i {
			t.Fatalf("insert %s = record %d, want %d", id, got, i)
		}
	}
	for i := range 50 {
		id := fmt.Sprintf("id-%d", i)
		n := sh.find(h, id)
		if n != i || sh.id(&sh.recs[n]) != id || sh.recs[n].status != uint32(i%3) {
			t.Errorf("find %s = %d", id, n)
		}
	}
	if sh.find(h, "id-50") != -1 || sh.find(h+1, "id-1") != -1 {
		t.Error("found an ID that is not there")
	}
}
