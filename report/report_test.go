package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/batch"
)

const specHeader = "row,call_id,outcome,final,http_status,response_code,message,removed_jobs,attempts,ambiguous,duration_ms,started_at,finished_at,error"

func sampleResults() []batch.Result {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 123e6, time.UTC)
	return []batch.Result{
		{Row: 2, CallID: "a1", Outcome: batch.Canceled, HTTPStatus: 200, ResponseCode: 200, Message: "Call canceled successfully!", RemovedJobs: 1, Attempts: 1, StartedAt: t0, FinishedAt: t0.Add(45 * time.Millisecond)},
		{Row: 1, CallID: "b,2", Outcome: batch.NotCancelable, HTTPStatus: 400, ResponseCode: 400, Message: `say "no", then
stop`, RemovedJobs: -1, Attempts: 3, Ambiguous: true, StartedAt: t0, FinishedAt: t0.Add(2 * time.Second), Error: "an earlier attempt may have canceled this call"},
		{Row: 3, CallID: "", Outcome: batch.InvalidID, RemovedJobs: -1, Error: "empty ID: not sent"},
		{Row: 4, CallID: " lead", Outcome: batch.TransportError, RemovedJobs: -1, Attempts: 5, StartedAt: t0, FinishedAt: t0.Add(time.Minute), Error: "timeout after the request was sent"},
		{Row: 5, CallID: "é/x?y", Outcome: batch.NotAttempted, RemovedJobs: -1, Error: "not sent: the run was interrupted"},
	}
}

// writeSample writes sampleResults as dir/r.csv; it never calls Publish,
// so Close names the report (TestCSVIsReadableAndOneLinePerRow reads it).
func writeSample(t *testing.T, dir string) (string, []batch.Result) {
	t.Helper()
	path, rs := filepath.Join(dir, "r.csv"), sampleResults()
	writeCSV(t, path, rs)
	return path, rs
}

