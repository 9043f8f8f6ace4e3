package fake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// key is the key the tests send; a fake accepts it unless its options say
// another.
const key = fake.DefaultAPIKey

// client sends the tests' requests. It has a transport of its own:
// every httptest.Server.Close closes http.DefaultTransport's idle
// connections, which can break one a parallel test is using.
var client = &http.Client{Transport: &http.Transport{}}

type reply struct {
	code   int
	body   string
	header http.Header
}

// send makes one request to base+path with apiKey in x-api-key when it is
// not empty. path is sent on the request line exactly as given, escapes and
// all.
func send(ctx context.Context, method, base, path, apiKey, body string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base, rd)
	if err != nil {
		return reply{}, err
	}
	req.URL.Opaque = path
	if apiKey != "" {
		req.Header.Set("x-api-key", apiKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, body: string(b), header: resp.Header}, err
}

// do is send that fails the test on a transport error.
func do(t *testing.T, method, base, path, apiKey, body string) reply {
	t.Helper()
	r, err := send(context.Background(), method, base, path, apiKey, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// cancel sends PUT base/call/cancel/{escaped id} with the right key.
func cancel(t *testing.T, base, id string) reply {
	t.Helper()
	return do(t, http.MethodPut, base, "/call/cancel/"+url.PathEscape(id), key, "")
}

const (
	bodyCanceled   = `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`
	bodyIDMissing  = `{"responseCode":400,"message":"Call id missing","data":null}`
	bodyNotFound   = `{"responseCode":400,"message":"User call not found.","data":null}`
	bodyNotInQueue = `{"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue.","data":null}`
	bodyKeyMissing = `{"responseCode":401,"message":"Api key is missing","errorCode":"apiKeyMissing","data":null}`
	bodyKeyInvalid = `{"responseCode":401,"message":"Invalid API key","errorCode":"apiKeyInvalid","data":null}`
)

func TestCancelAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   fake.Status // status of call "c1" before the request; "" = absent
		path     string
		apiKey   string
		wantCode int
		wantBody string
		after    fake.Status
	}{
		{"queued", fake.StatusQueued, "/call/cancel/c1", key, 200, bodyCanceled, fake.StatusCanceled},
		{"api prefix", fake.StatusQueued, "/api/call/cancel/c1", key, 200, bodyCanceled, fake.StatusCanceled},
		{"placed", fake.StatusPlaced, "/call/cancel/c1", key, 400, bodyNotInQueue, fake.StatusPlaced},
		{"in progress", fake.StatusInProgress, "/call/cancel/c1", key, 400, bodyNotInQueue, fake.StatusInProgress},
		{"completed", fake.StatusCompleted, "/call/cancel/c1", key, 400, bodyNotInQueue, fake.StatusCompleted},
		{"already canceled", fake.StatusCanceled, "/call/cancel/c1", key, 400, bodyNotInQueue, fake.StatusCanceled},
		{"failed", fake.StatusFailed, "/call/cancel/c1", key, 400, bodyNotInQueue, fake.StatusFailed},
		{"unknown", "", "/call/cancel/c1", key, 400, bodyNotFound, ""},
		{"empty id slash", fake.StatusQueued, "/call/cancel/", key, 400, bodyIDMissing, fake.StatusQueued},
		{"empty id", fake.StatusQueued, "/api/call/cancel", key, 400, bodyIDMissing, fake.StatusQueued},
		{"key missing", fake.StatusQueued, "/call/cancel/c1", "", 401, bodyKeyMissing, fake.StatusQueued},
		{"key wrong", fake.StatusQueued, "/call/cancel/c1", "nope", 401, bodyKeyInvalid, fake.StatusQueued},
		{"key checked before id", "", "/call/cancel/", "nope", 401, bodyKeyInvalid, ""},
	}
	for _, env200 := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name
			if env200 {
				name += "/envelope200"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s, base := faketest.StartFake(t, fake.Options{Envelope200: env200})
				if tt.status != "" {
					s.Add("c1", tt.status)
				}
				r := do(t, http.MethodPut, base, tt.path, tt.apiKey, "")
				wantCode := tt.wantCode
				if env200 {
					wantCode = 200
				}
				if r.code != wantCode || r.body != tt.wantBody {
					t.Errorf("got %d %s, want %d %s", r.code, r.body, wantCode, tt.wantBody)
				}
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type = %q", ct)
				}
				c, _ := s.Call("c1")
				if c.Status != tt.after {
					t.Errorf("status after = %q, want %q", c.Status, tt.after)
				}
				if st := s.Stats(); st.Requests != 1 {
					t.Errorf("Stats.Requests = %d, want 1", st.Requests)
				}
			})
		}
	}
}

