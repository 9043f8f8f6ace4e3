package batch

import (
	"errors"
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

func TestReadInputErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		data string
		opt  InputOptions
		line int
		want string // in the message
	}{
		{"bare quote", "call_id\na\nb\"c\nd\n", InputOptions{}, 3, "quote"},
		{"unclosed quote", "call_id\na\n\"b\nc\n", InputOptions{}, 3, "not closed"},
		{"missing column", "name,phone\na,1\n", InputOptions{}, 1, "no ID column"},
		{"named column missing", "call_id\na\n", InputOptions{Column: "uuid"}, 1, `no column "uuid"`},
		{"empty file", "", InputOptions{}, 0, "empty"},
		{"column with no header", "a\n", InputOptions{NoHeader: true, Column: "x"}, 0, "--no-header"},
		{"bare quote after BOM and CRLF", "\ufeffcall_id\r\nok\r\nx\"y\r\n", InputOptions{}, 3, "quote"},
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
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q does not say %q", err, tc.want)
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
	if CheckID(strings.Repeat("é", 64)) != "" || CheckID(strings.Repeat("x", 128)) != "" {
		t.Error("128-byte IDs must be valid")
	}
}
