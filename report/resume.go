package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/gocarina/gocsv"

	"github.com/subverseai/bulkcancel/batch"
)

// Resume is an earlier report, read to finish its job: final rows are
// carried into the new report and not sent again. It implements
// batch.Prior and is safe for concurrent reads.
type Resume struct {
	Path string
	Rows int // data rows read
	// TornLine is the line number of a last line cut short by a crash,
	// which was skipped; 0 when the file ended cleanly.
	TornLine int
	// InputSHA256 is the input checksum recorded in the earlier JSON
	// report beside the CSV; "" when that file is missing or unreadable.
	InputSHA256 string
	// Complete says the earlier run ended with every row written: its
	// JSON report is beside the CSV and counts no unwritten row. An ID
	// missing from a complete report was never sent by that run.
	Complete bool
	// Journal is the dispatch journal read beside the CSV; "" when there
	// is none.
	Journal string
	// Conservative says that the report is not complete and has no
	// journal beside it (it was copied elsewhere without it): every ID
	// missing from it is taken as possibly sent.
	Conservative bool

	final      map[string]batch.Result // call_id -> its final row
	notFinal   map[string]priorRow
	unrecorded map[string]bool // in the journal, missing from the report
}

// priorRow is what a resume keeps of a non-final row.
type priorRow struct {
	outcome   batch.Outcome
	ambiguous bool
}

// Lookup returns the earlier row for id: its final row when it has one,
// else its last non-final row's outcome and ambiguity. An ID the earlier
// run may have sent without recording it (its dispatch journal names it,
// or there is no journal to tell) comes back as a not_attempted row with
// Ambiguous set. ok is false for an ID the earlier run never sent.
func (r *Resume) Lookup(id string) (batch.Result, bool) {
	if f, ok := r.final[id]; ok {
		return f, true
	}
	if p, ok := r.notFinal[id]; ok {
		return batch.Result{CallID: id, Outcome: p.outcome, Ambiguous: p.ambiguous, RemovedJobs: -1}, true
	}
	if r.unrecorded[id] || r.Conservative {
		return batch.Result{CallID: id, Outcome: batch.NotAttempted, Ambiguous: true, RemovedJobs: -1,
			Error: "missing from the earlier report; that run may have sent it"}, true
	}
	return batch.Result{}, false
}

// ReadResume reads a report CSV written by this tool. A last line without
// its newline (a crash mid-write) is skipped and reported in TornLine; any
// other malformed line is a *batch.InputError naming the line.
func ReadResume(path string) (*Resume, error) {
	f, err := os.Open(path)
	if err != nil {
		if err := jsonGiven(path, nil); err != nil {
			return nil, err
		}
		hint := "--resume takes the PREFIX.csv of an earlier run"
		if errors.Is(err, os.ErrNotExist) {
			hint += "; a run killed before its first request leaves none: resume from the report that run resumed from, if any"
		}
		return nil, &batch.InputError{File: path, Cause: "cannot open the report to resume from: " + errors.Unwrap(err).Error(), Hint: hint}
	}
	defer f.Close()
	if err := jsonGiven(path, f); err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, &batch.InputError{File: path, Cause: err.Error()}
	}
	res := &Resume{Path: path, final: map[string]batch.Result{}, notFinal: map[string]priorRow{}, unrecorded: map[string]bool{}}
	whole, err := wholeLines(f, st.Size())
	if err != nil {
		return nil, &batch.InputError{File: path, Cause: err.Error()}
	}
	var src io.Reader = io.NewSectionReader(f, 0, whole)
	cr := csv.NewReader(bufio.NewReaderSize(src, 256<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	um, err := gocsv.NewUnmarshaller(cr, record{})
	if err == io.EOF {
		return nil, &batch.InputError{File: path, Cause: "the report is empty, not even a header",
			Hint: "the earlier run stopped before writing anything; run again without --resume"}
	}
	if err != nil {
		return nil, resumeError(path, err)
	}
	if err := checkHeader(um.Headers); err != nil {
		return nil, &batch.InputError{File: path, Line: 1, Cause: err.Error(), Hint: "--resume takes the PREFIX.csv of an earlier run"}
	}
	lastLine := 1
	for {
		rec, err := um.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, resumeError(path, err)
		}
		line, _ := cr.FieldPos(0)
		lastLine = line
		r, err := parseRecord(rec.(record))
		if err != nil {
			return nil, &batch.InputError{File: path, Line: line, Cause: err.Error(),
				Hint: "this line was not written by bulkcancel as it stands; fix or remove it"}
		}
		res.Rows++
		if r.Outcome == batch.Duplicate {
			continue
		}
		if r.Final() {
			if _, seen := res.final[r.CallID]; !seen {
				res.final[r.CallID] = r
			}
			delete(res.notFinal, r.CallID)
		} else if _, seen := res.final[r.CallID]; !seen {
			p := res.notFinal[r.CallID]
			res.notFinal[r.CallID] = priorRow{r.Outcome, p.ambiguous || r.Ambiguous}
		}
	}
	if whole < st.Size() {
		res.TornLine = lastLine + 1
	}
	res.InputSHA256, res.Complete = priorMeta(strings.TrimSuffix(path, ".csv") + ".json")
	jpath := JournalPath(path)
	found, err := readJournal(jpath, func(id string) {
		if _, ok := res.final[id]; ok {
			return
		}
		if _, ok := res.notFinal[id]; !ok {
			res.unrecorded[id] = true
		}
	})
	if err != nil {
		return nil, &batch.InputError{File: jpath, Cause: err.Error(),
			Hint: "move the damaged journal away to resume conservatively (every ID missing from the report is then taken as possibly sent)"}
	}
	if found {
		res.Journal = jpath
	}
	res.Conservative = !found && !res.Complete
	return res, nil
}

