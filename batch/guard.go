package batch

import (
	"fmt"
	"sync"
)

// notFoundGuard is the wrong-workspace rule: when every one of the first
// answers of a run says "call not found", the key almost certainly
// belongs to another workspace, or the IDs came from the wrong column,
// and sending the rest would only repeat that.
//
// It looks at the first Config.MinSample (at least one) IDs sent that
// got an answer about the call (a final outcome), in the order they
// finish. Rows that ended not final (transport errors, 5xx, 429, an
// unexpected answer) say nothing about the workspace: they neither count
// nor break the run of not_found. A run that sends fewer IDs than that is
// judged at its end (see end). Config.ExpectNotFound turns the rule off.
// It is safe for concurrent use.
type notFoundGuard struct {
	need int // answers to look at; 0 when the rule is off

	mu    sync.Mutex
	seen  int  // answers so far, every one not_found while !found; at most need
	found bool // an answer other than not_found came first
}

func newNotFoundGuard(cfg Config) *notFoundGuard {
	if cfg.ExpectNotFound {
		return &notFoundGuard{}
	}
	return &notFoundGuard{need: max(cfg.MinSample, 1)}
}

// add counts r and returns ErrWrongWorkspace, once, when the first
// answers were all not_found.
func (g *notFoundGuard) add(r Result) error {
	if g.need == 0 || r.Attempts == 0 || !r.Final() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.found || g.seen >= g.need {
		return nil
	}
	if r.Outcome != NotFound {
		g.found = true
		return nil
	}
	if g.seen++; g.seen < g.need {
		return nil
	}
	return fmt.Errorf("%w: the first %d answers all said \"call not found\"", ErrWrongWorkspace, g.seen)
}

// end returns ErrWrongWorkspace when a run that sent every ID had fewer
// answers than the rule looks at, and every one was not_found.
func (g *notFoundGuard) end() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.found || g.seen == 0 || g.seen >= g.need { // add has judged a full sample
		return nil
	}
	if g.seen == 1 {
		return fmt.Errorf("%w: the only answer said \"call not found\"", ErrWrongWorkspace)
	}
	return fmt.Errorf("%w: all %d answers said \"call not found\"", ErrWrongWorkspace, g.seen)
}
