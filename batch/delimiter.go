package batch

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// DelimiterCheckRows is how many of the first non-empty IDs ReadInput
// looks at for a field separator inside them: when every one of them (or
// every ID, in a shorter file) holds one, the file was read with the
// wrong delimiter. Twenty rows tell a whole file read wrongly from a few
// stray characters, which only make their own rows invalid_id.
const DelimiterCheckRows = 20

// separators are the characters that, inside an ID, mean the line was
// split at the wrong character; CheckID refuses IDs that hold one.
const separators = ";\t,"

// ParseDelimiter reads a --delimiter value: "auto" (or "") is 0, which
// has ReadInput pick one; "tab" (or a tab itself, or `\t`) is a tab;
// otherwise one ASCII punctuation character other than the double quote,
// such as ",", ";" or "|".
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case "tab", "\t", `\t`:
		return '\t', nil
	}
	if len(s) == 1 && s[0] > ' ' && s[0] < 0x7f && s[0] != '"' && !isAlnum(s[0]) {
		return rune(s[0]), nil
	}
	return 0, fmt.Errorf(`delimiter %q: want auto, ",", ";", tab, "|" or another single ASCII punctuation character (not the double quote)`, s)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// DelimiterName is d as --delimiter takes it: "tab" for a tab, otherwise
// the character itself.
func DelimiterName(d rune) string {
	if d == '\t' {
		return "tab"
	}
	return string(d)
}

// flagDelimiter is d as a hint writes it on a command line: quoted, so a
// shell does not take ';' or '|' for its own.
func flagDelimiter(d rune) string {
	if d == '\t' {
		return "tab"
	}
	return "'" + string(d) + "'"
}

// describeDelimiter is d in a sentence: "tabs" or "';'".
func describeDelimiter(d rune) string {
	if d == '\t' {
		return "tabs"
	}
	return flagDelimiter(d)
}

// firstLine returns the input's first line without its line end, as far
// as the reader's buffer holds it, leaving the reader where it was.
func firstLine(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Size()) // short at the end of the input; the whole input is read anyway
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSuffix(b, []byte("\r"))
}

// splitsToColumn reports whether s, split at d as CSV, holds the ID
// column (the one named by want, or one of AutoColumns).
func splitsToColumn(s string, d rune, want string) bool {
	cr := csv.NewReader(strings.NewReader(s))
	cr.Comma = d
	fields, err := cr.Read()
	if err != nil {
		return false
	}
	_, err = findColumn(fields, want)
	return err == nil
}

// detectDelimiter picks the field separator from the first line: ','
// unless the line has no comma (outside quotes) but a ';' or a tab. A
// line with both takes the one that gives an ID column; when neither or
// both do, or there is no header to tell, it is an *InputError asking
// for --delimiter.
func detectDelimiter(line []byte, name string, opt InputOptions) (rune, error) {
	n := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && strings.IndexByte(separators, c) >= 0:
			n[c]++
		}
	}
	switch {
	case n[','] > 0 || n[';'] == 0 && n['\t'] == 0:
		return ',', nil
	case n['\t'] == 0:
		return ';', nil
	case n[';'] == 0:
		return '\t', nil
	}
	var fit []rune
	if !opt.NoHeader {
		for _, d := range []rune{';', '\t'} {
			if splitsToColumn(string(line), d, opt.Column) {
				fit = append(fit, d)
			}
		}
	}
	if len(fit) == 1 {
		return fit[0], nil
	}
	return 0, &InputError{File: name, Line: 1,
		Cause: "the first line holds both ';' and tabs and no comma, so which one separates the fields is unclear",
		Hint:  "pass --delimiter ';' or --delimiter tab"}
}

// sepCheck watches the first DelimiterCheckRows non-empty IDs for a field
// separator inside them.
type sepCheck struct {
	seen  int    // non-empty IDs looked at, each holding a separator
	clean bool   // an ID without one was seen: the file is read right
	line  int    // the first ID's line
	id    string // the first ID
}

// watching reports whether the next ID still matters.
func (c *sepCheck) watching() bool { return !c.clean && c.seen < DelimiterCheckRows }

// full reports whether every one of DelimiterCheckRows IDs held a
// separator, so the answer is known before the end of the file.
func (c *sepCheck) full() bool { return !c.clean && c.seen == DelimiterCheckRows }

func (c *sepCheck) add(id string, line int) {
	switch {
	case id == "":
	case !strings.ContainsAny(id, separators):
		c.clean = true
	default:
		if c.seen == 0 {
			c.line, c.id = line, id
		}
		c.seen++
	}
}

// err is the *InputError for a file whose first IDs all held a
// separator, nil otherwise; delim is the separator the file was read
// with.
func (c *sepCheck) err(name string, delim rune) error {
	if c.clean || c.seen == 0 {
		return nil
	}
	found := rune(0)
	for _, d := range separators {
		if d != delim && strings.ContainsRune(c.id, d) {
			found = d
			break
		}
	}
	which := fmt.Sprintf("each of the first %d IDs holds", c.seen)
	if c.seen == 1 {
		which = "the only ID holds"
	}
	e := &InputError{File: name, Line: c.line}
	if found == 0 {
		e.Cause = fmt.Sprintf("%s a field separator (the first: %q)", which, Snippet([]byte(c.id), 60))
		e.Hint = "check which character separates the file's fields and pass it with --delimiter"
		return e
	}
	e.Cause = fmt.Sprintf("%s a %s (the first: %q): the fields look separated by %s, but the file was read with %s",
		which, flagDelimiter(found), Snippet([]byte(c.id), 60), describeDelimiter(found), describeDelimiter(delim))
	e.Hint = "pass --delimiter " + flagDelimiter(found)
	return e
}
