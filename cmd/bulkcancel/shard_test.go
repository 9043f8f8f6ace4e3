package main

// Which rows a run takes and what it does with them before sending:
// --shard K/N and --dry-run.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// TestShardHasGolden pins the shard function: FNV-1a 64 of the ID, modulo
// N. A run's shards must stay where they are across versions (a job split
// across hosts may run different builds), so a change of hash fails here.
func TestShardHasGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id         string
		of4, of7   int
		whyInclude string
	}{
		{"665f1c2e9b1d4a0012345678", 2, 2, "a real-looking call ID"},
		{"call-1", 3, 4, ""},
		{"call-2", 2, 0, ""},
		{"call-4", 0, 3, ""},
		{"call-8", 0, 5, ""},
		{"a/b", 1, 3, "a slash"},
		{"Ünïcode-id", 3, 0, "UTF-8 bytes are hashed as they are"},
		{"", 1, 2, "an empty ID (invalid, but it still lands in one shard)"},
	} {
		for _, n := range []struct{ n, want int }{{4, tc.of4}, {7, tc.of7}} {
			var in []int
			for k := range n.n {
				if (batch.Shard{K: k, N: n.n}).Has(tc.id) {
					in = append(in, k)
				}
			}
			if len(in) != 1 || in[0] != n.want {
				t.Errorf("%q of %d: in shards %v, want [%d]", tc.id, n.n, in, n.want)
			}
		}
	}
	for _, id := range []string{"x", ""} {
		if !(batch.Shard{}).Has(id) || !(batch.Shard{K: 0, N: 1}).Has(id) {
			t.Errorf("%q: no shard, or 0/1, must take every ID", id)
		}
	}
}

// shardRun runs the command with args against base and returns the exit
// code, stdout and stderr.
func shardRun(t *testing.T, base string, args ...string) (int, string, string) {
	t.Helper()
	e, stdout, stderr := ttyEnv(base, "")
	code := run(args, e)
	return code, stdout.String(), stderr.String()
}

// shardInput writes a two-column CSV of ids (a row each, in order) and
// returns its path.
func shardInput(t *testing.T, dir string, ids []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("call_id,note\n")
	for i, id := range ids {
		fmt.Fprintf(&b, "%s,row %d\n", id, i+1)
	}
	return faketest.WriteFile(t, dir, "calls.csv", b.String())
}

