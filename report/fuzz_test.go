package report_test

// FuzzReadResume guards the reader of an earlier report, a file that may
// have been cut short by a crash, edited by hand or written by someone
// else, and the writer it must agree with: whatever the fuzzer gives is
// also written as a report row and read back.

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/batch"
	"github.com/subverseai/bulkcancel/report"
)

const fzHeader = "row,call_id,outcome,final,http_status,response_code,message,removed_jobs,attempts,ambiguous,duration_ms,started_at,finished_at,error\n"

func FuzzReadResume(f *testing.F) {
	for _, s := range []string{
		"",
		"\n",
		fzHeader,
		strings.TrimSuffix(fzHeader, "\n"),
		fzHeader + "1,abc,canceled,true,200,200,Call canceled successfully!,1,1,false,12,2024-05-01T10:00:00.000Z,2024-05-01T10:00:00.012Z,\n",
		fzHeader + "1,abc,canceled,true,200,200,Call canceled successfully!,1,1,false,12,2024-05-01T10:00:00.000Z,2024-05-01T10:00:00.012Z,\n" +
			"2,def,server_error,false,500,500,Internal server error,,5,false,30,2024-05-01T10:00:00.000Z,2024-05-01T10:00:00.030Z,giving up after 5 attempt(s)\n" +
			"3,abc,duplicate,true,,,,,0,false,,,,same ID as row 1: not sent\n" +
			"4,,invalid_id,true,,,,,0,false,,,,empty ID: not sent\n" +
			"5,ghi,not_cancelable,true,400,400,\"This call cannot be canceled, as it is no longer in queue.\",,2,true,5,2024-05-01T10:00:00.000Z,2024-05-01T10:00:00.005Z,an earlier attempt may have canceled this call before this answer\n" +
			"6,jkl,not_attempted,false,,,,,0,false,,,,not sent: the run was interrupted\n" +
			"7,mno,transport_er",
		fzHeader + "1,\" quoted \"\"id\"\"\",not_found,true,400,400,User call not found.,,1,false,1,2024-05-01T10:00:00Z,2024-05-01T10:00:00.001Z,\n",
		fzHeader + "1,abc,canceled,true,,,,,1,false,,,,\r\n",
		fzHeader + "x,abc,canceled,true,,,,,1,false,,,,\n",
		fzHeader + "1,abc,cancelled,true,,,,,1,false,,,,\n",
		fzHeader + "1,abc,canceled,yes,,,,,1,false,,,,\n",
		fzHeader + "1,abc,canceled,true,,,,,-1,false,,,,\n",
		fzHeader + "1,abc,canceled,true,,,,,99999999999999999999,false,,,,\n",
		fzHeader + "1,abc,canceled,true,,,,,1,false,,yesterday,,\n",
		fzHeader + "1,abc,canceled,true\n",
		fzHeader + "1,ab\"c,canceled,true,,,,,1,false,,,,\n",
		fzHeader + "1,\"abc,canceled,true,,,,,1,false,,,,\n",
		"\xef\xbb\xbf" + fzHeader,
		"call_id,outcome\nabc,canceled\n",
		"row,call_id,outcome,final,http_status,response_code,message,removed_jobs,attempts,ambiguous,duration_ms,started_at,finished_at,error,extra\n1,abc,canceled,true,,,,,1,false,,,,,x\n",
		"error,finished_at,started_at,duration_ms,ambiguous,attempts,removed_jobs,message,response_code,http_status,final,outcome,call_id,row\n,,,,false,1,,,,,true,canceled,abc,1\n",
		"row,row,call_id,call_id,outcome,final,http_status,response_code,message,removed_jobs,attempts,ambiguous,duration_ms,started_at,finished_at,error\n1,2,a,b,canceled,true,,,,,1,false,,,,\n",
		"call_id\n\x00\xff\n",
		"ctl-id|\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f\u2028\u2029\"\\|\xff\xfe\xc3",
		"id with spaces | leading and trailing  | ,\"quoted\", ",
		"\\.|\\.|\\.",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		fzCheckRead(t, dir, data)
		fzRoundTrip(t, dir, data)
	})
}

// fzCheckRead reads data as a report to resume from.
func fzCheckRead(t *testing.T, dir string, data []byte) {
	path := filepath.Join(dir, "prior.csv")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := report.ReadResume(path)
	if err != nil {
		var ie *batch.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("error %T %v, want *batch.InputError", err, err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if ie.File != path || ie.Cause == "" || ie.Hint == "" || ie.Line < 0 || ie.Line > lines {
			t.Fatalf("error %+v: want file %s, a cause, a hint and a line in 0..%d", ie, path, lines)
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("error message is not one line: %q", err)
		}
		return
	}
	lines := bytes.Count(data, []byte("\n"))
	if res.Rows < 0 || res.Rows > lines-1 {
		t.Fatalf("%d rows read from %d whole lines (header included)", res.Rows, lines)
	}
	if torn := data[len(data)-1] != '\n'; torn != (res.TornLine > 0) {
		t.Fatalf("TornLine %d for a file whose last byte is %q", res.TornLine, data[len(data)-1])
	}
	if res.TornLine > lines+1 {
		t.Fatalf("TornLine %d past the %d lines", res.TornLine, lines+1)
	}
	// Where the header is exactly the report's, check every row against
	// encoding/csv: each ID that is not a duplicate row is known, and an
	// ID with a final row resolves to its first final row.
	whole := data[:bytes.LastIndexByte(data, '\n')+1]
	if !bytes.HasPrefix(whole, []byte(fzHeader)) {
		return
	}
	cr := csv.NewReader(bytes.NewReader(whole))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("ReadResume read a file encoding/csv refuses: %v", err)
	}
	firstFinal := map[string][]string{}
	for _, rec := range recs[1:] {
		rec = append(rec, make([]string, 14)...)[:14]
		id, o := rec[1], batch.Outcome(rec[2])
		if o == batch.Duplicate {
			continue
		}
		if _, ok := res.Lookup(id); !ok {
			t.Fatalf("ID %q of a %s row is not found", id, o)
		}
		if _, seen := firstFinal[id]; !seen && o.Final() {
			firstFinal[id] = rec
		}
	}
	for id, rec := range firstFinal {
		r, _ := res.Lookup(id)
		if string(r.Outcome) != rec[2] || r.Message != rec[6] || r.Error != rec[13] || r.CallID != id {
			t.Fatalf("ID %q resolves to %+v, want its first final row %q", id, r, rec)
		}
	}
}