// writeCSV writes rs as the report at path, each step checked.
func writeCSV(t *testing.T, path string, rs []batch.Result) *CSV {
	t.Helper()
	w, err := CreateCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestColumnsMatchSpec(t *testing.T) {
	t.Parallel()
	if got := strings.Join(Columns, ","); got != specHeader {
		t.Errorf("header %s\nwant   %s", got, specHeader)
	}
}

func TestCSVIsReadableAndOneLinePerRow(t *testing.T) {
	t.Parallel()
	path, rs := writeSample(t, t.TempDir())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(rs)+1 || lines[0] != specHeader {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
	// An independent parser (encoding/csv) reads every row back.
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = recs[1:]
	want := [][]string{
		{"2", "a1", "canceled", "true", "200", "200", "Call canceled successfully!", "1", "1", "false", "45", "2026-11-29T10:00:00.123Z", "2026-11-29T10:00:00.168Z", ""},
		{"1", "b,2", "not_cancelable", "true", "400", "400", `say "no", then stop`, "", "3", "true", "2000", "2026-11-29T10:00:00.123Z", "2026-11-29T10:00:02.123Z", "an earlier attempt may have canceled this call"},
		{"3", "", "invalid_id", "true", "", "", "", "", "0", "false", "", "", "", "empty ID: not sent"},
		{"4", " lead", "transport_error", "false", "", "", "", "", "5", "false", "60000", "2026-11-29T10:00:00.123Z", "2026-11-29T10:01:00.123Z", "timeout after the request was sent"},
		{"5", "é/x?y", "not_attempted", "false", "", "", "", "", "0", "false", "", "", "", "not sent: the run was interrupted"},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("rows read back:\n%+v\nwant\n%+v", recs, want)
	}
	if _, err := CreateCSV(path); err == nil {
		t.Error("CreateCSV replaced an existing report")
	}
}

func TestSummaryCounts(t *testing.T) {
	t.Parallel()
	w, err := CreateCSV(filepath.Join(t.TempDir(), "s.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sampleResults() {
		w.Write(r)
	}
	w.Carry(batch.Result{Row: 6, CallID: "old", Outcome: batch.Canceled, Attempts: 2, RemovedJobs: 1})
	w.Close()
	s := w.Summary()
	if s.Total != 6 || s.Final != 4 || s.NotFinal != 2 || s.Carried != 1 || s.Sent != 3 || s.Attempts != 9 || s.Retries != 6 || s.Ambiguous != 1 {
		t.Errorf("summary %+v", s)
	}
	if s.ByOutcome[batch.Canceled] != 2 || len(s.ByOutcome) != len(batch.Outcomes) {
		t.Errorf("by outcome %v", s.ByOutcome)
	}
	s.Finish(3 * time.Second)
	if s.AchievedRPS != 3 || s.DurationMS != 3000 {
		t.Errorf("rate %v over %d ms", s.AchievedRPS, s.DurationMS)
	}
	s.Finish(7 * time.Second) // 9/7 = 1.2857…
	if s.AchievedRPS != 1.29 {
		t.Errorf("rate %v over 7 s, want 1.29", s.AchievedRPS)
	}
}

func TestJSONAgreesWithCSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, rs := writeSample(t, dir)
	jpath := filepath.Join(dir, "r.json")
	why := "interrupted by SIGINT"
	meta := Meta{RunID: "r1", Version: "v", Input: Input{Path: "in.csv", SHA256: "ab", Rows: 5},
		Config: map[string]any{"rate": 10}, Aborted: &why, ExitCode: 130}
	if err := WriteJSON(jpath, meta, path); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		RunID   string           `json:"run_id"`
		Aborted *string          `json:"aborted"`
		Exit    int              `json:"exit_code"`
		Input   Input            `json:"input"`
		Results []map[string]any `json:"results"`
	}
	b, _ := os.ReadFile(jpath)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	if doc.RunID != "r1" || doc.Exit != 130 || doc.Aborted == nil || *doc.Aborted != why || doc.Input.Rows != 5 {
		t.Errorf("meta %+v", doc)
	}
	if len(doc.Results) != len(rs) {
		t.Fatalf("%d results", len(doc.Results))
	}
	f, _ := os.Open(path)
	defer f.Close()
	recs, _ := csv.NewReader(f).ReadAll()
	for i, res := range doc.Results {
		for j, col := range Columns {
			got := "" // null is an empty CSV field
			if res[col] != nil {
				got = fmt.Sprint(res[col])
			}
			if v := recs[i+1][j]; got != v {
				t.Errorf("row %d %s: %#v, csv %q", i, col, res[col], v)
			}
		}
	}
	if err := WriteJSON(jpath, meta, path); err == nil {
		t.Error("WriteJSON replaced an existing report")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".r.json.tmp-*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestResumeRoundTrip(t *testing.T) {
	t.Parallel()
	path, rs := writeSample(t, t.TempDir())
	res, err := ReadResume(path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != len(rs) || res.TornLine != 0 {
		t.Errorf("rows %d torn %d", res.Rows, res.TornLine)
	}
	for _, want := range rs {
		got, ok := res.Lookup(want.CallID)
		if !ok {
			t.Errorf("%q missing", want.CallID)
			continue
		}
		if !want.Final() {
			if got.Outcome != want.Outcome {
				t.Errorf("%q: %s, want %s", want.CallID, got.Outcome, want.Outcome)
			}
			continue
		}
		// Final rows come back whole: writing them again gives the same line.
		if a, b := string(newLines().result(got)), string(newLines().result(want)); a != b {
			t.Errorf("round trip:\n%s%s", a, b)
		}
	}
}

// TestResumeTornLastLine: a report whose last line a kill cut short
// mid-row resumes. Every whole row is read as written; the torn row is
// skipped, and its ID counts as possibly sent (ambiguous, never final):
// through the dispatch journal beside the report when there is one, and
// conservatively when there is none.
func TestResumeTornLastLine(t *testing.T) {
	t.Parallel()
	extra := "6,zz,canceled,true,200,200,Call canceled successfully!,1,1,false,3,2026-11-29T10:00:00.123Z,2026-11-29T10:00:00.126Z,\n"
	for _, journal := range []bool{false, true} {
		for _, cut := range []int{1, 5, 20, len(extra) - 1} {
			t.Run(fmt.Sprintf("journal=%v/cut=%d", journal, cut), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path, rs := writeSample(t, dir)
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(extra[:cut])
				f.Close()
				if journal {
					jr, err := CreateJournal(JournalPath(path), 0)
					if err != nil {
						t.Fatal(err)
					}
					jr.Publish()
					for _, id := range []string{"a1", "b,2", " lead", "zz"} {
						jr.Dispatched(id)
					}
					if err := jr.Close(); err != nil {
						t.Fatal(err)
					}
				}
				res, err := ReadResume(path)
				if err != nil {
					t.Fatal(err)
				}
				if res.TornLine != 7 || res.Rows != len(rs) || res.Conservative == journal {
					t.Errorf("torn line %d, rows %d, conservative %v", res.TornLine, res.Rows, res.Conservative)
				}
				for _, want := range rs {
					if got, ok := res.Lookup(want.CallID); !ok || got.Outcome != want.Outcome {
						t.Errorf("%q: %+v (found %v), want %s", want.CallID, got, ok, want.Outcome)
					}
				}
				if r, ok := res.Lookup("zz"); !ok || r.Final() || !r.Ambiguous {
					t.Errorf("the torn row reads as %+v (found %v), want possibly sent", r, ok)
				}
				if _, ok := res.Lookup("never-sent"); ok == journal {
					t.Errorf("an ID in neither file: found %v", ok)
				}
			})
		}
	}
}

func TestResumeMalformed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		name, data string
		line       int
	}{
		{"bad outcome", specHeader + "\n1,a,cancelled,true,,,,,1,false,,,,\n", 2},
		{"bad bool", specHeader + "\n1,a,canceled,true,,,,,1,false,,,,\n2,b,canceled,yes,,,,,1,false,,,,\n", 3},
		{"bad number", specHeader + "\n1,a,canceled,true,2OO,,,,1,false,,,,\n", 2},
		{"bad time", specHeader + "\n1,a,canceled,true,,,,,1,false,,yesterday,,\n", 2},
		{"bare quote", specHeader + "\n1,a\"b,canceled,true,,,,,1,false,,,,\n", 2},
		{"not a report", "call_id,name\na,b\n", 1},
		{"empty", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".csv")
			os.WriteFile(p, []byte(tc.data), 0o644)
			_, err := ReadResume(p)
			var ie *batch.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *batch.InputError", err)
			}
			if ie.Line != tc.line || ie.File != p {
				t.Errorf("%v: line %d, want %d", err, ie.Line, tc.line)
			}
		})
	}
	if _, err := ReadResume(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("a missing report did not fail")
	}
}

