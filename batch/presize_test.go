package batch

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestReadInputSizeHint: the IDs are the same whether the size hint is
// right, far too small, far too large, or absent, with extra columns
// (which the hint counts and the IDs do not).
func TestReadInputSizeHint(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,call_id,status,notes\n")
	for i := range 3 * sizeSample {
		fmt.Fprintf(&b, "n%d,id-%d,call_in_queue,%s\n", i, i, strings.Repeat("z", i%50))
	}
	data := b.String()
	var want []string
	for _, hint := range []int64{0, int64(len(data)), 100, 100 * int64(len(data))} {
		in, err := ReadInput(strings.NewReader(data), "in.csv", InputOptions{SizeHint: hint})
		if err != nil {
			t.Fatalf("hint %d: %v", hint, err)
		}
		got := readIDs(t, in)
		if want == nil {
			want = got
			if len(want) != 3*sizeSample || want[0] != "id-0" || want[len(want)-1] != fmt.Sprintf("id-%d", 3*sizeSample-1) {
				t.Fatalf("IDs %d: %q ... %q", len(want), want[0], want[len(want)-1])
			}
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("hint %d: the IDs differ", hint)
		}
	}
}
