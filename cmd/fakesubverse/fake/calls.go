package fake

import (
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
)

// ErrBadCalls is wrapped by the errors of ReadCalls and LoadCalls.
var ErrBadCalls = errors.New("bad calls csv")

// Seed adds n calls with generated IDs and returns the IDs in creation
// order. IDs are 24 lowercase hex characters shaped like MongoDB ObjectIds,
// unique within the server, and deterministic given Options.Seed and the
// order of Seed calls and triggers. Statuses come in shuffled blocks of 20:
// 12 call_in_queue, 3 call_placed, 2 call_in_progress, 2 completed and 1
// call_canceled (60/15/10/10/5%).
func (s *Server) Seed(n int) []string { return s.seed(n, s.gen.nextStatus) }

// SeedStatus adds n calls with generated IDs, as Seed does, all with
// status st, and returns the IDs in creation order.
func (s *Server) SeedStatus(n int, st Status) []string {
	return s.seed(n, func() Status { return st })
}

// seed adds n calls with generated IDs, each with the status status
// returns (called with s.genMu held), and returns the IDs in creation order.
func (s *Server) seed(n int, status func() Status) []string {
	ids := make([]string, 0, n)
	s.genMu.Lock()
	defer s.genMu.Unlock()
	for range n {
		ids = append(ids, s.addNewLocked(status()))
	}
	return ids
}

// newCall adds one call with a fresh generated ID.
func (s *Server) newCall(st Status) string {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	return s.addNewLocked(st)
}

// addNewLocked adds a call under an ID not yet known; s.genMu is held.
func (s *Server) addNewLocked(st Status) string {
	code := s.statuses.code(st)
	for {
		id := s.gen.nextID()
		sh, h := s.shardOf(id)
		sh.mu.Lock()
		if sh.find(h, id) < 0 {
			sh.insert(h, id, code)
			sh.mu.Unlock()
			return id
		}
		sh.mu.Unlock()
	}
}

// Add adds the call id with status st, replacing any earlier record of id,
// request and cancel counts included. A call with an empty status does not
// exist: canceling it answers "User call not found.".
func (s *Server) Add(id string, st Status) {
	code := s.statuses.code(st)
	sh, h := s.shardOf(id)
	sh.mu.Lock()
	if i := sh.find(h, id); i >= 0 {
		r := &sh.recs[i]
		r.status, r.requests, r.cancels = code, 0, 0
	} else {
		sh.insert(h, id, code)
	}
	sh.mu.Unlock()
}

// Call returns the record of id. ok is true if the call exists or a cancel
// request for it was received; an ID that was requested but never existed
// has an empty Status.
func (s *Server) Call(id string) (Call, bool) {
	sh, h := s.shardOf(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.find(h, id)
	if i < 0 || (sh.recs[i].status == codeNone && sh.recs[i].requests == 0) {
		return Call{}, false
	}
	return s.callOf(id, &sh.recs[i]), true
}

// Calls returns a snapshot of every record Call would report, sorted by ID.
func (s *Server) Calls() []Call {
	var out []Call
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for j := range sh.recs {
			if r := &sh.recs[j]; r.status != codeNone || r.requests > 0 {
				out = append(out, s.callOf(sh.id(r), r))
			}
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Call) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// callOf is the snapshot of record r of id.
func (s *Server) callOf(id string, r *callRec) Call {
	return Call{ID: id, Status: s.statuses.name(r.status), Requests: int(r.requests), Cancels: int(r.cancels)}
}

// Statuses returns the statuses the fake knows, those ReadCalls accepts.
func Statuses() []Status { return slices.Clone(knownStatuses) }

// knownStatuses lists the statuses ReadCalls accepts.
var knownStatuses = []Status{StatusQueued, StatusPlaced, StatusInProgress,
	StatusCompleted, StatusCanceled, StatusFailed}

// ReadCalls parses a CSV with the header call_id,status (case-insensitive,
// a UTF-8 BOM allowed) and returns its rows in order. Errors wrap
// ErrBadCalls and name the 1-based line: a bad header, a wrong field count,
// an empty ID, an unknown status, or an ID given twice.
func ReadCalls(r io.Reader) ([]Call, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: line 1: empty file, want header call_id,status", ErrBadCalls)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCalls, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	if len(header) != 2 || !strings.EqualFold(strings.TrimSpace(header[0]), "call_id") ||
		!strings.EqualFold(strings.TrimSpace(header[1]), "status") {
		return nil, fmt.Errorf("%w: line 1: header is %q, want call_id,status", ErrBadCalls, strings.Join(header, ","))
	}
	var calls []Call
	seen := make(map[string]int)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return calls, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCalls, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("%w: line %d: %d fields, want 2 (call_id,status)", ErrBadCalls, line, len(rec))
		}
		id, st := strings.TrimSpace(rec[0]), Status(strings.TrimSpace(rec[1]))
		if id == "" {
			return nil, fmt.Errorf("%w: line %d: empty call_id", ErrBadCalls, line)
		}
		if !slices.Contains(knownStatuses, st) {
			return nil, fmt.Errorf("%w: line %d: unknown status %q (want one of %v)", ErrBadCalls, line, st, knownStatuses)
		}
		if first, dup := seen[id]; dup {
			return nil, fmt.Errorf("%w: line %d: call_id %q already given on line %d", ErrBadCalls, line, id, first)
		}
		seen[id] = line
		calls = append(calls, Call{ID: id, Status: st})
	}
}

// LoadCalls reads calls with ReadCalls and adds them all, or none on error.
func (s *Server) LoadCalls(r io.Reader) error {
	calls, err := ReadCalls(r)
	if err != nil {
		return err
	}
	for _, c := range calls {
		s.Add(c.ID, c.Status)
	}
	return nil
}

// idGen makes deterministic ObjectId-like IDs: a 4-byte timestamp that
// creeps forward, 5 bytes fixed per server, and a 3-byte counter.
type idGen struct {
	rng     *rand.Rand
	ts      uint32
	machine [5]byte
	counter uint32
	mix     []Status // the rest of the current block of statuses
}

func newIDGen(seed uint64) idGen {
	g := idGen{rng: newRand(seed)}
	g.ts = 1717200000 + g.rng.Uint32N(1<<24) // mid-2024 onwards
	binary.BigEndian.PutUint32(g.machine[:4], g.rng.Uint32())
	g.machine[4] = byte(g.rng.Uint32())
	g.counter = g.rng.Uint32N(1 << 24)
	return g
}

func (g *idGen) nextID() string {
	g.ts += g.rng.Uint32N(3)
	g.counter = (g.counter + 1) & 0xffffff
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], g.ts)
	copy(b[4:9], g.machine[:])
	b[9], b[10], b[11] = byte(g.counter>>16), byte(g.counter>>8), byte(g.counter)
	return hex.EncodeToString(b[:])
}

// statusBlock is the mix of one block of 20 seeded calls.
var statusBlock = func() []Status {
	var b []Status
	for _, e := range []struct {
		st Status
		n  int
	}{{StatusQueued, 12}, {StatusPlaced, 3}, {StatusInProgress, 2}, {StatusCompleted, 2}, {StatusCanceled, 1}} {
		for range e.n {
			b = append(b, e.st)
		}
	}
	return b
}()

func (g *idGen) nextStatus() Status {
	if len(g.mix) == 0 {
		g.mix = slices.Clone(statusBlock)
		g.rng.Shuffle(len(g.mix), func(i, j int) { g.mix[i], g.mix[j] = g.mix[j], g.mix[i] })
	}
	st := g.mix[0]
	g.mix = g.mix[1:]
	return st
}