// TestShardRunsCoverInputOnce runs shards 0..3 of 4 against one fake: the
// four reports together hold every input row exactly once, each ID is sent
// once, duplicates stay with their first row, and every report's
// input.rows counts the whole input while summary.total counts its shard.
func TestShardRunsCoverInputOnce(t *testing.T) {
	t.Parallel()
	srv, base, ids := ttyStartFake(t, fake.Options{}, 300)
	rows := append([]string(nil), ids...)
	rows = append(rows, ids[0], ids[7], ids[7], "", ".", strings.Repeat("x", 129), "", "not-a-call")
	dir := t.TempDir()
	input := shardInput(t, dir, rows)

	seen := map[int]string{} // row -> shard that reported it
	total := 0
	for k := range 4 {
		prefix := filepath.Join(dir, "shard-"+strconv.Itoa(k))
		code, _, stderr := shardRun(t, base, "--shard", fmt.Sprintf("%d/4", k), "--rate", "0",
			"--report", prefix, "--log-format", "json", "--progress", "off", input)
		if code != exitOK {
			t.Fatalf("shard %d/4: exit %d\n%s", k, code, stderr)
		}
		rep := readJSONReport(t, prefix)
		if rep.Input.Rows != len(rows) {
			t.Errorf("shard %d/4: input.rows %d, want every input row, %d", k, rep.Input.Rows, len(rows))
		}
		csvRows := readReport(t, prefix)
		if rep.Summary.Total != len(csvRows) || len(rep.Results) != len(csvRows) {
			t.Errorf("shard %d/4: summary.total %d, results %d, CSV rows %d; want them equal",
				k, rep.Summary.Total, len(rep.Results), len(csvRows))
		}
		if len(csvRows) == 0 || len(csvRows) == len(rows) {
			t.Errorf("shard %d/4 has %d rows of %d: the split is not a split", k, len(csvRows), len(rows))
		}
		total += rep.Summary.Total
		for _, r := range csvRows {
			n, err := strconv.Atoi(r["row"])
			if err != nil || n < 1 || n > len(rows) {
				t.Fatalf("shard %d/4: bad row %q", k, r["row"])
			}
			if prev, dup := seen[n]; dup {
				t.Errorf("row %d is in shard %s and in shard %d", n, prev, k)
			}
			seen[n] = strconv.Itoa(k)
			if want := strings.TrimSpace(rows[n-1]); r["call_id"] != want {
				t.Errorf("row %d: call_id %q, want %q", n, r["call_id"], want)
			}
			if !(batch.Shard{K: k, N: 4}).Has(r["call_id"]) {
				t.Errorf("row %d (%q) is not in shard %d/4 by its hash", n, r["call_id"], k)
			}
			if r["final"] != "true" {
				t.Errorf("row %d: %s, not final", n, r["outcome"])
			}
		}
	}
	if len(seen) != len(rows) || total != len(rows) {
		t.Errorf("the shards hold %d distinct rows (%d in all) of %d", len(seen), total, len(rows))
	}
	for i, id := range ids {
		c, _ := srv.Call(id)
		if c.Requests != 1 {
			t.Errorf("ID %d (%s) was sent %d times, want once", i, id, c.Requests)
		}
	}
	if got := srv.Stats().Requests; got != int64(len(ids)+1) { // +1: "not-a-call"
		t.Errorf("%d requests, want %d", got, len(ids)+1)
	}
	// Duplicates are found within a shard: the same ID always hashes to
	// the same one.
	for _, n := range []int{301, 302, 303} {
		if seen[n] == "" {
			continue
		}
		rep := readReport(t, filepath.Join(dir, "shard-"+seen[n]))
		for _, r := range rep {
			if r["row"] == strconv.Itoa(n) && r["outcome"] != "duplicate" {
				t.Errorf("row %d (a repeat) is %s, want duplicate", n, r["outcome"])
			}
		}
	}
}

// TestShardDryRun: a dry run sends nothing, prints the plan (rows to send,
// skipped as invalid, duplicate or carried from --resume, the ETA at the
// rate) and writes dry_run rows for what it would send.
func TestShardDryRun(t *testing.T) {
	t.Parallel()
	srv, base, ids := ttyStartFake(t, fake.Options{}, 30)
	dir := t.TempDir()
	host := strings.TrimPrefix(strings.TrimSuffix(base, "/api"), "http://")

	// An earlier run finished the first 10 IDs.
	first := filepath.Join(dir, "first")
	if err := os.Mkdir(first, 0o700); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := shardRun(t, base, "--rate", "0", "--report", filepath.Join(dir, "prior"),
		"--log-format", "json", shardInput(t, first, ids[:10])); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	srv.ResetStats()

	// 30 IDs, 2 repeats, 3 invalid: 35 rows; 10 carried, 20 to send.
	rows := append(append([]string(nil), ids...), ids[3], ids[20], "", "..", "bad\x01id")
	input := shardInput(t, dir, rows)
	prefix := filepath.Join(dir, "dry")
	code, stdout, stderr := shardRun(t, base, "--dry-run", "--rate", "4", "--resume", filepath.Join(dir, "prior.csv"),
		"--report", prefix, "--log-format", "json", input)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if got := srv.Stats().Requests; got != 0 {
		t.Errorf("a dry run sent %d requests", got)
	}
	want := "Dry run: nothing was sent.\n" +
		"Would send 20 of 35 rows to " + host + ".\n" +
		"Time: about 5s at 4/s (the --rate ceiling), or longer if the API pushes back.\n" +
		"Skipped: 3 invalid, 2 duplicate, 10 carried from --resume.\n"
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout:\n%s\nwant it to start:\n%s", stdout, want)
	}
	if !strings.Contains(stdout, "Report: "+prefix+".csv and "+prefix+".json") || strings.Contains(stdout, "--resume "+prefix) {
		t.Errorf("stdout should give the report and no resume command:\n%s", stdout)
	}
	byOutcome := map[string]int{}
	for _, r := range readReport(t, prefix) {
		byOutcome[r["outcome"]]++
		if r["outcome"] == "dry_run" && (r["attempts"] != "" && r["attempts"] != "0") {
			t.Errorf("dry_run row %s shows %s attempts", r["row"], r["attempts"])
		}
	}
	if byOutcome["dry_run"] != 20 || byOutcome["duplicate"] != 2 || byOutcome["invalid_id"] != 3 {
		t.Errorf("report outcomes %v, want 20 dry_run, 2 duplicate, 3 invalid_id and 10 carried", byOutcome)
	}
	if n := len(rows); byOutcome["dry_run"]+byOutcome["duplicate"]+byOutcome["invalid_id"]+byOutcome["canceled"]+
		byOutcome["not_cancelable"]+byOutcome["not_found"] != n {
		t.Errorf("report has %v, want %d rows", byOutcome, n)
	}
	if rep := readJSONReport(t, prefix); rep.ExitCode != 0 || rep.Summary.ByOutcome["dry_run"] != 20 {
		t.Errorf("JSON: exit_code %d, by_outcome %v", rep.ExitCode, rep.Summary.ByOutcome)
	}
}