func TestResumeKeepsFinalOverLaterNonFinal(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "r.csv")
	data := specHeader + "\n" +
		"1,a,server_error,false,500,500,,,5,false,,,,\n" +
		"2,a,duplicate,true,,,,,0,false,,,,same ID as row 1\n" +
		"3,b,canceled,true,200,200,ok,1,1,false,,,,\n" +
		"4,b,not_attempted,false,,,,,0,false,,,,\n"
	os.WriteFile(p, []byte(data), 0o644)
	res, err := ReadResume(p)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := res.Lookup("a"); r.Outcome != batch.ServerError {
		t.Errorf("a: %s", r.Outcome)
	}
	if r, _ := res.Lookup("b"); r.Outcome != batch.Canceled || r.Row != 3 {
		t.Errorf("b: %+v", r)
	}
}

// TestRecordFollowsColumns: the struct gocsv reads a report line into has
// a field per column, in the order of columns, named by the column.
func TestRecordFollowsColumns(t *testing.T) {
	rt := reflect.TypeOf(record{})
	if rt.NumField() != len(columns) {
		t.Fatalf("record has %d fields, columns %d", rt.NumField(), len(columns))
	}
	for i, c := range columns {
		if tag := rt.Field(i).Tag.Get("csv"); tag != c.name {
			t.Errorf("field %d (%s) reads %q, column %d is %q", i, rt.Field(i).Name, tag, i, c.name)
		}
	}
}