// fzRoundTrip writes a row made from data with report.CreateCSV and reads
// it back with report.ReadResume and, through report.WriteJSON, as JSON.
func fzRoundTrip(t *testing.T, dir string, data []byte) {
	want := fzResult(data)
	prefix := filepath.Join(dir, "rt")
	w, err := report.CreateCSV(prefix + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	// Rows for the same ID that are not final, before and after it, must
	// not hide a final row, and a duplicate row must not replace it.
	rows := []batch.Result{
		{Row: 1, CallID: want.CallID, Outcome: batch.ServerError, RemovedJobs: -1, Attempts: 5},
		want,
		{Row: want.Row + 1, CallID: want.CallID, Outcome: batch.TransportError, RemovedJobs: -1, Attempts: 5},
		{Row: want.Row + 2, CallID: want.CallID, Outcome: batch.Duplicate, RemovedJobs: -1},
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := report.ReadResume(prefix + ".csv")
	if err != nil {
		t.Fatalf("a report this tool wrote does not read back: %v\nrow: %#v", err, want)
	}
	if res.Rows != len(rows) || res.TornLine != 0 {
		t.Fatalf("read %d rows (torn line %d), wrote %d", res.Rows, res.TornLine, len(rows))
	}
	got, ok := res.Lookup(want.CallID)
	switch {
	case !ok:
		t.Fatalf("ID %q not found after writing it", want.CallID)
	case want.Final() && want.Outcome != batch.Duplicate:
		exp := want
		exp.Message, exp.Error = fzOneLine(want.Message), fzOneLine(want.Error)
		if got != exp {
			t.Fatalf("round trip changed the row:\n got %#v\nwant %#v", got, exp)
		}
	case got.Outcome != batch.TransportError:
		t.Fatalf("ID %q: outcome %s, want the last row that is not final (transport_error)", want.CallID, got.Outcome)
	}

	// The JSON report holds the same rows as valid JSON, the text as
	// encoding/json would give it back.
	if err := report.WriteJSON(prefix+".json", report.Meta{}, prefix+".csv"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(prefix + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JSON report does not parse: %v", err)
	}
	if len(doc.Results) != len(rows) {
		t.Fatalf("JSON report has %d results, want %d", len(doc.Results), len(rows))
	}
	row := doc.Results[1]
	for col, v := range map[string]string{"call_id": want.CallID, "message": fzOneLine(want.Message), "error": fzOneLine(want.Error)} {
		if row[col] != fzJSONText(t, v) {
			t.Fatalf("JSON %s = %q, want %q", col, row[col], fzJSONText(t, v))
		}
	}
	if row["outcome"] != string(want.Outcome) || row["final"] != want.Final() {
		t.Fatalf("JSON row %v does not match %#v", row, want)
	}
}

// fzResult builds a report row from fuzz bytes: the ID, message and error
// text come from data, the numbers and times from its first bytes.
func fzResult(data []byte) batch.Result {
	var num [16]byte
	copy(num[:], data)
	u16 := func(i int) int { return int(binary.LittleEndian.Uint16(num[i:])) }
	text := string(data)
	id, msg, errText := text, text, text
	if i := bytes.IndexByte(data, '|'); i >= 0 {
		id, msg = text[:i], text[i+1:]
		if j := strings.IndexByte(msg, '|'); j >= 0 {
			msg, errText = msg[:j], msg[j+1:]
		}
	}
	// Rows are looked up by IDs that passed CheckID (trimmed, no control
	// characters); other IDs are invalid_id rows and never looked up.
	id = strings.TrimSpace(id)
	if batch.CheckID(id) != "" {
		id = "fz-id"
	}
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(u16(0)) * time.Millisecond * 997)
	r := batch.Result{
		Row:          u16(2) + 1,
		CallID:       id,
		Outcome:      batch.Outcomes[int(num[4])%len(batch.Outcomes)],
		HTTPStatus:   u16(5) % 1000,
		ResponseCode: u16(7) % 1000,
		Message:      msg,
		RemovedJobs:  int(num[9]) - 1,
		Attempts:     int(num[10]),
		Ambiguous:    num[11]&1 == 1,
		StartedAt:    start,
		FinishedAt:   start.Add(time.Duration(u16(12)) * time.Millisecond),
		Error:        errText,
	}
	if num[14]&1 == 1 {
		r.StartedAt, r.FinishedAt = time.Time{}, time.Time{}
	}
	return r
}

// fzOneLine is what the report does to free text: CR and LF become spaces.
func fzOneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}

// fzJSONText is s after a trip through encoding/json (invalid UTF-8
// becomes U+FFFD).
func fzJSONText(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
