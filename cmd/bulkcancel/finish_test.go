package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// TestFinishCommandRuns runs the printed "finish the job" command, parsed
// back into arguments, as a fresh shell would: with only the key set (no
// SUBVERSE_BASE_URL), from the same directory. It reaches the same API,
// reads the input named after "--", and its report prefix follows the
// earlier one, skipping a prefix that exists; the JSON report holds the
// same command as finish_command, null once every row is final.
func TestFinishCommandRuns(t *testing.T) {
	srv, base := faketest.StartFake(t, fake.Options{Faults: fake.Faults{P429: 1, FirstN: 2, Seed: 1}})
	ids := srv.Seed(10) // every first and second attempt is pushback: few, or the pace sinks to 1/s
	dir := t.TempDir()
	t.Chdir(dir)
	faketest.WriteFile(t, dir, "-weird.csv", "call_id\n"+strings.Join(ids, "\n")+"\n")
	faketest.WriteFile(t, dir, "abort-0412-3.json", "{}") // taken: the chain skips it

	vars := map[string]string{"SUBVERSE_BASE_URL": base}
	r := runCmd(t, vars, "", "--rate", "0", "--max-attempts", "1", "--report", "abort-0412.csv", "--log-format", "json", "--", "-weird.csv")
	for i, want := range []string{"abort-0412-2", "abort-0412-4", ""} {
		if r.code != 1 && want != "" || r.code != 0 && want == "" {
			t.Fatalf("run %d: exit %d\n%s\n%s", i+1, r.code, r.stdout, r.stderr)
		}
		prefix := []string{"abort-0412", "abort-0412-2", "abort-0412-4"}[i]
		rep := readJSONReport(t, prefix)
		finish := rep.Finish
		if want == "" {
			if finish != nil || strings.Contains(r.stdout, "finish the job") {
				t.Fatalf("run %d: all final, yet finish_command %q", i+1, finish)
			}
			break
		}
		args := finishCommand(t, r.stdout)
		if !reflect.DeepEqual(append([]string{"bulkcancel"}, args...), finish) {
			t.Errorf("run %d: printed %q, JSON %q", i+1, args, finish)
		}
		if rep.ExitCode != 1 {
			t.Errorf("run %d: JSON exit %d", i+1, rep.ExitCode)
		}
		joined := strings.Join(args, " ")
		if !strings.Contains(joined, "--base-url "+base) || !strings.Contains(joined, "--report "+want) ||
			!strings.HasSuffix(joined, "-- -weird.csv") || !strings.Contains(joined, "--resume "+prefix+".csv") {
			t.Errorf("run %d: %s", i+1, joined)
		}
		r = runCmd(t, nil, "", args...) // a fresh shell: no SUBVERSE_BASE_URL
	}
	for _, id := range ids {
		if c, _ := srv.Call(id); c.Requests != 3 {
			t.Errorf("%s: %d requests, want 3", id, c.Requests)
		}
	}
}

// TestFinishCommandStdin: with standard input, the command reads "-" and
// the summary says to pipe the same input again.
func TestFinishCommandStdin(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{Faults: fake.Faults{P429: 1, FirstN: 1, Seed: 1}})
	ids := srv.Seed(5)
	prefix := filepath.Join(t.TempDir(), "r")
	r := runCmd(t, nil, strings.Join(ids, "\n")+"\n", "--base-url", base, "--no-header", "--max-attempts", "1", "--report", prefix, "-")
	args := finishCommand(t, r.stdout)
	if r.code != 1 || args[len(args)-1] != "-" || !strings.Contains(r.stdout, "pipe the same input") {
		t.Errorf("exit %d, %q\n%s", r.code, args, r.stdout)
	}
}

func TestNextPrefix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }
	faketest.WriteFile(t, dir, "b-2.csv", "")
	faketest.WriteFile(t, dir, "c-3.json", "")
	faketest.WriteFile(t, dir, "d-2.journal", "")
	for _, tc := range []struct{ prefix, resumed, want string }{
		{p("a"), "", p("a-2")},
		{p("a-2"), p("a.csv"), p("a-3")},
		{p("a-9"), p("a.csv"), p("a-10")},
		{p("a-2"), "", p("a-2-2")},           // not resumed from a: a prefix of its own
		{p("a-02"), p("a.csv"), p("a-02-2")}, // not a number this tool wrote
		{p("b"), "", p("b-3")},               // b-2.csv exists
		{p("c-2"), p("c.csv"), p("c-4")},     // c-3.json exists
		{p("d"), "", p("d-3")},               // d-2.journal exists
		{p("abort-0412"), p("x.csv"), p("abort-0412-2")},
	} {
		if got := nextPrefix(tc.prefix, tc.resumed); got != tc.want {
			t.Errorf("nextPrefix(%s, %s) = %s, want %s", tc.prefix, tc.resumed, got, tc.want)
		}
	}
}
