package batch

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// InputOptions says how to find the IDs in an input CSV.
type InputOptions struct {
	Column    string // header of the ID column; "" picks one of AutoColumns
	NoHeader  bool   // the file has no header row; IDs are in the first column
	Delimiter rune   // field separator; 0 picks one from the first line (see ReadInput)
	SizeHint  int64  // expected input size in bytes, to size buffers; 0 if unknown
}

// AutoColumns are the headers the ID column is found by when no column is
// named, in order of preference; they match case-insensitively, trimmed.
var AutoColumns = []string{"call_id", "callid", "call id", "id"}

// Input is every data row of an input CSV, read and checked before any
// request is sent. It keeps only the trimmed IDs, packed in one string, so
// ten million rows cost little more than their bytes. It is read-only and
// safe for concurrent use once ReadInput returns.
type Input struct {
	Name   string // the file as given, "-" for standard input
	SHA256 string // hex SHA-256 of the file's bytes
	Column string // the ID column's header as written; "" without a header
	// Delimiter is the field separator the file was read with.
	Delimiter rune
	ids       string
	ends      []uint32       // ends[i] is where row i's ID ends in ids
	notes     map[int]string // row index -> why its ID is empty though the line is not
}

// Len is the number of data rows.
func (in *Input) Len() int { return len(in.ends) }

// ID returns the trimmed ID of data row i (0-based).
func (in *Input) ID(i int) string {
	start := uint32(0)
	if i > 0 {
		start = in.ends[i-1]
	}
	return in.ids[start:in.ends[i]]
}

// InputError is a problem with the input file that stops the run before
// anything is sent. Line is 1-based and counts the header; 0 when the
// problem is not on one line.
type InputError struct {
	File  string
	Line  int
	Cause string
	Hint  string // how to fix it
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Cause)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// ReadInput reads a whole CSV of call IDs. It accepts a UTF-8 BOM, CRLF
// line ends, quoted fields, spaces around IDs, extra columns and blank
// lines (a blank line is not a row; a line of only commas is a row with an
// empty ID). A malformed file or a missing ID column is an *InputError
// naming the line and cause; IDs themselves are not judged here (see
// CheckID), so a bad ID becomes an invalid_id row, not an error.
//
// Without opt.Delimiter the separator is ',' unless the first line has
// no comma but a ';' or a tab (spreadsheet exports in many locales); when
// it holds both, the one that gives an ID column wins, and when neither
// or both do, ReadInput asks for a delimiter. When the first
// DelimiterCheckRows non-empty IDs (or all, if fewer) each hold a ';', a
// tab or a ',', the file was read with the wrong separator: an
// *InputError naming the first such line.
func ReadInput(r io.Reader, name string, opt InputOptions) (*Input, error) {
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, h), 256<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	in := &Input{Name: name, Delimiter: opt.Delimiter}
	if in.Delimiter == 0 {
		d, err := detectDelimiter(firstLine(br), name, opt)
		if err != nil {
			return nil, err
		}
		in.Delimiter = d
	}
	cr := csv.NewReader(br)
	cr.Comma = in.Delimiter
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	col := 0
	if !opt.NoHeader {
		header, err := cr.Read()
		if err == io.EOF {
			return nil, &InputError{File: name, Cause: "the file is empty: expected a header row naming the ID column",
				Hint: "add a header such as call_id, or pass --no-header if the file is only IDs"}
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		col, err = findColumn(header, opt.Column)
		if err != nil {
			line, _ := cr.FieldPos(0)
			return nil, &InputError{File: name, Line: line, Cause: err.Error(), Hint: columnHint(header, opt.Column, in.Delimiter)}
		}
		in.Column = strings.TrimSpace(header[col])
	} else if opt.Column != "" {
		return nil, &InputError{File: name, Cause: "--column names a header, but --no-header says there is none",
			Hint: "drop --column: without a header the IDs are read from the first column"}
	}

	var ids strings.Builder
	var sep sepCheck
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		if opt.NoHeader && len(in.ends) == 0 && len(rec) > 0 && isAutoColumn(rec[0]) {
			line, _ := cr.FieldPos(0)
			return nil, &InputError{File: name, Line: line,
				Cause: fmt.Sprintf("the first line starts with %q, a column name, but --no-header says the file has no header row", strings.TrimSpace(rec[0])),
				Hint:  "drop --no-header: the ID column is then found by its name"}
		}
		if len(in.ends) == sizeSample && opt.SizeHint > 0 {
			in.ends = presize(&ids, in.ends, cr.InputOffset(), opt.SizeHint)
		}
		id := ""
		if col < len(rec) {
			id = strings.TrimSpace(rec[col])
		} else {
			if in.notes == nil {
				in.notes = map[int]string{}
			}
			line, _ := cr.FieldPos(0)
			in.notes[len(in.ends)] = fmt.Sprintf("line %d has %d field(s); the ID column is field %d", line, len(rec), col+1)
		}
		if ids.Len()+len(id) > math.MaxUint32 {
			return nil, &InputError{File: name, Cause: "the IDs add up to more than 4 GiB", Hint: "split the file and run once per part"}
		}
		if sep.watching() {
			line, _ := cr.FieldPos(0)
			if sep.add(id, line); sep.full() {
				return nil, sep.err(name, in.Delimiter)
			}
		}
		ids.WriteString(id)
		in.ends = append(in.ends, uint32(ids.Len()))
	}
	if err := sep.err(name, in.Delimiter); err != nil {
		return nil, err
	}
	in.ids = ids.String()
	in.SHA256 = hex.EncodeToString(h.Sum(nil))
	return in, nil
}

