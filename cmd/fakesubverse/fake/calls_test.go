package fake_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestSeed(t *testing.T) {
	t.Parallel()
	a := fake.New(fake.Options{Seed: 42})
	ids := a.Seed(1000)
	if len(ids) != 1000 {
		t.Fatalf("Seed(1000) returned %d IDs", len(ids))
	}
	seen := map[string]bool{}
	mix := map[fake.Status]int{}
	for _, id := range ids {
		if !objectID.MatchString(id) {
			t.Fatalf("ID %q is not 24 lowercase hex", id)
		}
		if seen[id] {
			t.Fatalf("ID %q repeated", id)
		}
		seen[id] = true
		c, ok := a.Call(id)
		if !ok || c.Requests != 0 {
			t.Fatalf("Call(%q) = %+v, %v", id, c, ok)
		}
		mix[c.Status]++
	}
	want := map[fake.Status]int{fake.StatusQueued: 600, fake.StatusPlaced: 150,
		fake.StatusInProgress: 100, fake.StatusCompleted: 100, fake.StatusCanceled: 50}
	for st, n := range want {
		if mix[st] != n {
			t.Errorf("%d calls %s, want %d (mix %v)", mix[st], st, n, mix)
		}
	}

	b := fake.New(fake.Options{Seed: 42})
	again := append(b.Seed(400), b.Seed(600)...)
	for i := range ids {
		if ids[i] != again[i] {
			t.Fatalf("ID %d differs for the same seed: %s vs %s", i, ids[i], again[i])
		}
		ca, _ := a.Call(ids[i])
		cb, _ := b.Call(ids[i])
		if ca.Status != cb.Status {
			t.Fatalf("status of %s differs for the same seed", ids[i])
		}
	}
	if other := fake.New(fake.Options{Seed: 43}).Seed(1); other[0] == ids[0] {
		t.Error("a different seed gave the same first ID")
	}
	if n := len(a.Calls()); n != 1000 {
		t.Errorf("Calls() has %d entries", n)
	}
}

func TestAddReplaces(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	s.Add("x", fake.StatusQueued)
	cancel(t, base, "x")
	s.Add("x", fake.StatusQueued)
	if c, _ := s.Call("x"); c.Status != fake.StatusQueued || c.Requests != 0 || c.Cancels != 0 {
		t.Errorf("after re-Add: %+v", c)
	}
}

func TestLoadCalls(t *testing.T) {
	t.Parallel()
	s := fake.New(fake.Options{})
	in := "\uFEFFCall_ID, Status\r\nq1,call_in_queue\r\n\r\n\"p 1\",call_placed\n done ,completed\n"
	if err := s.LoadCalls(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	want := []fake.Call{{ID: "done", Status: fake.StatusCompleted}, {ID: "p 1", Status: fake.StatusPlaced},
		{ID: "q1", Status: fake.StatusQueued}}
	if got := s.Calls(); !slices.Equal(got, want) {
		t.Errorf("Calls() = %+v, want %+v", got, want)
	}
}

func TestLoadCallsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, wantLine string }{
		{"empty", "", "line 1"},
		{"bad header", "id,state\nx,completed\n", "line 1"},
		{"one column", "call_id\nx\n", "line 1"},
		{"unknown status", "call_id,status\nx,completed\ny,queued\n", "line 3"},
		{"empty id", "call_id,status\nx,completed\n ,call_in_queue\n", "line 3"},
		{"field count", "call_id,status\nx,completed,extra\n", "line 2"},
		{"duplicate", "call_id,status\nx,completed\n\ny,completed\nx,call_in_queue\n", "line 5"},
		{"bare quote", "call_id,status\nx,completed\na\"b,completed\n", "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fake.New(fake.Options{})
			err := s.LoadCalls(strings.NewReader(tt.in))
			if !errors.Is(err, fake.ErrBadCalls) || !strings.Contains(err.Error(), tt.wantLine) {
				t.Errorf("LoadCalls = %v, want ErrBadCalls naming %s", err, tt.wantLine)
			}
			if n := len(s.Calls()); n != 0 {
				t.Errorf("a failed load added %d calls", n)
			}
		})
	}
}
