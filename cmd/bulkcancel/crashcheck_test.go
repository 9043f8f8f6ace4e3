package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// crashLoop is a kill -9 and resume loop against a faulty fake API.
type crashLoop struct {
	ids, kills, concurrency int
	seed                    uint64
	faults                  fake.Faults
}

// crashFacts are what a crash loop measured.
type crashFacts struct {
	kills, canceledTwice, finalResent, lostRows, falsePossiblySent, falseAmbiguous, bound int
}

func (f crashFacts) String() string {
	return fmt.Sprintf("%d kills: %d calls canceled twice, %d final IDs sent again, %d rows lost or doubled, "+
		"%d IDs taken as possibly sent that were never sent, %d ambiguous rows never sent before their answer (bound %d)",
		f.kills, f.canceledTwice, f.finalResent, f.lostRows, f.falsePossiblySent, f.falseAmbiguous, f.bound)
}

// reportLines reads a report CSV as the resume reader does: a last line
// without its newline (cut by the kill) is skipped and its ID returned.
func reportLines(t *testing.T, path string) (rows []map[string]string, torn string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		if f := strings.SplitN(string(data[i+1:]), ",", 3); len(f) > 1 {
			torn = f[1]
		}
		data = data[:i+1]
	}
	return csvRows(t, path, data), torn
}

// journalIDs reads a dispatch journal's whole lines: those before the
// first zero byte (the room a killed run had not used), less a torn or
// empty last one.
func journalIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("a killed run left no journal: %v", err)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		data = data[:i]
	}
	ids := map[string]bool{}
	lines := strings.Split(string(data), "\n")
	for _, l := range lines[1 : len(lines)-1] { // the header; a torn or empty last line
		ids[l] = true
	}
	return ids
}

// run kills the tool with SIGKILL at random requests, kills times, each
// time resuming from the report the killed run left, then lets the last
// run finish, and returns what held.
func (c crashLoop) run(t *testing.T) crashFacts {
	srv, base := faketest.StartFake(t, fake.Options{Faults: c.faults})
	ids := srv.Seed(c.ids)
	queued := queuedIDs(srv, ids)
	dir, in := idsInput(t, ids)
	rng := rand.New(rand.NewPCG(c.seed, c.seed))
	var killAt, seen atomic.Int64
	var current atomic.Pointer[exec.Cmd]
	srv.SetHook(func(ctx context.Context, id string, _ int) {
		if seen.Add(1) == killAt.Load() {
			if cmd := current.Load(); cmd != nil {
				cmd.Process.Kill()
			}
		}
	})
	requests := func() map[string]int {
		m := make(map[string]int, len(ids))
		for _, id := range ids {
			call, _ := srv.Call(id)
			m[id] = call.Requests
		}
		return m
	}
	var facts crashFacts
	falseSent := map[string]bool{}
	spread := max(60, 2*c.ids/max(c.kills, 1))
	prev := ""
	for stage := 0; stage <= c.kills; stage++ {
		prefix := filepath.Join(dir, fmt.Sprintf("r%03d", stage))
		args := []string{"--base-url", base, "--rate", "0", "--concurrency", fmt.Sprint(c.concurrency),
			"--max-backoff", "10ms", "--report", prefix, "--log-format", "json"}
		before := requests()
		finalBefore := map[string]bool{}
		if prev != "" {
			args = append(args, "--resume", prev+".csv")
			rows, _ := reportLines(t, prev+".csv")
			recorded := map[string]bool{}
			for _, r := range rows {
				recorded[r["call_id"]] = true
				if r["final"] == "true" {
					finalBefore[r["call_id"]] = true
				}
			}
			// What the resume takes as possibly sent beyond the truth.
			for id := range journalIDs(t, prev+".journal") {
				if !recorded[id] && before[id] == 0 {
					falseSent[id] = true
				}
			}
		}
		seen.Store(0)
		killAt.Store(-1)
		if stage < c.kills {
			killAt.Store(int64(1 + rng.IntN(spread)))
		}
		cmd, _, stderr := startProcess(t, append(args, in)...)
		current.Store(cmd)
		code := exitCode(t, cmd)
		current.Store(nil)
		if code == -int(syscall.SIGKILL) {
			facts.kills++
			facts.bound += c.concurrency
		} else if code != 0 {
			t.Fatalf("stage %d: exit %d\n%s", stage, code, stderr.String())
		}
		after := requests()
		for id := range finalBefore {
			if after[id] != before[id] {
				facts.finalResent++
			}
		}
		prev = prefix
		if code == 0 {
			break // finished before its kill came
		}
	}
	rows, torn := reportLines(t, prev+".csv")
	if torn != "" {
		t.Fatalf("the last run left a torn line")
	}
	total := requests()
	seenRow := map[string]int{}
	for _, r := range rows {
		seenRow[r["row"]]++
		id := r["call_id"]
		if call, _ := srv.Call(id); queued[id] && (call.Cancels != 1 || call.Status != fake.StatusCanceled) {
			facts.canceledTwice++
		}
		if r["ambiguous"] == "true" && total[id] == 1 {
			facts.falseAmbiguous++ // one request ever: nothing before its answer could have canceled it
		}
	}
	for i := 1; i <= len(ids); i++ {
		if seenRow[fmt.Sprint(i)] != 1 {
			facts.lostRows++
		}
		delete(seenRow, fmt.Sprint(i))
	}
	facts.lostRows += len(seenRow) // rows numbered outside the input
	facts.falsePossiblySent = len(falseSent)
	return facts
}

// check fails t unless every fact holds.
func (f crashFacts) check(t *testing.T) {
	t.Helper()
	t.Log(f)
	if f.kills == 0 {
		t.Error("no kill landed: the loop tested no crash")
	}
	if f.canceledTwice > 0 || f.finalResent > 0 || f.lostRows != 0 || f.falsePossiblySent > f.bound || f.falseAmbiguous > f.bound {
		t.Errorf("crash loop broke a promise: %s", f)
	}
}

var crashLoopMu sync.Mutex // one crash loop at a time: they are CPU-heavy

// TestKillNineThenResume is a short, fixed crash loop: 20 kills at random
// (seeded) requests, against a fake whose first attempts fail one time in
// five (500, connections dropped before and after the cancel).
func TestKillNineThenResume(t *testing.T) {
	t.Parallel()
	crashLoopMu.Lock()
	defer crashLoopMu.Unlock()
	crashLoop{ids: 1500, kills: 20, concurrency: 8, seed: 9,
		faults: fake.Faults{P500: 0.1, PDropAfter: 0.05, PDropBefore: 0.05, FirstN: 1, Seed: 3}}.run(t).check(t)
}
