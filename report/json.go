package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// Meta is everything PREFIX.json holds besides the rows.
type Meta struct {
	RunID      string    `json:"run_id"`
	Version    string    `json:"version"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Input      Input     `json:"input"`
	Config     any       `json:"config"` // every setting, never the key
	Summary    Summary   `json:"summary"`
	Aborted    *string   `json:"aborted"` // why the run stopped early; null when it did not
	ExitCode   int       `json:"exit_code"`
	// FinishCommand is the command line that finishes the job, as an
	// argument list; null when every row is final.
	FinishCommand []string `json:"finish_command"`
}

// Input describes the input file.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
}

// WriteJSON writes path atomically: meta, then "results", the rows of the
// finished CSV report at csvPath as objects. The document goes to a
// temporary file in the same directory, is synced, and is then linked into
// place, so path either does not exist or is whole; an existing path is
// never replaced.
func WriteJSON(path string, meta Meta, csvPath string) (err error) {
	head, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	src, err := os.Open(csvPath)
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	defer src.Close()
	tmp, err := createHidden(path)
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	bw.Write(head[:len(head)-1])
	bw.WriteString(`,"results":[`)
	if err := appendResults(bw, src); err != nil {
		return fmt.Errorf("json report from %s: %w", csvPath, err)
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := place(tmp.Name(), path); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	return nil
}

// appendResults copies every row of a report CSV as a JSON object.
func appendResults(w *bufio.Writer, src io.Reader) error {
	cr := csv.NewReader(bufio.NewReaderSize(src, 256<<10))
	cr.FieldsPerRecord = len(Columns)
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	buf := make([]byte, 0, 1024)
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		buf = buf[:0]
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '{')
		for i, c := range columns {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, c.name)
			buf = append(buf, ':')
			buf = appendJSONValue(buf, c.kind, rec[i])
		}
		buf = append(buf, '}')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
}

// appendJSONValue writes a report field with its JSON type: numbers and
// booleans as such, empty numbers and times as null, text as strings.
func appendJSONValue(b []byte, k kind, v string) []byte {
	switch k {
	case number:
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			return append(b, v...)
		}
		return append(b, "null"...)
	case boolean:
		if v == "true" || v == "false" {
			return append(b, v...)
		}
		return append(b, "null"...)
	case instant:
		if v == "" {
			return append(b, "null"...)
		}
	}
	return appendJSONString(b, v)
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
