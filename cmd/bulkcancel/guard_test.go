package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// TestWrongWorkspaceGuard: a key of another workspace (the fake knows
// none of the IDs) stops the run after the first --min-sample answers,
// exit 3, with the causes and how to check them; --expect-not-found
// sends every ID.
func TestWrongWorkspaceGuard(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 300 {
		ids = append(ids, fmt.Sprintf("67493aee%016d", i))
	}
	t.Run("stops", func(t *testing.T) {
		t.Parallel()
		srv, base := faketest.StartFake(t, fake.Options{})
		dir, in := idsInput(t, ids)
		prefix := filepath.Join(dir, "r")
		res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--concurrency", "4", "--min-sample", "50", "--report", prefix, in)
		if res.code != 3 {
			t.Fatalf("exit %d, want 3\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		sent := int(srv.Stats().Requests)
		if sent < 50 || sent > 50+4 {
			t.Errorf("%d requests, want 50 to 54 of %d", sent, len(ids))
		}
		rep := readJSONReport(t, prefix)
		if rep.Aborted == nil || !strings.Contains(*rep.Aborted, "none of the IDs sent exists for this key") ||
			!strings.Contains(*rep.Aborted, "another workspace") || !strings.Contains(*rep.Aborted, "wrong column") {
			t.Errorf("JSON aborted %v", rep.Aborted)
		}
		if rep.ExitCode != 3 || rep.Summary.ByOutcome["not_found"] != sent || rep.Summary.ByOutcome["not_attempted"] != len(ids)-sent {
			t.Errorf("exit %d, by outcome %v", rep.ExitCode, rep.Summary.ByOutcome)
		}
		if rep.Config["expect_not_found"] != false {
			t.Errorf("config expect_not_found %v", rep.Config["expect_not_found"])
		}
		checkSays(t, "the summary", res.stdout, "another workspace", "dashboard", `the column "call_id"`, "--column",
			"not --resume", "bulkcancel --expect-not-found ", "--resume "+prefix+".csv")
	})
	t.Run("short run", func(t *testing.T) {
		t.Parallel()
		srv, base := faketest.StartFake(t, fake.Options{})
		dir, in := idsInput(t, ids[:3])
		prefix := filepath.Join(dir, "r")
		res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--report", prefix, in)
		if res.code != 3 || srv.Stats().Requests != 3 {
			t.Errorf("exit %d after %d requests, want 3 after 3\n%s", res.code, srv.Stats().Requests, res.stdout)
		}
		if strings.Contains(res.stdout, "--resume "+prefix+".csv") {
			t.Errorf("every row is final, yet the summary offers a resume:\n%s", res.stdout)
		}
	})
	t.Run("expect not found", func(t *testing.T) {
		t.Parallel()
		srv, base := faketest.StartFake(t, fake.Options{})
		dir, in := idsInput(t, ids)
		prefix := filepath.Join(dir, "r")
		res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--min-sample", "50", "--expect-not-found", "--report", prefix, in)
		if res.code != 0 || srv.Stats().Requests != int64(len(ids)) {
			t.Fatalf("exit %d after %d requests, want 0 after %d\n%s", res.code, srv.Stats().Requests, len(ids), res.stderr)
		}
		if rep := readJSONReport(t, prefix); rep.Config["expect_not_found"] != true {
			t.Errorf("config expect_not_found %v", rep.Config["expect_not_found"])
		}
		if !strings.Contains(res.stdout, fmt.Sprintf("Warning: %d of the %d IDs sent were not found", len(ids), len(ids))) {
			t.Errorf("no not-found warning:\n%s", res.stdout)
		}
	})
	// More than half of the IDs sent not found warns; half does not.
	for _, tc := range []struct {
		found int
		warn  string
	}{{4, "Warning: 6 of the 10 IDs sent were not found"}, {5, ""}} {
		t.Run(fmt.Sprintf("%d of 10 found", tc.found), func(t *testing.T) {
			t.Parallel()
			srv, base := faketest.StartFake(t, fake.Options{})
			for _, id := range ids[:tc.found] {
				srv.Add(id, fake.StatusQueued)
			}
			dir, in := idsInput(t, ids[:10])
			res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--concurrency", "1", "--report", filepath.Join(dir, "r"), in)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			if tc.warn == "" && strings.Contains(res.stdout, "Warning") || !strings.Contains(res.stdout, tc.warn) {
				t.Errorf("want the warning %q:\n%s", tc.warn, res.stdout)
			}
		})
	}
}
