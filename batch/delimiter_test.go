package batch

import (
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

// TestReadInputStraySeparator: a stray separator in a few rows is no
// error (when the first IDs all hold one, TestReadInputErrors): those rows
// become invalid_id.
func TestReadInputStraySeparator(t *testing.T) {
	t.Parallel()
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
