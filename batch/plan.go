package batch

import (
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"iter"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLen is the longest call ID, in bytes, that is sent.
const MaxIDLen = 128

// CheckID says why id (already trimmed) cannot be a call ID, or "" when
// it can: empty, "." or "..", holding a field separator (';', a tab or
// ','), over MaxIDLen bytes, not UTF-8, or holding a control character.
// Such rows are invalid_id and never sent.
func CheckID(id string) string {
	switch {
	case id == "":
		return "empty ID"
	case id == "." || id == "..":
		return fmt.Sprintf("%q is not a call ID", id)
	case strings.ContainsAny(id, separators):
		i := strings.IndexAny(id, separators)
		what := fmt.Sprintf("a '%c'", id[i])
		if id[i] == '\t' {
			what = "a tab"
		}
		return fmt.Sprintf("ID holds %s, a field separator (check --delimiter)", what)
	case len(id) > MaxIDLen:
		return fmt.Sprintf("ID is %d bytes, more than %d", len(id), MaxIDLen)
	case !utf8.ValidString(id):
		return "ID is not valid UTF-8"
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Sprintf("ID contains a control character (%U)", r)
		}
	}
	return ""
}

// Shard selects the IDs whose stable hash (FNV-1a, 64 bits) falls in
// shard K of N. The zero value (N == 0) selects every ID.
type Shard struct{ K, N int }

// ParseShard reads "K/N" with 0 <= K < N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	ki, err1 := strconv.Atoi(strings.TrimSpace(k))
	ni, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 0 || ki >= ni {
		return Shard{}, fmt.Errorf("shard %q: want K/N with 0 <= K < N, e.g. 0/4", s)
	}
	return Shard{K: ki, N: ni}, nil
}

// Has reports whether id belongs to the shard.
func (s Shard) Has(id string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()%uint64(s.N) == uint64(s.K)
}

func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Prior is what a resumed run knows of an earlier report.
type Prior interface {
	// Lookup returns the earlier report's row for id, if it has one. A
	// non-final row with Ambiguous set (or a transport_error or
	// server_error row) says the earlier run may have sent the ID; an ID
	// that run may have sent without recording it comes back so too. ok
	// is false for an ID the earlier run never sent.
	Lookup(id string) (Result, bool)
}

// PlanOptions says which rows a run takes and what it already knows.
type PlanOptions struct {
	Shard Shard // only this shard's rows; the zero value takes all
	Prior Prior // an earlier report to resume from; nil for a fresh run
}

// PlanCounts says what a plan does with the input's rows.
type PlanCounts struct {
	Rows       int // every data row of the input
	Shard      int // rows in this shard (all rows without --shard)
	Send       int // rows to send
	Invalid    int
	Duplicate  int
	Carried    int // final in the earlier report: carried over, not sent
	MaybeSent  int // to send, but an earlier run may have sent them already
	OtherShard int
}

// Row kinds a plan keeps; kindCarried appears only during a walk and is
// kept as kindSettled.
const (
	kindOtherShard    uint8 = iota
	kindSettled             // invalid or duplicate (or carried): written once, never sent
	kindSend                // sent
	kindSendMaybeSent       // sent; an earlier run may have sent it already
	kindCarried             // final in the resumed report: carried, never sent
)

// Plan is the decision for every input row, made before the first
// request: which rows are settled without sending (invalid_id, duplicate,
// carried from a resumed report) and which are sent. It keeps one byte a
// row.
type Plan struct {
	in     *Input
	opt    PlanOptions
	kinds  []uint8
	Counts PlanCounts
}