// wholeLines returns how many leading bytes of f end with a newline: a
// crash can leave a last line without one, which must not be read.
func wholeLines(f *os.File, size int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end := size; end > 0; {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := strings.LastIndexByte(string(buf[:n]), '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

func resumeError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &batch.InputError{File: path, Line: pe.Line, Cause: "malformed CSV: " + pe.Err.Error(),
			Hint: "this line was not written by bulkcancel as it stands; fix or remove it"}
	}
	return &batch.InputError{File: path, Cause: err.Error()}
}

// jsonGiven refuses a JSON report where the CSV report is wanted: by its
// name, when it or the CSV beside it exists (f is nil when path could not
// be opened), or by a first character of "{".
func jsonGiven(path string, f *os.File) error {
	ext := filepath.Ext(path)
	csvPath := strings.TrimSuffix(path, ext) + ".csv"
	isJSON := strings.EqualFold(ext, ".json")
	switch {
	case f == nil:
		_, err := os.Stat(csvPath)
		isJSON = isJSON && err == nil
	case !isJSON:
		b := make([]byte, 512)
		n, _ := f.ReadAt(b, 0)
		isJSON = strings.HasPrefix(strings.TrimLeft(string(b[:n]), "\ufeff \t\r\n"), "{")
	}
	if !isJSON {
		return nil
	}
	hint := "pass the PREFIX.csv the same run wrote"
	if strings.EqualFold(ext, ".json") {
		hint = "pass --resume " + batch.ShellQuote(csvPath)
	}
	return &batch.InputError{File: path, Cause: "this is a JSON report; --resume takes the CSV report (PREFIX.csv), which records every row", Hint: hint}
}

// checkHeader says which of columns the header lacks.
func checkHeader(header []string) error {
	var missing []string
	for _, c := range columns {
		if !slices.Contains(header, c.name) {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not a bulkcancel report: the header lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// record is a report line as gocsv maps it from the header's names: each
// column's text, a field per column in the order of columns
// (TestRecordFollowsColumns holds the two together). A column the line
// is too short for reads as empty.
type record struct {
	Row          string `csv:"row"`
	CallID       string `csv:"call_id"`
	Outcome      string `csv:"outcome"`
	Final        string `csv:"final"`
	HTTPStatus   string `csv:"http_status"`
	ResponseCode string `csv:"response_code"`
	Message      string `csv:"message"`
	RemovedJobs  string `csv:"removed_jobs"`
	Attempts     string `csv:"attempts"`
	Ambiguous    string `csv:"ambiguous"`
	DurationMS   string `csv:"duration_ms"`
	StartedAt    string `csv:"started_at"`
	FinishedAt   string `csv:"finished_at"`
	Error        string `csv:"error"`
}

// parseRecord turns one report line back into a Result.
func parseRecord(rec record) (batch.Result, error) {
	var r batch.Result
	fields := reflect.ValueOf(rec)
	for i, c := range columns {
		v := fields.Field(i).String()
		if err := c.parse(&r, v); err != nil {
			return r, fmt.Errorf("column %s: %q %w", c.name, v, err)
		}
	}
	return r, nil
}

// priorMeta reads input.sha256 from an earlier JSON report and whether
// that run wrote every row (summary.unwritten is 0), reading no further
// than those keys (the rows follow them). Both are zero when the file is
// missing or unreadable.
func priorMeta(path string) (sha256 string, complete bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	var in *Input
	var sum *struct {
		Unwritten int `json:"unwritten"`
	}
	for dec.More() && (in == nil || sum == nil) {
		key, err := dec.Token()
		if err != nil || key == "results" {
			break
		}
		switch key {
		case "input":
			err = dec.Decode(&in)
		case "summary":
			err = dec.Decode(&sum)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return "", false
		}
	}
	if in == nil {
		return "", false
	}
	return in.SHA256, sum != nil && sum.Unwritten == 0
}
