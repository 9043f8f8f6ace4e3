package report

import (
	"fmt"
	"os"
	"slices"

	"github.com/subverseai/bulkcancel/batch"
)

// pageSize is the unit in which Linux copies a write(2) into a file. A
// write inside one page is copied whole or not at all, even when the
// process is killed; a write that crosses a page boundary is copied page
// by page, and a SIGKILL that arrives in between leaves only its first
// part on disk: a torn last line.
const pageSize = 4096

// pageFile appends report rows so that no row that fits in a page
// straddles a page boundary, which makes each row's write whole under
// kill -9. A row that would cross the next boundary starts at it instead,
// and the gap before the boundary is closed by lengthening the rows
// already in the page without changing any value: some of their fields
// are quoted (`""`, `"3"`) and one may end in CRLF. Those rows are
// rewritten in place with one write that ends at the boundary, itself
// inside one page. Only when the page holds too few rows to absorb the
// gap is it closed with blank lines, which CSV readers skip. A row longer
// than a page (only a server message of several KB makes one) cannot be
// kept whole this way.
type pageFile struct {
	f    *os.File
	end  int64     // length of the file
	page int64     // the page rows start in
	rows []pageRow // the rows that start and end in page, in file order
	buf  []byte
	fill []byte
	pads []pad
}

type pageRow struct {
	r   batch.Result
	off int64
}

// header writes the first line. It is never rewritten.
func (p *pageFile) header(b []byte) error {
	if _, err := p.f.WriteAt(b, p.end); err != nil {
		return err
	}
	p.end += int64(len(b))
	return nil
}

// append writes r as the next row.
func (p *pageFile) append(r batch.Result) error {
	p.buf = appendResult(p.buf[:0], r)
	n := int64(len(p.buf))
	if next := (p.end/pageSize + 1) * pageSize; p.end+n > next && n <= pageSize {
		if err := p.closePage(next); err != nil {
			return err
		}
	}
	off := p.end
	if _, err := p.f.WriteAt(p.buf, off); err != nil {
		return err
	}
	p.end += n
	if page := off / pageSize; page != p.page {
		p.page, p.rows = page, p.rows[:0]
	}
	if (p.end-1)/pageSize == p.page {
		p.rows = append(p.rows, pageRow{r, off})
	}
	return nil
}

// closePage lengthens the rows at the end of the current page so that the
// file ends exactly at next, the page's end.
func (p *pageFile) closePage(next int64) error {
	need := next - p.end
	var rows []pageRow
	if p.page == p.end/pageSize {
		rows = p.rows
	}
	p.pads = slices.Grow(p.pads[:0], len(rows))[:len(rows)]
	clear(p.pads)
	from := len(rows)
	for i := len(rows) - 1; i >= 0 && need > 0; i-- {
		from = i
		p.pads[i], need = lengthen(rows[i].r, need)
	}
	off := p.end
	if from < len(rows) {
		off = rows[from].off
	}
	b := p.fill[:0]
	for i := from; i < len(rows); i++ {
		b = appendRow(b, rows[i].r, p.pads[i])
	}
	for ; need > 0; need-- {
		b = append(b, '\n')
	}
	p.fill = b
	if off+int64(len(b)) != next {
		return fmt.Errorf("report rows end at byte %d, not at the page end %d", off+int64(len(b)), next)
	}
	if _, err := p.f.WriteAt(b, off); err != nil {
		return err
	}
	p.end = next
	p.rows = p.rows[:0]
	return nil
}

// Columns that lengthen may quote. The first four are the ones scripts
// match on (row, call_id, outcome, final) and ambiguous, so those are left
// as they are.
const (
	colHTTPStatus   = 4
	colResponseCode = 5
	colMessage      = 6
	colRemovedJobs  = 7
	colAttempts     = 8
	colDurationMS   = 10
	colStartedAt    = 11
	colFinishedAt   = 12
	colError        = 13
)

var padColumns = [...]int{colStartedAt, colFinishedAt, colDurationMS, colRemovedJobs, colResponseCode, colHTTPStatus, colAttempts, colMessage, colError}

// pad lengthens a row without changing any value it holds.
type pad struct {
	quote uint16 // bit i set: column i is written quoted
	crlf  bool   // the line ends in CRLF
}

func (p pad) quotes(col int) bool { return p.quote&(1<<col) != 0 }

// mark appends the quote that opens or closes column col when p quotes
// it.
func (p pad) mark(b []byte, col int) []byte {
	if p.quotes(col) {
		return append(b, '"')
	}
	return b
}

// lengthen picks a pad that makes r up to need bytes longer and returns
// it with what is still needed.
func lengthen(r batch.Result, need int64) (pad, int64) {
	var p pad
	if need%2 == 1 {
		p.crlf = true
		need--
	}
	for _, c := range padColumns {
		if need < 2 {
			break
		}
		if c == colMessage && needsQuotes(oneLine(r.Message)) || c == colError && needsQuotes(oneLine(r.Error)) {
			continue // already quoted: quoting adds nothing
		}
		p.quote |= 1 << c
		need -= 2
	}
	return p, need
}
