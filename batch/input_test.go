package batch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func readIDs(t *testing.T, in *Input) []string {
	t.Helper()
	ids := make([]string, in.Len())
	for i := range ids {
		ids[i] = in.ID(i)
	}
	return ids
}

func TestReadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		data   string
		opt    InputOptions
		ids    []string
		column string
	}{
		{"plain", "call_id\na\nb\n", InputOptions{}, []string{"a", "b"}, "call_id"},
		{"BOM and CRLF", "\ufeffcall_id\r\na\r\nb\r\n", InputOptions{}, []string{"a", "b"}, "call_id"},
		{"BOM before a quoted header", "\ufeff\"call_id\"\n\"a\"\n", InputOptions{}, []string{"a"}, "call_id"},
		{"quotes and spaces trimmed", "id\n\"  a  \"\n  b\t\n", InputOptions{}, []string{"a", "b"}, "id"},
		{"blank lines are not rows", "call_id\n\na\n\r\n\nb\n\n", InputOptions{}, []string{"a", "b"}, "call_id"},
		{"line of commas is an empty ID", "name,call_id\nx,a\n,\n", InputOptions{}, []string{"a", ""}, "call_id"},
		{"whitespace-only line is an empty ID", "call_id\n   \na\n", InputOptions{}, []string{"", "a"}, "call_id"},
		{"extra columns", "campaign,callId,phone\nc1,a,+1\nc2,b,+2,extra\n", InputOptions{}, []string{"a", "b"}, "callId"},
		{"auto prefers call_id over id", "id,call_id\n1,a\n2,b\n", InputOptions{}, []string{"a", "b"}, "call_id"},
		{"auto header with a space and case", " Call ID ,x\na,1\n", InputOptions{}, []string{"a"}, "Call ID"},
		{"named column", "uuid,other\na,1\n", InputOptions{Column: "UUID"}, []string{"a"}, "uuid"},
		{"no header", "a\nb,extra\n", InputOptions{NoHeader: true}, []string{"a", "b"}, ""},
		{"header only", "call_id\n", InputOptions{}, []string{}, "call_id"},
		{"no final newline", "call_id\na", InputOptions{}, []string{"a"}, "call_id"},
		{"quoted field with comma and newline", "call_id,note\n\"a\",\"x,\ny\"\nb,z\n", InputOptions{}, []string{"a", "b"}, "call_id"},
		{"short row gives an empty ID", "name,call_id\nbob\na,b\n", InputOptions{}, []string{"", "b"}, "call_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := ReadInput(strings.NewReader(tc.data), "in.csv", tc.opt)
			if err != nil {
				t.Fatalf("ReadInput: %v", err)
			}
			if got := readIDs(t, in); strings.Join(got, "|") != strings.Join(tc.ids, "|") || len(got) != len(tc.ids) {
				t.Errorf("IDs %q, want %q", got, tc.ids)
			}
			if in.Column != tc.column {
				t.Errorf("column %q, want %q", in.Column, tc.column)
			}
			if len(in.SHA256) != 64 {
				t.Errorf("sha256 %q", in.SHA256)
			}
		})
	}
}

// TestReadInputErrors: a file that cannot be read as asked is an
// *InputError naming the file, the line and how to fix it.
func TestReadInputErrors(t *testing.T) {
	t.Parallel()
	many := func(sep string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "67493aee%04d%scall_in_queue\n", i, sep)
		}
		return b.String()
	}
	cases := []struct {
		name string
		data string
		opt  InputOptions
		line int
		want []string // in the message
	}{
		{"bare quote", "call_id\na\nb\"c\nd\n", InputOptions{}, 3, []string{"quote"}},
		{"unclosed quote", "call_id\na\n\"b\nc\n", InputOptions{}, 3, []string{"not closed"}},
		{"missing column", "name,phone\na,1\n", InputOptions{}, 1, []string{"no ID column"}},
		{"named column missing", "call_id\na\n", InputOptions{Column: "uuid"}, 1, []string{`no column "uuid"`}},
		{"empty file", "", InputOptions{}, 0, []string{"empty"}},
		{"column with no header", "a\n", InputOptions{NoHeader: true, Column: "x"}, 0, []string{"--no-header"}},
		{"bare quote after BOM and CRLF", "\ufeffcall_id\r\nok\r\nx\"y\r\n", InputOptions{}, 3, []string{"quote"}},
		// The first IDs all hold a separator: the file was read with the wrong one.
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
		// A --column that matches no header but is near one gets a "did you mean".
		{"--column call_di", "call_id,status\na,b\n", InputOptions{Column: "call_di"}, 1, []string{"did you mean --column call_id?"}},
		{"--column calid", "campaign,callid\na,b\n", InputOptions{Column: "calid"}, 1, []string{"did you mean --column callid?"}},
		{"--column cal id", "Call ID,status\na,b\n", InputOptions{Column: "cal id"}, 1, []string{"did you mean --column 'Call ID'?"}},
		{"--column call_idd", "id,status\na,b\n", InputOptions{Column: "call_idd"}, 1, []string{"did you mean --column id? (or drop --column"}},
		{"--column phone", "uuid,status\na,b\n", InputOptions{Column: "phone"}, 1, []string{"check the spelling of --column"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadInput(strings.NewReader(tc.data), "in.csv", tc.opt)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *InputError", err)
			}
			if ie.Line != tc.line || ie.File != "in.csv" {
				t.Errorf("at %s:%d, want in.csv:%d (%v)", ie.File, ie.Line, tc.line, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if ie.Hint == "" {
				t.Errorf("%q has no hint how to fix it", err)
			}
		})
	}
}

func TestCheckIDAndPlan(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 129)
	data := "call_id\n" + strings.Join([]string{"a", "b", "a", `""`, ".", "..", long, "\"c\x01\"", "b", "d", "  "}, "\n") + "\n"
	in, err := ReadInput(strings.NewReader(data), "in.csv", InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlan(in, PlanOptions{})
	var settled []string
	for r, carried := range p.Settled() {
		if carried {
			t.Errorf("row %d carried without a prior report", r.Row)
		}
		settled = append(settled, string(r.Outcome)+"@"+strconv.Itoa(r.Row))
	}
	want := "duplicate@3 invalid_id@4 invalid_id@5 invalid_id@6 invalid_id@7 invalid_id@8 duplicate@9 invalid_id@11"
	if got := strings.Join(settled, " "); got != want {
		t.Errorf("settled %s\nwant    %s", got, want)
	}
	var jobs []string
	for j := range p.Jobs() {
		jobs = append(jobs, j.ID+"@"+strconv.Itoa(j.Row))
	}
	if got := strings.Join(jobs, " "); got != "a@1 b@2 d@10" {
		t.Errorf("jobs %s", got)
	}
	c := p.Counts
	if c.Rows != 11 || c.Send != 3 || c.Invalid != 6 || c.Duplicate != 2 || c.Shard != 11 {
		t.Errorf("counts %+v", c)
	}
}
