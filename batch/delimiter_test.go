package batch

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseDelimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want rune
		ok   bool
	}{
		{"auto", 0, true},
		{"", 0, true},
		{",", ',', true},
		{";", ';', true},
		{"tab", '\t', true},
		{"\t", '\t', true},
		{`\t`, '\t', true},
		{"|", '|', true},
		{":", ':', true},
		{"#", '#', true},
		{`"`, 0, false},
		{"a", 0, false},
		{"1", 0, false},
		{" ", 0, false},
		{";;", 0, false},
		{"é", 0, false},
		{"\n", 0, false},
		{"TAB", 0, false},
	} {
		got, err := ParseDelimiter(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestReadInputDelimiter: auto picks ',' unless the first line has no
// comma but a ';' or a tab; a line with both takes the one that yields an
// ID column; a delimiter given is used as it is.
func TestReadInputDelimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		data  string
		opt   InputOptions
		delim rune
		ids   []string
	}{
		{"comma", "call_id,status\na,x\nb,y\n", InputOptions{}, ',', []string{"a", "b"}},
		{"one column", "call_id\na\nb\n", InputOptions{}, ',', []string{"a", "b"}},
		{"semicolon export", "\ufeffcall_id;status\r\n67493aee;call_in_queue\r\n67493aef;call_placed\r\n", InputOptions{}, ';', []string{"67493aee", "67493aef"}},
		{"tab export", "status\tCall ID\nq\ta\np\tb\n", InputOptions{}, '\t', []string{"a", "b"}},
		{"comma wins over a semicolon", "call_id,note\na,x;y\n", InputOptions{}, ',', []string{"a"}},
		{"semicolon inside quotes does not count", "\"call;id\",id\n1,a\n", InputOptions{}, ',', []string{"a"}},
		{"both: the semicolon gives the column", "call_id;note\tx\na;b\n", InputOptions{}, ';', []string{"a"}},
		{"both: the tab gives the column", "x;y\tcall_id\nb\ta\n", InputOptions{}, '\t', []string{"a"}},
		{"both: the named column decides", "uuid;a\tb\nq;1\n", InputOptions{Column: "uuid"}, ';', []string{"q"}},
		{"semicolon, no header", "67493aee;call_in_queue\n67493aef;call_placed\n", InputOptions{NoHeader: true}, ';', []string{"67493aee", "67493aef"}},
		{"given pipe", "call_id|status\na|x\n", InputOptions{Delimiter: '|'}, '|', []string{"a"}},
		{"given comma on a semicolon line", "id;x\na\n", InputOptions{Delimiter: ',', Column: "id;x"}, ',', []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, err := ReadInput(strings.NewReader(tc.data), "in.csv", tc.opt)
			if err != nil {
				t.Fatalf("ReadInput: %v", err)
			}
			if in.Delimiter != tc.delim {
				t.Errorf("delimiter %q, want %q", in.Delimiter, tc.delim)
			}
			if got := readIDs(t, in); strings.Join(got, "|") != strings.Join(tc.ids, "|") {
				t.Errorf("IDs %q, want %q", got, tc.ids)
			}
		})
	}
}

// TestReadInputWrongDelimiter: when the first IDs all hold a separator
// the file was read with the wrong one: an error naming the line and the
// --delimiter to pass. A stray one in a few rows is no error: those rows
// become invalid_id.
func TestReadInputWrongDelimiter(t *testing.T) {
	t.Parallel()
	many := func(sep string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "67493aee%04d%scall_in_queue\n", i, sep)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name string
		data string
		opt  InputOptions
		line int
		want []string // in the message
	}{
		{"semicolon read as comma", "call_id\n" + many(";", 30), InputOptions{Delimiter: ','}, 2, []string{"each of the first 20 IDs holds a ';'", "--delimiter ';'"}},
		{"tab read as comma", "call_id\n" + many("\t", 3), InputOptions{Delimiter: ','}, 2, []string{"each of the first 3 IDs holds a tab", "--delimiter tab"}},
		{"comma read as semicolon", "call_id\n" + many(",", 5), InputOptions{Delimiter: ';'}, 2, []string{"holds a ','", "--delimiter ','"}},
		{"one row", "call_id\n" + many(";", 1), InputOptions{Delimiter: ','}, 2, []string{"the only ID holds a ';'"}},
		{"header line sent with --no-header", "call_id;status\n" + many(";", 4), InputOptions{NoHeader: true, Delimiter: ','}, 1, []string{"--delimiter ';'"}},
		{"blank IDs skipped", "call_id,x\n,1\n" + "\"a;b\",2\n", InputOptions{}, 3, []string{"--delimiter ';'"}},
		{"header-looking first line with --no-header", "call_id;status\n67493aee;call_in_queue\n", InputOptions{NoHeader: true}, 1, []string{`starts with "call_id", a column name`, "drop --no-header"}},
		{"both separators, neither gives a column", "a;b\tc\n1;2\t3\n", InputOptions{}, 1, []string{"both ';' and tabs", "--delimiter ';' or --delimiter tab"}},
		{"both separators, both give a column", "id;x\tcall_id\n1;2\t3\n", InputOptions{}, 1, []string{"both ';' and tabs"}},
		{"both separators without a header", "a;b\tc\n", InputOptions{NoHeader: true}, 1, []string{"both ';' and tabs"}},
		{"header split by another separator", "call_id;status\na;b\n", InputOptions{Delimiter: ','}, 1, []string{"no ID column", "looks separated by ';'", "--delimiter ';'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadInput(strings.NewReader(tc.data), "in.csv", tc.opt)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *InputError", err)
			}
			if ie.Line != tc.line {
				t.Errorf("line %d, want %d: %v", ie.Line, tc.line, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if ie.Hint == "" {
				t.Errorf("%q has no hint", err)
			}
		})
	}

	// A stray separator in a few rows is not an error.
	data := "call_id\na;b\nc\n\"d,e\"\nf\tg\nh\n"
	in, err := ReadInput(strings.NewReader(data), "in.csv", InputOptions{Delimiter: ','})
	if err != nil {
		t.Fatalf("stray separators: %v", err)
	}
	var invalid []string
	for r := range NewPlan(in, PlanOptions{}).Settled() {
		if r.Outcome != InvalidID || !strings.Contains(r.Error, "field separator") {
			t.Errorf("row %d: %s %q", r.Row, r.Outcome, r.Error)
		}
		invalid = append(invalid, r.CallID)
	}
	if got := strings.Join(invalid, " "); got != "a;b d,e f\tg" {
		t.Errorf("invalid rows %q, want the three with a separator", got)
	}
}

// TestReadInputColumnHint: a --column that matches no header but is near
// one gets a "did you mean".
func TestReadInputColumnHint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header, column, want string
	}{
		{"call_id,status", "call_di", "did you mean --column call_id?"},
		{"campaign,callid", "calid", "did you mean --column callid?"},
		{"Call ID,status", "cal id", "did you mean --column 'Call ID'?"},
		{"id,status", "call_idd", "did you mean --column id? (or drop --column"},
		{"uuid,status", "phone", "check the spelling of --column"},
	} {
		_, err := ReadInput(strings.NewReader(tc.header+"\na,b\n"), "in.csv", InputOptions{Column: tc.column})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--column %s on %q: %v, want %q", tc.column, tc.header, err, tc.want)
		}
	}
}
