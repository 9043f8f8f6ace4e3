package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/batch"
)

// randomResult is a row of a random length: short messages mostly, some
// that must be quoted, some over a kilobyte, and now and then one longer
// than a page.
func randomResult(rng *rand.Rand, row int) batch.Result {
	r := benchResult(row)
	r.CallID = strconv.FormatUint(rng.Uint64(), 36)
	switch k := rng.IntN(1000); {
	case k < 700:
		r.Message = strings.Repeat("m", rng.IntN(80))
	case k < 950:
		r.Message = "no, \"quoted\"\n" + strings.Repeat("q", rng.IntN(200))
		r.Error = strings.Repeat("e", rng.IntN(50))
	case k < 995:
		r.Message = strings.Repeat("long ", 20+rng.IntN(200))
	default:
		r.Message = strings.Repeat("page ", 900+rng.IntN(200))
	}
	if rng.IntN(4) == 0 {
		r.HTTPStatus, r.ResponseCode, r.RemovedJobs = 0, 0, -1
		r.StartedAt, r.FinishedAt = time.Time{}, time.Time{}
	}
	return r
}

// span is one report line: its fields and its bytes in the file.
type span struct {
	fields     []string
	start, end int64
}

// readSpans parses a report and returns every row with where it lies.
func readSpans(t *testing.T, data []byte) (header []string, rows []span, blank int) {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = len(Columns)
	for {
		from := cr.InputOffset()
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("report does not parse: %v", err)
		}
		start := from
		for data[start] == '\n' || data[start] == '\r' {
			if data[start] == '\n' {
				blank++
			}
			start++
		}
		if header == nil {
			header = rec
			continue
		}
		rows = append(rows, span{rec, start, cr.InputOffset()})
	}
	return header, rows, blank
}

func parseLine(t *testing.T, line []byte) []string {
	t.Helper()
	rec, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	return rec
}

// TestRowsStayInsidePages writes rows of random lengths and checks that
// every row shorter than a page lies inside one page, that every value
// reads back as written, and that the lengthening really happened (rows
// quoted beyond need, blank lines where a page had too few rows).
func TestRowsStayInsidePages(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var want []batch.Result
	for i := range 6000 {
		want = append(want, randomResult(rng, i+1))
	}
	lengthened, blank, long := checkPages(t, want, writeCSV)
	if lengthened == 0 || blank == 0 || long == 0 {
		t.Errorf("lengthened %d rows, %d blank lines, %d rows over a page: the test does not reach every case", lengthened, blank, long)
	}
	t.Logf("%d rows: %d lengthened, %d blank lines, %d over a page", len(want), lengthened, blank, long)
}

// FuzzPageFile writes rows whose lengths and contents come from data and
// checks them as TestRowsStayInsidePages does.
func FuzzPageFile(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Add(bytes.Repeat([]byte{40, 200, 17, 0, 255, 90}, 60))
	f.Add(bytes.Repeat([]byte{250, 251, 252}, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 600 { // 600 rows fill some 30 pages; more only slows the fuzzer
			data = data[:600]
		}
		var want []batch.Result
		for i, b := range data {
			r := benchResult(i + 1)
			r.Message = strings.Repeat("m", int(b)*3)
			switch {
			case b == 255:
				r.Message = strings.Repeat("page ", 1000) // longer than a page
			case b%17 == 0:
				r.Message = "a, \"b\"\n" + r.Message // quoted already
				r.Error = strings.Repeat("e", int(b))
			case b%5 == 0:
				r = batch.Result{Row: i + 1, CallID: r.CallID, Outcome: batch.NotAttempted, RemovedJobs: -1}
			}
			want = append(want, r)
		}
		checkPages(t, want, writePages)
	})
}

// writeCSV writes rows as a run does.
func writeCSV(path string, rows []batch.Result) error {
	w, err := CreateCSV(path)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return w.Close()
}

// writePages writes rows through a pageFile alone: no summary, no sync,
// so the fuzzer runs many more inputs.
func writePages(path string, rows []batch.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	p := pageFile{f: f}
	if err := p.header(appendFields(nil, Columns...)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := p.append(r); err != nil {
			return err
		}
	}
	return nil
}

