package fake

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// The call store holds no Go pointers in its bulk (IDs are bytes in one
// arena per shard, records are plain numbers, the index maps a 64-bit hash
// to a record number), so the garbage collector does not have to scan
// millions of calls on every cycle: with ten million calls a pointer-based
// map[string]*state made GC the fake's largest cost under load.

// numShards is the number of lock shards the calls are spread over.
const numShards = 64

// shard holds the calls whose ID hashes to it.
type shard struct {
	mu    sync.Mutex
	index map[uint64]uint32 // fnv64(id) -> 1 + number of the first record with that hash
	recs  []callRec
	names []byte // the IDs of recs, back to back
}

// callRec is one ID's record. An ID that was requested but never existed
// has status codeNone.
type callRec struct {
	off, n   uint32 // the ID is names[off : off+n]
	next     uint32 // 1 + number of the next record with the same hash; 0 = none
	status   uint32 // a statusTable code
	requests uint32
	cancels  uint32
}

// shardOf returns the shard of id and id's hash.
func (s *Server) shardOf(id string) (*shard, uint64) {
	h := fnv64(id)
	return &s.shards[h%numShards], h
}

// find returns the number of id's record in sh.recs, or -1; sh.mu is
// held.
func (sh *shard) find(h uint64, id string) int {
	for i := sh.index[h]; i != 0; {
		r := &sh.recs[i-1]
		if string(sh.names[r.off:r.off+r.n]) == id {
			return int(i - 1)
		}
		i = r.next
	}
	return -1
}

// insert adds a record for id, which has none yet, and returns its
// number; sh.mu is held.
func (sh *shard) insert(h uint64, id string, status uint32) int {
	if sh.index == nil {
		sh.index = make(map[uint64]uint32)
	}
	if len(sh.names)+len(id) > math.MaxUint32 || len(sh.recs) >= math.MaxUint32-1 {
		panic(fmt.Sprintf("fake: shard full (%d calls, %d bytes of IDs)", len(sh.recs), len(sh.names)))
	}
	sh.recs = append(sh.recs, callRec{off: uint32(len(sh.names)), n: uint32(len(id)), next: sh.index[h], status: status})
	sh.names = append(sh.names, id...)
	sh.index[h] = uint32(len(sh.recs))
	return len(sh.recs) - 1
}

// recRef names a record: its shard and its number there, which never
// changes (unlike its address, which an insert may move).
type recRef struct {
	sh *shard
	i  int
}

// id returns the ID of r; sh.mu is held.
func (sh *shard) id(r *callRec) string { return string(sh.names[r.off : r.off+r.n]) }

// Status codes the hot path compares against; statusTable assigns them
// first, in this order.
const (
	codeNone     uint32 = iota // "": requested but never existed
	codeQueued                 // StatusQueued
	codeCanceled               // StatusCanceled
)

// statusTable numbers the statuses calls have, so records hold a number
// rather than a string. It only grows; lookups of a name take no lock.
type statusTable struct {
	mu    sync.Mutex
	codes map[Status]uint32
	names atomic.Pointer[[]Status]
}

func newStatusTable() *statusTable {
	t := &statusTable{codes: map[Status]uint32{}}
	t.names.Store(&[]Status{})
	for _, st := range []Status{"", StatusQueued, StatusCanceled} {
		t.code(st)
	}
	return t
}

// code returns st's number, adding st if it is new.
func (t *statusTable) code(st Status) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.codes[st]; ok {
		return c
	}
	old := *t.names.Load()
	names := make([]Status, len(old), len(old)+1)
	copy(names, old)
	names = append(names, st)
	c := uint32(len(old))
	t.codes[st] = c
	t.names.Store(&names)
	return c
}

// name returns the status numbered c.
func (t *statusTable) name(c uint32) Status { return (*t.names.Load())[c] }
