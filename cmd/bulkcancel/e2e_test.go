package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// mixedInput builds a CSV of n data rows mixing every kind of row the
// tool meets: queued and settled calls, unknown IDs, duplicates, invalid
// IDs, quoted and padded fields, an extra column, blank lines, a BOM and
// CRLF line ends. It returns the file and the expected outcome per row.
func mixedInput(srv *fake.Server, n int) (string, []string, []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := srv.Seed(n)
	var b strings.Builder
	b.WriteString("\ufeffcampaign,Call_ID,phone\r\n")
	var rowIDs, want []string
	seen := map[string]bool{}
	invalid := []string{`""`, "..", ".", `"` + strings.Repeat("x", 129) + `"`, "\"bad\x01id\"", `"  "`}
	for i := 0; len(rowIDs) < n; i++ {
		var field, id, outcome string
		switch r := rng.IntN(100); {
		case r < 8 && len(rowIDs) > 0: // a duplicate of an earlier row
			id = rowIDs[rng.IntN(len(rowIDs))]
			if !seen[id] {
				continue // an invalid one; pick again
			}
			field, outcome = id, "duplicate"
		case r < 12:
			field = invalid[rng.IntN(len(invalid))]
			id = strings.TrimSpace(strings.Trim(field, `"`))
			outcome = "invalid_id"
		case r < 17:
			id = fmt.Sprintf("unknown%05d", i)
			field, outcome = id, "not_found"
		default:
			id = ids[i%len(ids)]
			if seen[id] {
				field, outcome = id, "duplicate"
			} else if c, _ := srv.Call(id); c.Status == fake.StatusQueued { // as seeded: nothing is sent yet
				field, outcome = id, "canceled"
			} else {
				field, outcome = id, "not_cancelable"
			}
		}
		if outcome != "invalid_id" && outcome != "duplicate" {
			seen[id] = true
		}
		switch {
		case outcome != "invalid_id" && i%7 == 1:
			field = `"` + field + `"`
		case outcome != "invalid_id" && i%7 == 2:
			field = "  " + field + " "
		}
		fmt.Fprintf(&b, "spring,%s,+1555%04d\r\n", field, i)
		if i%50 == 3 {
			b.WriteString("\r\n") // a blank line is not a row
		}
		rowIDs = append(rowIDs, id)
		want = append(want, outcome)
	}
	return b.String(), rowIDs, want
}

func TestEndToEndMixedInput(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"http-status", "envelope-200"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv, base := faketest.StartFake(t, fake.Options{Envelope200: mode == "envelope-200"})
			data, rowIDs, want := mixedInput(srv, 1000)
			dir := t.TempDir()
			in := faketest.WriteFile(t, dir, "in.csv", data)
			prefix := filepath.Join(dir, "r")
			res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--concurrency", "16", "--report", prefix, in)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			rows := readReport(t, prefix)
			if len(rows) != len(rowIDs) {
				t.Fatalf("%d report rows for %d input rows", len(rows), len(rowIDs))
			}
			counts := map[string]int{}
			seenRow := map[int]bool{}
			for _, r := range rows {
				n, _ := strconv.Atoi(r["row"])
				if n < 1 || n > len(rowIDs) || seenRow[n] {
					t.Fatalf("bad or repeated row number %q", r["row"])
				}
				seenRow[n] = true
				id, outcome := rowIDs[n-1], want[n-1]
				if r["call_id"] != id || r["outcome"] != outcome {
					t.Errorf("row %d: %q %s, want %q %s (%s)", n, r["call_id"], r["outcome"], id, outcome, r["error"])
				}
				counts[outcome]++
				call, _ := srv.Call(id)
				switch outcome {
				case "canceled":
					if call.Cancels != 1 || call.Status != fake.StatusCanceled || r["attempts"] != "1" {
						t.Errorf("row %d: server %+v, attempts %s", n, call, r["attempts"])
					}
				case "not_cancelable", "not_found":
					if call.Requests != 1 || call.Cancels != 0 {
						t.Errorf("row %d: server %+v", n, call)
					}
				}
			}
			// Nothing but the first valid occurrence of each ID was sent.
			sent := 0
			for _, c := range srv.Calls() {
				if c.Requests > 1 {
					t.Errorf("%q got %d requests", c.ID, c.Requests)
				}
				sent += c.Requests
			}
			wantSent := counts["canceled"] + counts["not_cancelable"] + counts["not_found"]
			if sent != wantSent || int64(sent) != srv.Stats().Requests {
				t.Errorf("server saw %d requests, want %d", sent, wantSent)
			}
			rep := readJSONReport(t, prefix)
			if rep.Summary.Total != len(rows) || len(rep.Results) != len(rows) || rep.Input.Rows != len(rowIDs) || rep.ExitCode != 0 || rep.Aborted != nil {
				t.Errorf("JSON summary %+v, %d results", rep.Summary, len(rep.Results))
			}
			for o, n := range counts {
				if rep.Summary.ByOutcome[o] != n {
					t.Errorf("JSON %s = %d, CSV %d", o, rep.Summary.ByOutcome[o], n)
				}
			}
			if rep.Summary.Attempts != wantSent || rep.Summary.Retries != 0 {
				t.Errorf("attempts %d retries %d", rep.Summary.Attempts, rep.Summary.Retries)
			}
			for i, r := range rep.Results {
				if r["call_id"] != rows[i]["call_id"] || r["outcome"] != rows[i]["outcome"] {
					t.Errorf("JSON result %d differs from CSV row: %v vs %v", i, r, rows[i])
				}
			}
			for _, o := range []string{"canceled", "not_cancelable", "not_found", "duplicate", "invalid_id"} {
				if counts[o] == 0 {
					t.Errorf("the input has no %s row", o)
				}
				if !strings.Contains(res.stdout, o) {
					t.Errorf("summary does not show %s:\n%s", o, res.stdout)
				}
			}
		})
	}
}