func TestAuthFailuresCounted(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	s.Add("c1", fake.StatusQueued)
	for _, k := range []string{"", "wrong", key} {
		do(t, http.MethodPut, base, "/call/cancel/c1", k, "")
	}
	st := s.Stats()
	if st.AuthFailures != 2 || st.Requests != 3 || st.Cancels != 1 {
		t.Errorf("stats = %+v, want 2 auth failures, 3 requests, 1 cancel", st)
	}
	if c, _ := s.Call("c1"); c.Requests != 3 || c.Cancels != 1 {
		t.Errorf("call = %+v, want 3 requests, 1 cancel", c)
	}
	if st.FirstArrival.IsZero() || st.LastArrival.Before(st.FirstArrival) {
		t.Errorf("arrivals %v .. %v", st.FirstArrival, st.LastArrival)
	}
	s.SetAPIKey("other")
	if r := cancel(t, base, "c1"); r.code != 401 {
		t.Errorf("after SetAPIKey the old key got %d", r.code)
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	s.Add("a", fake.StatusQueued)
	tests := []struct {
		method, path string
		wantCode     int
	}{
		{http.MethodGet, "/call/cancel/a", 404},
		{http.MethodPost, "/call/cancel/a", 404},
		{http.MethodPut, "/call/cancel/a/b", 404},
		{http.MethodPut, "/call/cancel/a/", 404},
		{http.MethodPut, "/call/cancelled/a", 404},
		{http.MethodPut, "/api//call/cancel/a", 404},
		{http.MethodPut, "/v2/call/cancel/a", 404},
		{http.MethodGet, "/call/trigger", 404},
		{http.MethodPut, "/call/cancel/bad%zzescape", 400}, // refused by net/http itself
	}
	for _, tt := range tests {
		r := do(t, tt.method, base, tt.path, key, "")
		if r.code != tt.wantCode {
			t.Errorf("%s %s = %d %s, want %d", tt.method, tt.path, r.code, r.body, tt.wantCode)
		}
	}
	if c, _ := s.Call("a"); c.Requests != 0 || c.Status != fake.StatusQueued {
		t.Errorf("misrouted requests touched call a: %+v", c)
	}
	if _, ok := s.Call("a/b"); ok {
		t.Error("an unescaped slash was taken as part of one ID")
	}
}

func TestPathSegmentDecoding(t *testing.T) {
	t.Parallel()
	ids := []string{"a/b", "../x", "..%2Fx", "x?y=1", "x%3Fy=1", "%2e%2e", "%252e%252e", "é", "sp ace",
		"a+b", "#frag", "semi;colon", "tab\tin", "100%"}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			s, base := faketest.StartFake(t, fake.Options{})
			s.Add(id, fake.StatusQueued)
			if r := cancel(t, base, id); r.code != 200 {
				t.Fatalf("cancel %q = %d %s", id, r.code, r.body)
			}
			c, ok := s.Call(id)
			if !ok || c.Requests != 1 || c.Status != fake.StatusCanceled {
				t.Errorf("Call(%q) = %+v, %v; want one request, canceled", id, c, ok)
			}
			if n := len(s.Calls()); n != 1 {
				t.Errorf("%d records, want 1: %+v", n, s.Calls())
			}
		})
	}
}

func TestUnknownIDRecorded(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	if _, ok := s.Call("ghost"); ok {
		t.Fatal("Call reports an ID never added nor requested")
	}
	cancel(t, base, "ghost")
	cancel(t, base, "ghost")
	c, ok := s.Call("ghost")
	if !ok || c.Status != "" || c.Requests != 2 || c.Cancels != 0 {
		t.Errorf("Call(ghost) = %+v, %v; want 2 requests, empty status", c, ok)
	}
}

