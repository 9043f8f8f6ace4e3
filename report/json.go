package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	str := func(s string) {
		enc.Encode(s) // a string always encodes
		buf.Truncate(buf.Len() - 1)
	}
	keys := make([]string, len(columns)) // `"row":` and so on, encoded once
	for i, c := range columns {
		buf.Reset()
		str(c.name)
		keys[i] = buf.String() + ":"
	}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		buf.Reset()
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		for i, c := range columns {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(keys[i])
			if raw, ok := jsonLiteral(c.kind, rec[i]); ok {
				buf.WriteString(raw)
			} else {
				str(rec[i])
			}
		}
		buf.WriteByte('}')
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
}

// jsonLiteral is a report field of kind k as a JSON number, boolean or
// null (an empty number or time, or a number or boolean that is not
// one); ok is false for a string.
func jsonLiteral(k kind, v string) (raw string, ok bool) {
	switch k {
	case number:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return "null", true
		}
		return v, true
	case boolean:
		if v != "true" && v != "false" {
			return "null", true
		}
		return v, true
	case instant:
		return "null", v == ""
	}
	return "", false
}