// checkPages writes want as a report with write and checks the file: every row that
// fits in a page lies inside one, and every row reads back with the values
// written. It returns how many rows were lengthened, the blank lines and
// the rows longer than a page.
func checkPages(t *testing.T, want []batch.Result, write func(string, []batch.Result) error) (lengthened, blank, long int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.csv")
	if err := write(path, want); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header, rows, blank := readSpans(t, data)
	if !slices.Equal(header, Columns) {
		t.Fatalf("header %v", header)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows read, %d written", len(rows), len(want))
	}
	for i, s := range rows {
		line := appendResult(nil, want[i])
		if !slices.Equal(s.fields, parseLine(t, line)) {
			t.Fatalf("row %d reads back as %q, written as %q", i+1, s.fields, line)
		}
		if !bytes.Equal(data[s.start:s.end], line) {
			lengthened++
		}
		if s.end-s.start > pageSize {
			long++
			continue
		}
		if s.start/pageSize != (s.end-1)/pageSize {
			t.Errorf("row %d (%d bytes) spans bytes %d..%d, across a page boundary", i+1, s.end-s.start, s.start, s.end)
		}
	}
	return lengthened, blank, long
}

// TestLengthenChangesNoValue checks each pad on rows whose fields are
// empty, plain or already quoted.
func TestLengthenChangesNoValue(t *testing.T) {
	for _, r := range []batch.Result{
		benchResult(7),
		{Row: 8, CallID: "x", Outcome: batch.NotAttempted, RemovedJobs: -1},
		{Row: 9, CallID: " a,b", Outcome: batch.UnexpectedResponse, Message: "x,\"y\"", Error: "\nlead", RemovedJobs: -1, Attempts: 2},
	} {
		plain := appendResult(nil, r)
		_, rest := lengthen(r, 1001)
		capacity := 1001 - rest // the most it can grow, odd (CRLF and quotes)
		for need := int64(0); need <= 40; need++ {
			p, left := lengthen(r, need)
			got := appendRow(nil, r, p)
			if int64(len(got)-len(plain)) != need-left {
				t.Errorf("row %d need %d: %d bytes longer, %d left", r.Row, need, len(got)-len(plain), left)
			}
			if want := max(0, need-capacity+1-need%2); left != want {
				t.Errorf("row %d need %d: %d left, want %d (room for %d)", r.Row, need, left, want, capacity)
			}
			if !slices.Equal(parseLine(t, got), parseLine(t, plain)) {
				t.Errorf("row %d need %d: %q reads differently from %q", r.Row, need, got, plain)
			}
		}
	}
}

// TestKillNineLeavesWholeRows kills a process writing a report, over and
// over, at a random row, and checks the file it leaves: the last line is
// whole and every line parses. Without rows kept inside pages, one kill
// in about fifty cuts a line here (ext4), fewer under -race: this is a
// stress test, and TestRowsStayInsidePages is the exact check.
func TestKillNineLeavesWholeRows(t *testing.T) {
	if path := os.Getenv("REPORT_KILL_WRITER"); path != "" {
		killWriter(path)
		return
	}
	if testing.Short() {
		t.Skip("starts 120 processes")
	}
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 120 {
		path := filepath.Join(dir, fmt.Sprintf("r%d.csv", i))
		cmd := exec.Command(exe, "-test.run=^TestKillNineLeavesWholeRows$")
		cmd.Env = append(os.Environ(), "REPORT_KILL_WRITER="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The writer prints a byte per row; kill it after a random number.
		if _, err := io.CopyN(io.Discard, out, int64(1+rng.IntN(1500))); err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) == 0 || data[len(data)-1] != '\n' {
			t.Fatalf("kill %d: the report's last line is torn at byte %d (%d into a page)", i, len(data), len(data)%pageSize)
		}
		readSpans(t, data)
		os.Remove(path)
	}
}

// killWriter writes rows until it is killed, printing a byte per row.
func killWriter(path string) {
	w, err := CreateCSV(path)
	if err == nil {
		err = w.Publish()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), 5))
	out := bufio.NewWriterSize(os.Stdout, 1)
	for i := 1; ; i++ {
		r := randomResult(rng, i)
		if len(r.Message) > pageSize/2 {
			r.Message = r.Message[:pageSize/2] // a row over a page can tear
		}
		if err := w.Write(r); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.WriteByte('.')
	}
}
