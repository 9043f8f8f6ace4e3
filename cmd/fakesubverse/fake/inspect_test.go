package fake_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// get fetches an inspection route (no key) and decodes its JSON into v.
func get(t *testing.T, base, path string, v any) int {
	t.Helper()
	r := do(t, http.MethodGet, base, path, "", "")
	if v != nil && r.code == 200 {
		if err := json.Unmarshal([]byte(r.body), v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, r.body)
		}
	}
	return r.code
}

func TestInspectCalls(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	s.Add("q", fake.StatusQueued)
	s.Add("a/b", fake.StatusQueued)
	s.Add("done", fake.StatusCompleted)
	cancel(t, base, "a/b")
	cancel(t, base, "ghost")

	var all []fake.Call
	get(t, base, "/_fake/calls", &all)
	want := []fake.Call{
		{ID: "a/b", Status: fake.StatusCanceled, Requests: 1, Cancels: 1},
		{ID: "done", Status: fake.StatusCompleted},
		{ID: "ghost", Requests: 1},
		{ID: "q", Status: fake.StatusQueued},
	}
	if !slices.Equal(all, want) {
		t.Errorf("calls = %+v, want %+v", all, want)
	}

	var queued []fake.Call
	get(t, base, "/api/_fake/calls?status=call_in_queue", &queued)
	if len(queued) != 1 || queued[0].ID != "q" {
		t.Errorf("queued = %+v", queued)
	}
	r, _ := send(context.Background(), http.MethodGet, base, "/_fake/calls?status=nope", "", "")
	if strings.TrimSpace(r.body) != "[]" {
		t.Errorf("empty filter = %s, want []", r.body)
	}

	var one fake.Call
	if code := get(t, base, "/_fake/calls/"+url.PathEscape("a/b"), &one); code != 200 || one != want[0] {
		t.Errorf("one call = %d %+v", code, one)
	}
	if code := get(t, base, "/_fake/calls/never", nil); code != 404 {
		t.Errorf("unseen call = %d, want 404", code)
	}
	if code := get(t, base, "/_fake/nothing", nil); code != 404 {
		t.Errorf("unknown route = %d, want 404", code)
	}
}

func TestInspectStats(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	var st map[string]any
	get(t, base, "/_fake/stats", &st)
	if st["first_arrival"] != nil || st["requests"] != 0.0 {
		t.Errorf("fresh stats = %v", st)
	}
	s.Add("q", fake.StatusQueued)
	cancel(t, base, "q")
	send(context.Background(), http.MethodPut, base, "/call/cancel/q", "bad", "")
	get(t, base, "/_fake/stats", &st)
	for k, want := range map[string]float64{"requests": 2, "cancels": 1, "in_flight": 0,
		"max_in_flight": 1, "triggers": 0, "auth_failures": 1, "injected": 0} {
		if st[k] != want {
			t.Errorf("%s = %v, want %v", k, st[k], want)
		}
	}
	first, _ := st["first_arrival"].(string)
	if _, err := time.Parse(time.RFC3339Nano, first); err != nil {
		t.Errorf("first_arrival %q: %v", first, err)
	}
}

func TestInspectFaults(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	body := `{"p500":0.25,"p_drop_after":0.5,"retry_after":"2s","latency":"250ms","first_n":2,"seed":5}`
	r, err := send(context.Background(), http.MethodPut, base, "/_fake/faults", "", body)
	if err != nil || r.code != 200 {
		t.Fatalf("PUT faults = %d %s %v", r.code, r.body, err)
	}
	want := fake.Faults{Seed: 5, P500: 0.25, PDropAfter: 0.5, RetryAfter: 2 * time.Second,
		Latency: 250 * time.Millisecond, FirstN: 2}
	if got := s.Faults(); got != want {
		t.Errorf("Faults() = %+v, want %+v", got, want)
	}
	var back map[string]any
	get(t, base, "/_fake/faults", &back)
	if back["latency"] != "250ms" || back["p_drop_after"] != 0.5 || back["latency_jitter"] != "0s" {
		t.Errorf("GET faults = %v", back)
	}

	for _, bad := range []string{`{"p502":1}`, `{"p500":2}`, `{"latency":250}`, `{"latency":"soon"}`, `not json`} {
		r, err := send(context.Background(), http.MethodPut, base, "/_fake/faults", "", bad)
		if err != nil || r.code != 400 || !strings.Contains(r.body, "error") {
			t.Errorf("PUT faults %s = %d %s %v, want 400", bad, r.code, r.body, err)
		}
	}
	if got := s.Faults(); got != want {
		t.Errorf("a refused PUT changed the faults: %+v", got)
	}
	r, err = send(context.Background(), http.MethodPatch, base, "/_fake/faults", "", `{"p500":0,"latency":"1s"}`)
	if err != nil || r.code != 200 {
		t.Fatalf("PATCH faults = %d %s %v", r.code, r.body, err)
	}
	want.P500, want.Latency = 0, time.Second
	if got := s.Faults(); got != want {
		t.Errorf("after PATCH Faults() = %+v, want %+v", got, want)
	}
	if st := s.Stats(); st.Requests != 0 {
		t.Errorf("inspection counted as API requests: %d", st.Requests)
	}
}