// NewPlan decides every row: shard first, then validity, then dedupe
// (validity comes before dedupe), then the resumed report.
func NewPlan(in *Input, opt PlanOptions) *Plan {
	p := &Plan{in: in, opt: opt, kinds: make([]uint8, in.Len())}
	p.Counts.Rows = in.Len()
	p.walk(func(i int, kind uint8, r *Result) bool {
		switch {
		case kind == kindOtherShard:
			p.Counts.OtherShard++
			return true
		case kind == kindCarried:
			p.Counts.Carried++
			kind = kindSettled
		case kind == kindSettled && r.Outcome == Duplicate:
			p.Counts.Duplicate++
		case kind == kindSettled:
			p.Counts.Invalid++
		default:
			p.Counts.Send++
			if kind == kindSendMaybeSent {
				p.Counts.MaybeSent++
			}
		}
		p.kinds[i] = kind
		p.Counts.Shard++
		return true
	})
	return p
}

// Settled yields the Result of every row that is not sent, in input
// order, with carried true for rows carried from the resumed report.
func (p *Plan) Settled() iter.Seq2[Result, bool] {
	return func(yield func(Result, bool) bool) {
		p.walk(func(i int, kind uint8, r *Result) bool {
			if r == nil {
				return true
			}
			return yield(*r, kind == kindCarried)
		})
	}
}

// walk decides each row in input order and calls visit with its kind
// and, for settled rows, its Result; it stops when visit returns false.
func (p *Plan) walk(visit func(i int, kind uint8, r *Result) bool) {
	in, opt := p.in, p.opt
	seen := newIDSet(in.Len())
	for i := range in.Len() {
		id := in.ID(i)
		row := i + 1
		var kind uint8
		var r *Result
		switch {
		case !opt.Shard.Has(id):
			kind = kindOtherShard
		default:
			reason := CheckID(id)
			if note, ok := in.notes[i]; ok && reason != "" {
				reason = note
			}
			if reason != "" {
				kind, r = kindSettled, &Result{Row: row, CallID: id, Outcome: InvalidID, RemovedJobs: -1, Error: reason + ": not sent"}
				break
			}
			if first, dup := seen.add(in, i); dup {
				kind, r = kindSettled, &Result{Row: row, CallID: id, Outcome: Duplicate, RemovedJobs: -1,
					Error: fmt.Sprintf("same ID as row %d: not sent", first+1)}
				break
			}
			kind = kindSend
			if opt.Prior == nil {
				break
			}
			prior, ok := opt.Prior.Lookup(id)
			switch {
			case ok && prior.Final():
				prior.Row = row
				kind, r = kindCarried, &prior
			case ok && (prior.Ambiguous || prior.Outcome == TransportError || prior.Outcome == ServerError):
				kind = kindSendMaybeSent
			}
		}
		if !visit(i, kind, r) {
			return
		}
	}
}

// Jobs yields the rows to send, in input order.
func (p *Plan) Jobs() iter.Seq[Job] {
	return func(yield func(Job) bool) {
		for i, k := range p.kinds {
			if k != kindSend && k != kindSendMaybeSent {
				continue
			}
			if !yield(Job{Row: i + 1, ID: p.in.ID(i), MaybeSent: k == kindSendMaybeSent}) {
				return
			}
		}
	}
}

// idSet is a compact set of input rows keyed by their ID: an open-address
// table of row numbers, 4 bytes a slot, comparing IDs in the Input itself.
type idSet struct {
	seed  maphash.Seed
	slots []uint32 // row index + 1; 0 is empty
	mask  uint64
}

func newIDSet(n int) *idSet {
	size := 16
	for size*3 < n*4 { // at most 3/4 full: 4 bytes a slot, 5.3 to 10.7 bytes a row
		size *= 2
	}
	return &idSet{seed: maphash.MakeSeed(), slots: make([]uint32, size), mask: uint64(size - 1)}
}

// add records row i; if an earlier row had the same ID it returns that
// row's index and true instead.
func (s *idSet) add(in *Input, i int) (int, bool) {
	id := in.ID(i)
	for h := maphash.String(s.seed, id) & s.mask; ; h = (h + 1) & s.mask {
		v := s.slots[h]
		if v == 0 {
			s.slots[h] = uint32(i + 1)
			return 0, false
		}
		if in.ID(int(v-1)) == id {
			return int(v - 1), true
		}
	}
}
