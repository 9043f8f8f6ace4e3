package batch

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	names := []string{"dry-run", "column", "no-header", "yes", "rate", "report", "resume"}
	for _, tc := range []struct{ word, want string }{
		{"dryrun", "dry-run"},
		{"dyr-run", "dry-run"},
		{"colum", "column"},
		{"COLUMN", "column"},
		{"noheader", "no-header"},
		{"rat", "rate"},
		{"ye", "yes"},
		{"reprot", "report"},
		{"x", ""},
		{"bogus", ""},
		{"verbose", ""},
		{"rsm", ""},
	} {
		if got := Closest(tc.word, names); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}
