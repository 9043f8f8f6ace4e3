package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// exportInput writes a spreadsheet export of ids separated by sep, with a
// status column, as a semicolon or tab locale saves it: BOM, CRLF, a
// header. It returns the file and the IDs that are queued.
func exportInput(t *testing.T, srv *fake.Server, sep string, n int) (string, []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("\ufeffcall_id" + sep + "status\r\n")
	var queued []string
	for i := range n {
		id := fmt.Sprintf("67493aee%016d", i)
		st := fake.StatusQueued
		if i%5 == 4 {
			st = fake.StatusPlaced
		} else {
			queued = append(queued, id)
		}
		srv.Add(id, st)
		fmt.Fprintf(&b, "%s%s%s\r\n", id, sep, st)
	}
	return faketest.WriteFile(t, t.TempDir(), "export.csv", b.String()), queued
}

// TestDelimiterExportEndToEnd: a semicolon (or tab) export is read with
// the delimiter found from its first line; every queued call is canceled
// exactly once, each call gets exactly one request, the run says which
// delimiter it used and the JSON report records it.
func TestDelimiterExportEndToEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, sep, want string }{
		{"semicolon", ";", ";"},
		{"tab", "\t", "tab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, base := faketest.StartFake(t, fake.Options{})
			in, queued := exportInput(t, srv, tc.sep, 25)
			prefix := filepath.Join(t.TempDir(), "r")
			res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--log-format", "json", "--report", prefix, in)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			for _, c := range srv.Calls() {
				if c.Requests != 1 {
					t.Errorf("%s got %d requests, want 1", c.ID, c.Requests)
				}
			}
			for _, id := range queued {
				if c, _ := srv.Call(id); c.Status != fake.StatusCanceled || c.Cancels != 1 {
					t.Errorf("%s: %+v, want canceled once", id, c)
				}
			}
			if n := srv.Stats().Requests; n != 25 {
				t.Errorf("%d requests, want 25", n)
			}
			rep := readJSONReport(t, prefix)
			if rep.Config["delimiter"] != tc.want {
				t.Errorf("config delimiter %v, want %q", rep.Config["delimiter"], tc.want)
			}
			if rep.Summary.ByOutcome["canceled"] != len(queued) || rep.Summary.ByOutcome["not_cancelable"] != 25-len(queued) {
				t.Errorf("by outcome %v", rep.Summary.ByOutcome)
			}
			if !strings.Contains(res.stderr, `"level":"info","run_id"`) || !strings.Contains(res.stderr, `"delimiter":"`+tc.want+`"`) ||
				!strings.Contains(res.stderr, "reading fields separated by "+tc.want) {
				t.Errorf("the log does not say which delimiter was used:\n%s", res.stderr)
			}
		})
	}
}

// TestDelimiterGiven: --delimiter given reads the file as asked (the ways
// a semicolon export used to be misread are in TestRunRefuses).
func TestDelimiterGiven(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	in, _ := exportInput(t, srv, ";", 25)
	prefix := filepath.Join(t.TempDir(), "r")
	res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--delimiter", ";", "--report", prefix, in)
	if res.code != 0 || srv.Stats().Requests != 25 {
		t.Errorf("--delimiter ';': exit %d after %d requests\n%s", res.code, srv.Stats().Requests, res.stderr)
	}
}