func TestConcurrentCancelsOneID(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	s.Add("hot", fake.StatusQueued)
	const n = 50
	startGun := make(chan struct{})
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-startGun
			r, err := send(context.Background(), http.MethodPut, base, "/call/cancel/hot", key, "")
			if err != nil {
				t.Error(err)
				return
			}
			codes <- r.code
		})
	}
	close(startGun)
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		if c == 200 {
			ok++
		}
	}
	c, _ := s.Call("hot")
	if ok != 1 || c.Cancels != 1 || c.Requests != n || s.Stats().Cancels != 1 {
		t.Errorf("%d successes, call %+v; want exactly 1 cancel of %d requests", ok, c, n)
	}
}

func TestMaxInFlightWithHook(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	const n = 10
	release := make(chan struct{})
	var mu sync.Mutex
	arrived := 0
	var seen []int
	s.SetHook(func(ctx context.Context, id string, k int) {
		mu.Lock()
		arrived++
		seen = append(seen, k)
		if arrived == n {
			close(release)
		}
		mu.Unlock()
		<-release
	})
	var wg sync.WaitGroup
	for i := range n {
		id := "id" + string(rune('a'+i))
		s.Add(id, fake.StatusQueued)
		wg.Go(func() { cancel(t, base, id) })
	}
	wg.Wait()
	if st := s.Stats(); st.MaxInFlight != n || st.InFlight != 0 {
		t.Errorf("MaxInFlight = %d, InFlight = %d; want %d, 0", st.MaxInFlight, st.InFlight, n)
	}
	for _, k := range seen {
		if k != 1 {
			t.Errorf("hook saw request number %d, want 1", k)
		}
	}
	s.SetHook(nil)
	if r := cancel(t, base, "ida"); r.body != bodyNotInQueue {
		t.Errorf("second cancel = %s", r.body)
	}
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 || st.MaxInFlight != 0 || !st.FirstArrival.IsZero() {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestTriggerThenCancel(t *testing.T) {
	t.Parallel()
	for _, env200 := range []bool{false, true} {
		s, base := faketest.StartFake(t, fake.Options{Envelope200: env200, Seed: 7})
		r := do(t, http.MethodPost, base, "/api/call/trigger", key, `{"phoneNumber":"+15550100"}`)
		var env struct {
			ResponseCode int
			Message      string
			Data         struct{ CallID string }
		}
		if err := json.Unmarshal([]byte(r.body), &env); err != nil || r.code != 200 || env.ResponseCode != 200 {
			t.Fatalf("trigger = %d %s (%v)", r.code, r.body, err)
		}
		id := env.Data.CallID
		if len(id) != 24 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Errorf("trigger id %q is not 24 lowercase hex", id)
		}
		if c, ok := s.Call(id); !ok || c.Status != fake.StatusQueued {
			t.Errorf("triggered call = %+v, %v", c, ok)
		}
		if r := cancel(t, base, id); r.body != bodyCanceled {
			t.Errorf("cancel triggered call = %s", r.body)
		}
		if st := s.Stats(); st.Triggers != 1 || st.Cancels != 1 {
			t.Errorf("stats = %+v", st)
		}

		for _, bad := range []struct{ apiKey, body, want string }{
			{"", `{}`, bodyKeyMissing},
			{key, `not json`, `{"responseCode":400,"message":"Invalid request body","data":null}`},
			{key, `[1]`, `{"responseCode":400,"message":"Invalid request body","data":null}`},
		} {
			r := do(t, http.MethodPost, base, "/call/trigger", bad.apiKey, bad.body)
			if r.body != bad.want {
				t.Errorf("trigger %q = %s, want %s", bad.body, r.body, bad.want)
			}
			if env200 && r.code != 200 || !env200 && r.code == 200 {
				t.Errorf("trigger %q: HTTP %d in envelope200=%v", bad.body, r.code, env200)
			}
		}
		if st := s.Stats(); st.Triggers != 1 {
			t.Errorf("rejected triggers were counted: %d", st.Triggers)
		}
	}
}