// sizeSample is how many rows ReadInput reads before it sizes its
// buffers for the whole file.
const sizeSample = 4096

// presize grows ids and ends for the rest of a file of size bytes, of
// which the first read bytes gave the IDs and ends so far: by the share
// of the file those rows were, plus 5%. The file size alone would reserve
// room for every column, not only the IDs; an estimate that falls short
// only means the buffers grow as they fill.
func presize(ids *strings.Builder, ends []uint32, read, size int64) []uint32 {
	if read <= 0 || size <= read {
		return ends
	}
	scale := float64(size) / float64(read) * 1.05
	if n := float64(ids.Len()) * scale; n < math.MaxUint32 {
		ids.Grow(int(n) - ids.Len())
	}
	if n := float64(len(ends)) * scale; n < math.MaxUint32 {
		ends = slices.Grow(ends, int(n)-len(ends))
	}
	return ends
}

func normColumn(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func isAutoColumn(s string) bool { return slices.Contains(AutoColumns, normColumn(s)) }

func findColumn(header []string, want string) (int, error) {
	if want != "" {
		for i, h := range header {
			if normColumn(h) == normColumn(want) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("no column %q in the header %s", want, quoteList(header))
	}
	for _, a := range AutoColumns {
		for i, h := range header {
			if normColumn(h) == a {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("no ID column in the header %s: expected one of call_id, callId, call id, id", quoteList(header))
}

// columnHint says how to fix a header that has no ID column: another
// delimiter when a header cell splits into a known column, a near
// spelling of --column, or how to name the column.
func columnHint(header []string, want string, delim rune) string {
	for _, cell := range header {
		for _, d := range []rune{';', '\t', ',', '|'} {
			if d != delim && splitsToColumn(cell, d, want) {
				return fmt.Sprintf("the header looks separated by %s: pass --delimiter %s", describeDelimiter(d), flagDelimiter(d))
			}
		}
	}
	if want == "" {
		return "name the column with --column NAME, or pass --no-header if the first line is already an ID"
	}
	names := make([]string, 0, len(header))
	for _, h := range header {
		names = append(names, strings.TrimSpace(h))
	}
	if c := Closest(want, names); c != "" {
		return fmt.Sprintf("did you mean --column %s?", ShellQuote(c))
	}
	if Closest(want, AutoColumns) != "" {
		if i, err := findColumn(header, ""); err == nil {
			return fmt.Sprintf("did you mean --column %s? (or drop --column: it is found by its name)", ShellQuote(strings.TrimSpace(header[i])))
		}
	}
	return "check the spelling of --column against the first line of the file"
}

// ShellQuote is s as one word on a POSIX shell command line: as it is
// when it needs no quoting, else in single quotes.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < utf8.RuneSelf && (isAlnum(byte(r)) || strings.ContainsRune("-_./=:,+@%", r)))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func quoteList(ss []string) string {
	const most = 8
	q := make([]string, 0, most+1)
	for i, s := range ss {
		if i == most {
			q = append(q, fmt.Sprintf("… (%d more)", len(ss)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", Snippet([]byte(s), 40)))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &InputError{File: name, Cause: "cannot read: " + err.Error()}
	}
	ie := &InputError{File: name, Line: pe.Line, Cause: pe.Err.Error()}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		ie.Cause = fmt.Sprintf("a quote (\") inside a field that does not start with one (column %d)", pe.Column)
		ie.Hint = `quote the whole field and double the inner quote, e.g. "ab""c", or remove the stray quote`
	case errors.Is(pe.Err, csv.ErrQuote):
		ie.Cause = fmt.Sprintf("a quoted field is not closed properly (column %d)", pe.Column)
		if pe.StartLine != pe.Line {
			ie.Cause = fmt.Sprintf("a quoted field opened on line %d is not closed properly (column %d)", pe.StartLine, pe.Column)
			ie.Line = pe.StartLine
		}
		ie.Hint = `close the quote, and double any quote inside the field, e.g. "ab""c"`
	}
	return ie
}
