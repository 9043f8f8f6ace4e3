package report

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/batch"
)

// TestResumeWithJournal: an ID missing from a crashed run's report is
// possibly sent exactly when the run's dispatch journal names it; a torn
// last journal line (its write never returned, so its request was never
// sent) names nothing.
func TestResumeWithJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, _ := writeSample(t, dir) // a1, "b,2", "", " lead", "é/x?y"
	// Room for the first two lines only: the rest goes past it.
	jr, err := CreateJournal(JournalPath(path), len("inherited\na1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := jr.Publish(); err != nil {
		t.Fatal(err)
	}
	if err := jr.Inherit([]string{"inherited"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a1", "b,2", "sent-unrecorded"} {
		if err := jr.Dispatched(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := jr.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(JournalPath(path), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("torn-before-its-send") // no newline: cut by a kill
	f.Close()

	res, err := ReadResume(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Journal == "" || res.Conservative {
		t.Fatalf("journal %q conservative %v", res.Journal, res.Conservative)
	}
	for id, want := range map[string]bool{"sent-unrecorded": true, "inherited": true, "never-sent": false, "torn-before-its-send": false} {
		r, ok := res.Lookup(id)
		if ok != want || ok && (r.Final() || !r.Ambiguous) {
			t.Errorf("%s: %+v found %v, want possibly sent %v", id, r, ok, want)
		}
	}
	// A row of the report wins over the journal.
	if r, _ := res.Lookup("a1"); r.Outcome != batch.Canceled || r.Ambiguous {
		t.Errorf("a1: %+v", r)
	}
	if r, _ := res.Lookup(" lead"); r.Outcome != batch.TransportError {
		t.Errorf("lead: %+v", r)
	}
}

// TestJournalAsAKillLeavesIt: the journal of a run that is still going
// (as a kill -9 leaves it: not closed, so a mapped journal still ends in
// the zero bytes of the room it has not used) names every ID whose
// Dispatched returned, and a line torn by the kill names nothing.
func TestJournalAsAKillLeavesIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, _ := writeSample(t, dir)
	jr, err := CreateJournal(JournalPath(path), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := jr.Publish(); err != nil {
		t.Fatal(err)
	}
	defer jr.Close()
	if jr.mem == nil && runtime.GOOS == "linux" {
		t.Error("the journal is not mapped")
	}
	for _, id := range []string{"sent-1", "sent-2"} {
		if err := jr.Dispatched(id); err != nil {
			t.Fatal(err)
		}
	}
	copy(jr.mem[jr.end:], "torn") // the kill came during this line's copy
	res, err := ReadResume(path)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"sent-1": true, "sent-2": true, "torn": false, "never-sent": false} {
		if _, ok := res.Lookup(id); ok != want || res.Conservative {
			t.Errorf("%s: possibly sent %v, want %v (conservative %v)", id, ok, want, res.Conservative)
		}
	}
}

// TestResumeWithoutJournal: a report copied elsewhere without its
// journal resumes conservatively (every missing ID possibly sent), unless
// its JSON report says every row was written, when a missing ID was never
// sent by that run.
func TestResumeWithoutJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, _ := writeSample(t, dir)
	res, err := ReadResume(path)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := res.Lookup("missing"); !res.Conservative || !ok || !r.Ambiguous || r.Final() {
		t.Errorf("no journal, no JSON: conservative %v, %+v %v", res.Conservative, r, ok)
	}
	for _, tc := range []struct {
		unwritten int
		complete  bool
	}{{0, true}, {3, false}} {
		jpath := filepath.Join(dir, "r.json")
		os.Remove(jpath)
		meta := Meta{Input: Input{SHA256: "abc"}, Summary: Summary{Unwritten: tc.unwritten}}
		if err := WriteJSON(jpath, meta, path); err != nil {
			t.Fatal(err)
		}
		res, err := ReadResume(path)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := res.Lookup("missing")
		if res.Complete != tc.complete || res.Conservative == tc.complete || ok == tc.complete || res.InputSHA256 != "abc" {
			t.Errorf("unwritten %d: complete %v conservative %v missing found %v sha %q", tc.unwritten, res.Complete, res.Conservative, ok, res.InputSHA256)
		}
	}
}

// TestResumeAmbiguousNonFinal: a non-final row with ambiguous=true comes
// back ambiguous, so the plan sends its ID as possibly sent.
func TestResumeAmbiguousNonFinal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.csv")
	writeCSV(t, path, []batch.Result{
		{Row: 1, CallID: "x", Outcome: batch.RateLimited, Attempts: 5, Ambiguous: true, RemovedJobs: -1},
		{Row: 2, CallID: "y", Outcome: batch.RateLimited, Attempts: 5, RemovedJobs: -1},
	})
	res, err := ReadResume(path)
	if err != nil {
		t.Fatal(err)
	}
	in, err := batch.ReadInput(strings.NewReader("call_id\nx\ny\n"), "in.csv", batch.InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	maybe := map[string]bool{}
	for j := range batch.NewPlan(in, batch.PlanOptions{Prior: res}).Jobs() {
		maybe[j.ID] = j.MaybeSent
	}
	if !maybe["x"] || maybe["y"] {
		t.Errorf("possibly sent: %v", maybe)
	}
}

// TestJournalReleasesSyncedPages: pages that hold only synced lines leave
// the process's memory, and every line, released or not, is still in the
// journal a resume reads, whether the run closes it or is killed.
func TestJournalReleasesSyncedPages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, _ := writeSample(t, dir)
	const n = 2000 // 14 bytes a line: several pages
	jr, err := CreateJournal(JournalPath(path), n*14)
	if err != nil {
		t.Fatal(err)
	}
	if err := jr.Publish(); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%09d", i)
		if err := jr.Dispatched(ids[i]); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			jr.release() // as the sync loop does after a sync
		}
	}
	if runtime.GOOS == "linux" && jr.released < os.Getpagesize() {
		t.Errorf("released %d bytes of %d written", jr.released, jr.end)
	}
	check := func(when string) {
		t.Helper()
		res, err := ReadResume(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if _, ok := res.Lookup(id); !ok {
				t.Fatalf("%s: %s is not in the journal", when, id)
			}
		}
	}
	check("before close (a kill)")
	if err := jr.Close(); err != nil {
		t.Fatal(err)
	}
	check("after close")
}