func TestEndToEndNotFinalThenResume(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{Faults: fake.Faults{P500: 0.4, Seed: 7}})
	ids := srv.Seed(200)
	dir, in := idsInput(t, ids)
	first := filepath.Join(dir, "first")
	res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--max-attempts", "1", "--max-failure-rate", "1", "--report", first, in)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	wantCmd := "--resume " + first + ".csv"
	if !strings.Contains(res.stdout, wantCmd) {
		t.Errorf("summary lacks the resume command:\n%s", res.stdout)
	}
	final := map[string]bool{}
	for _, r := range readReport(t, first) {
		if r["final"] == "true" {
			final[r["call_id"]] = true
		}
	}
	if len(final) == 0 || len(final) == len(ids) {
		t.Fatalf("%d of %d final after the first run", len(final), len(ids))
	}
	before := map[string]int{}
	for _, id := range ids {
		c, _ := srv.Call(id)
		before[id] = c.Requests
	}
	srv.SetFaults(fake.Faults{})
	second := filepath.Join(dir, "second")
	// When the first request arrives, the report exists and already holds
	// every carried row, so a kill from then on cannot lose one.
	var once sync.Once
	atFirst := -1
	srv.SetHook(func(context.Context, string, int) {
		once.Do(func() {
			if data, err := os.ReadFile(second + ".csv"); err == nil {
				atFirst = strings.Count(string(data), "\n") - 1
			}
		})
	})
	res = runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--resume", first+".csv", "--report", second, in)
	if res.code != 0 {
		t.Fatalf("resume exit %d\n%s", res.code, res.stderr)
	}
	if atFirst < len(final) {
		t.Errorf("at the first request the report held %d rows (-1: no report), want the %d carried", atFirst, len(final))
	}
	rows := readReport(t, second)
	if len(rows) != len(ids) {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		id := r["call_id"]
		c, _ := srv.Call(id)
		if final[id] && c.Requests != before[id] {
			t.Errorf("%s was final and was sent again", id)
		}
		if r["final"] != "true" {
			t.Errorf("%s still %s", id, r["outcome"])
		}
		if c.Cancels > 1 {
			t.Errorf("%s canceled %d times", id, c.Cancels)
		}
	}
	rep := readJSONReport(t, second)
	if rep.Summary.Carried != len(final) {
		t.Errorf("carried %d, want %d", rep.Summary.Carried, len(final))
	}
	if !strings.Contains(res.stdout, "Carried") {
		t.Errorf("summary does not mention carried rows:\n%s", res.stdout)
	}
}

func TestEndToEndAborts(t *testing.T) {
	t.Parallel()
	t.Run("every answer 401", func(t *testing.T) {
		t.Parallel()
		srv, base, ids, in, prefix := seededInput(t, fake.Options{}, 1000)
		res := runCmd(t, map[string]string{"SUBVERSE_API_KEY": "wrong-key"}, "", "--base-url", base, "--rate", "0", "--concurrency", "6", "--report", prefix, in)
		if res.code != 3 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		if n := srv.Stats().Requests; n > 6+2 {
			t.Errorf("sent %d requests with a rejected key", n)
		}
		rep := readJSONReport(t, prefix)
		if rep.Aborted == nil || !strings.Contains(*rep.Aborted, "rejected the key") || rep.ExitCode != 3 || len(rep.Results) != len(ids) {
			t.Errorf("JSON aborted %v exit %d results %d", rep.Aborted, rep.ExitCode, len(rep.Results))
		}
		if !strings.Contains(res.stdout, "Fix the key") || !strings.Contains(res.stdout, "--resume "+prefix+".csv") {
			t.Errorf("summary:\n%s", res.stdout)
		}
	})
	t.Run("every answer 500", func(t *testing.T) {
		t.Parallel()
		_, base, ids, in, prefix := seededInput(t, fake.Options{Faults: fake.Faults{P500: 1}}, 2000)
		res := runCmd(t, nil, "", "--base-url", base, "--rate", "0", "--concurrency", "8", "--max-backoff", "5ms", "--min-sample", "50", "--report", prefix, in)
		if res.code != 3 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		rep := readJSONReport(t, prefix)
		sent := rep.Summary.ByOutcome["server_error"]
		if sent < 50 || sent > 50+4*8+1 || rep.Summary.ByOutcome["not_attempted"] != len(ids)-sent {
			t.Errorf("by outcome %v", rep.Summary.ByOutcome)
		}
		if rep.Aborted == nil || !strings.Contains(*rep.Aborted, "failure rate") {
			t.Errorf("aborted %v", rep.Aborted)
		}
	})
}