// TestShardDryRunShard: a dry run of one shard says how many rows other
// shards take.
func TestShardDryRunShard(t *testing.T) {
	t.Parallel()
	srv, base, _ := ttyStartFake(t, fake.Options{}, 0)
	ids := []string{"call-1", "call-2", "call-4", "call-8", "a/b"} // shards 3, 2, 0, 0, 1 of 4
	dir := t.TempDir()
	code, stdout, stderr := shardRun(t, base, "--dry-run", "--shard", "0/4", "--report", filepath.Join(dir, "r"),
		"--log-format", "json", shardInput(t, dir, ids))
	if code != exitOK || srv.Stats().Requests != 0 {
		t.Fatalf("exit %d, %d requests\n%s", code, srv.Stats().Requests, stderr)
	}
	if !strings.Contains(stdout, "Would send 2 of 5 rows") || !strings.Contains(stdout, ", 3 in other shards.") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// --shard K/N tells the pace it is one of N processes on the same limit.
func TestShardTellsThePaceHowManyShareTheLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 0},
		{[]string{"--shard", "2/4"}, 4},
	} {
		o, err := parseArgs(append(tc.args, "--base-url", "https://api.example.com/api", "calls.csv"), func(string) string { return "" })
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got := o.batchConfig().Sharers; got != tc.want {
			t.Errorf("%v: Sharers %d, want %d", tc.args, got, tc.want)
		}
	}
}

// TestShardsReadOnePace runs two shards of one input at once with their
// reports in one directory, against a fake with a limit of its own: each
// reads the other's pace there (summary.rate.peer_shards), every row
// ends final, and no pace note is left behind. Each shard takes a few
// seconds at its share of the limit, so they overlap by far more than the
// fifth of a second a note takes to be written and read.
func TestShardsReadOnePace(t *testing.T) {
	t.Parallel()
	_, base, ids := ttyStartFake(t, fake.Options{Limit: fake.Limit{RPS: 100}}, 300)
	dir := t.TempDir()
	input := shardInput(t, dir, ids)
	codes, stderrs := make([]int, 2), make([]string, 2)
	done := make(chan int)
	for k := range 2 {
		go func() {
			codes[k], _, stderrs[k] = shardRun(t, base, "--shard", fmt.Sprintf("%d/2", k), "--concurrency", "16",
				"--report", filepath.Join(dir, "shard-"+strconv.Itoa(k)), "--log-format", "json", "--progress", "off", input)
			done <- k
		}()
	}
	<-done
	<-done
	total := 0
	for k := range 2 {
		if codes[k] != exitOK {
			t.Fatalf("shard %d/2: exit %d (every row final is 0)\n%s", k, codes[k], stderrs[k])
		}
		rep := readJSONReport(t, filepath.Join(dir, "shard-"+strconv.Itoa(k)))
		total += rep.Summary.Total
		if rate := rep.Summary.Rate; rate["peer_shards"] != 1.0 {
			t.Errorf("shard %d/2: summary.rate %v; want peer_shards 1, the other shard's pace read", k, rep.Summary.Rate)
		}
	}
	if total != len(ids) {
		t.Errorf("the shards' reports hold %d rows, want %d", total, len(ids))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.pace*")); len(left) > 0 {
		t.Errorf("pace notes left behind: %v", left)
	}
}
