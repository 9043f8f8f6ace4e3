package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// TestReportPrefixForms: --report is a prefix. A directory (existing, or
// any name ending in /) is exit 2 with a hint and creates nothing; an
// ending of .csv or .json is dropped.
func TestReportPrefixForms(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	ids := srv.Seed(3)
	dir, in := idsInput(t, ids)
	out := filepath.Join(dir, "outdir")
	os.Mkdir(out, 0o755)
	for _, rep := range []string{out + "/", out, filepath.Join(dir, "new") + "/"} {
		r := runCmd(t, nil, "", "--base-url", base, "--report", rep, in)
		if r.code != 2 || !strings.Contains(r.stderr, "is a prefix") {
			t.Errorf("--report %s: exit %d\n%s", rep, r.code, r.stderr)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("created %v", ents)
	}
	for _, ext := range []string{".csv", ".json"} {
		prefix := filepath.Join(dir, "r"+strings.TrimPrefix(ext, "."))
		if r := runCmd(t, nil, "", "--base-url", base, "--report", prefix+ext, in); r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		for _, f := range []string{prefix + ".csv", prefix + ".json"} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("--report %s%s: %v", prefix, ext, err)
			}
		}
	}
}

// TestJournalNotOverwritten: a PREFIX.journal that exists (an earlier
// run's, whose report was moved away) is exit 2 like an existing report,
// and is left as it was; a run that goes ahead leaves no hidden file.
func TestJournalNotOverwritten(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	dir, in := idsInput(t, srv.Seed(3))
	const earlier = "bulkcancel dispatch journal 1: one call ID a line, written before its first request\nx\n"
	faketest.WriteFile(t, dir, "r.journal", earlier)
	r := runCmd(t, nil, "", "--base-url", base, "--report", filepath.Join(dir, "r"), in)
	if data, _ := os.ReadFile(filepath.Join(dir, "r.journal")); r.code != 2 || string(data) != earlier || srv.Stats().Requests != 0 {
		t.Errorf("exit %d, %d requests, journal %q\n%s", r.code, srv.Stats().Requests, data, r.stderr)
	}
	if r := runCmd(t, nil, "", "--base-url", base, "--report", filepath.Join(dir, "s"), in); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || e.Name() == "s.journal" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestSameInputWarns: a run over an input that another run on this host
// is working on (the lock is held) warns, and still runs.
func TestSameInputWarns(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	dir, in := idsInput(t, srv.Seed(3))
	r := runCmd(t, nil, "", "--base-url", base, "--report", filepath.Join(dir, "a"), in)
	if r.code != 0 || strings.Contains(r.stderr, "another bulkcancel") {
		t.Fatalf("alone: exit %d\n%s", r.code, r.stderr)
	}
	sum := readJSONReport(t, filepath.Join(dir, "a")).Input.SHA256
	busy, release, err := lockInput(filepath.Join(dir, ".bulkcancel-"+sum[:16]+".lock"))
	if err != nil || busy {
		t.Fatalf("lock: busy %v, %v", busy, err)
	}
	defer release()
	r = runCmd(t, nil, "", "--base-url", base, "--report", filepath.Join(dir, "b"), in)
	if r.code != 0 || !strings.Contains(r.stderr, "another bulkcancel process on this host") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	// A shard of the same input sends other IDs: no warning.
	r = runCmd(t, nil, "", "--base-url", base, "--shard", "1/2", "--report", filepath.Join(dir, "c"), in)
	if r.code != 0 || strings.Contains(r.stderr, "another bulkcancel") {
		t.Errorf("a shard: exit %d\n%s", r.code, r.stderr)
	}
}
