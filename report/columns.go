// Package report writes a run's per-row report (a CSV streamed as rows
// finish and a JSON document at the end) and reads an earlier report back
// to resume from it. cmd/bulkcancel hands it each batch.Result as the run
// produces it.
package report

import "reflect"

// record is one report row as text, in column order. Its csv tags are the
// report's header: Columns is derived from them, the writer fills a record
// field by field, and the resume reader maps a file onto it with gocsv.
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

// Columns is the report CSV header, in order.
var Columns = csvTags(reflect.TypeFor[record]())

// TimeFormat is how report times are written: RFC 3339, UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

func csvTags(t reflect.Type) []string {
	cols := make([]string, t.NumField())
	for i := range cols {
		cols[i] = t.Field(i).Tag.Get("csv")
	}
	return cols
}
