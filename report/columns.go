// Package report writes a run's per-row report (a CSV streamed as rows
// finish and a JSON document at the end) and reads an earlier report back
// to resume from it. cmd/bulkcancel hands it each batch.Result as the run
// produces it.
package report

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/subverseai/bulkcancel/batch"
)

// TimeFormat is how report times are written: RFC 3339, UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// kind is a column's JSON type, and what the resume reader accepts in it.
type kind uint8

const (
	text    kind = iota // a string
	number              // a whole number; empty is null
	boolean             // true or false
	instant             // an RFC 3339 time, a string; empty is null
)

// column is one report column: its header, its text in a row (before CSV
// quoting), its JSON type, and how the resume reader takes the text back
// into a Result. The CSV writer, the JSON report and the resume reader
// all walk columns; nothing else lists them.
type column struct {
	name  string
	kind  kind
	text  func(r *batch.Result) string
	parse func(r *batch.Result, v string) error
}

var columns = []column{
	{"row", number, func(r *batch.Result) string { return strconv.Itoa(r.Row) },
		func(r *batch.Result, v string) (err error) { r.Row, err = wholeNumber(v, required, false); return err }},
	{"call_id", text, func(r *batch.Result) string { return r.CallID },
		func(r *batch.Result, v string) error { r.CallID = v; return nil }},
	{"outcome", text, func(r *batch.Result) string { return string(r.Outcome) },
		func(r *batch.Result, v string) error {
			r.Outcome = batch.Outcome(v)
			return check(r.Outcome.Known(), errOutcome)
		}},
	{"final", boolean, func(r *batch.Result) string { return strconv.FormatBool(r.Final()) },
		func(_ *batch.Result, v string) error { return check(v == "true" || v == "false", errBool) }},
	{"http_status", number, func(r *batch.Result) string { return optional(r.HTTPStatus, r.HTTPStatus > 0) },
		func(r *batch.Result, v string) (err error) { r.HTTPStatus, err = wholeNumber(v, 0, false); return err }},
	{"response_code", number, func(r *batch.Result) string { return optional(r.ResponseCode, r.ResponseCode != 0) }, // any code the API sent, 4001 or -1 too
		func(r *batch.Result, v string) (err error) { r.ResponseCode, err = wholeNumber(v, 0, true); return err }},
	{"message", text, func(r *batch.Result) string { return oneLine(r.Message) },
		func(r *batch.Result, v string) error { r.Message = v; return nil }},
	{"removed_jobs", number, func(r *batch.Result) string { return optional(r.RemovedJobs, r.RemovedJobs >= 0) },
		func(r *batch.Result, v string) (err error) {
			r.RemovedJobs, err = wholeNumber(v, -1, false)
			return err
		}},
	{"attempts", number, func(r *batch.Result) string { return strconv.Itoa(r.Attempts) },
		func(r *batch.Result, v string) (err error) {
			r.Attempts, err = wholeNumber(v, required, false)
			return err
		}},
	{"ambiguous", boolean, func(r *batch.Result) string { return strconv.FormatBool(r.Ambiguous) },
		func(r *batch.Result, v string) error {
			r.Ambiguous = v == "true"
			return check(v == "true" || v == "false", errBool)
		}},
	{"duration_ms", number, func(r *batch.Result) string { d := r.Duration(); return optional(int(d.Milliseconds()), d >= 0) },
		func(_ *batch.Result, v string) (err error) { _, err = wholeNumber(v, -1, false); return err }},
	{"started_at", instant, func(r *batch.Result) string { return timeText(r.StartedAt) },
		func(r *batch.Result, v string) (err error) { r.StartedAt, err = parseTime(v); return err }},
	{"finished_at", instant, func(r *batch.Result) string { return timeText(r.FinishedAt) },
		func(r *batch.Result, v string) (err error) { r.FinishedAt, err = parseTime(v); return err }},
	{"error", text, func(r *batch.Result) string { return oneLine(r.Error) },
		func(r *batch.Result, v string) error { r.Error = v; return nil }},
}

// Columns is the report CSV header, in order.
var Columns = func() []string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return names
}()

// What a column's text must be, for the resume reader's errors.
var (
	errWhole   = errors.New("is not a whole number")
	errBool    = errors.New("is not true or false")
	errTime    = errors.New("is not an RFC 3339 time")
	errOutcome = errors.New("is not an outcome")
)

func check(ok bool, err error) error {
	if ok {
		return nil
	}
	return err
}

// required, as wholeNumber's empty, refuses an empty text.
const required = math.MinInt

// wholeNumber reads a whole number; "" reads as empty unless that is required,
// and a negative number is refused unless negative is set.
func wholeNumber(v string, empty int, negative bool) (int, error) {
	if v == "" && empty != required {
		return empty, nil
	}
	n, err := strconv.Atoi(v)
	return n, check(err == nil && (n >= 0 || negative), errWhole)
}

// optional is n as text when known is set, else "".
func optional(n int, known bool) string {
	if !known {
		return ""
	}
	return strconv.Itoa(n)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), check(err == nil, errTime)
}
