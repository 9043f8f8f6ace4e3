package fake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

func TestEnvelopeFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     fake.Faults
		wantCode   int
		wantBody   string
		wantRetry  string
		keepsCode  bool // HTTP status unchanged in Envelope200 mode
		wantStatus fake.Status
	}{
		{"500", fake.Faults{P500: 1}, 500, `{"responseCode":500,"message":"Internal server error","data":null}`, "", false, fake.StatusQueued},
		{"503", fake.Faults{P503: 1, RetryAfter: 1500 * time.Millisecond}, 503, `{"responseCode":503,"message":"Service unavailable","data":null}`, "2", false, fake.StatusQueued},
		{"429", fake.Faults{P429: 1, RetryAfter: 3 * time.Second}, 429, `{"responseCode":429,"message":"Too many requests","data":null}`, "3", false, fake.StatusQueued},
		{"429 short retry", fake.Faults{P429: 1, RetryAfter: time.Millisecond}, 429, `{"responseCode":429,"message":"Too many requests","data":null}`, "1", false, fake.StatusQueued},
		{"429 no retry-after", fake.Faults{P429: 1}, 429, `{"responseCode":429,"message":"Too many requests","data":null}`, "", false, fake.StatusQueued},
		{"502", fake.Faults{PBadGateway: 1}, 502, "", "", true, fake.StatusQueued},
		{"malformed", fake.Faults{PMalformed: 1}, 200, `{"responseCode":200,"mess`, "", true, fake.StatusQueued},
	}
	for _, env200 := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s, base := faketest.StartFake(t, fake.Options{Envelope200: env200, Faults: tt.faults})
				s.Add("c1", fake.StatusQueued)
				r := cancel(t, base, "c1")
				wantCode := tt.wantCode
				if env200 && !tt.keepsCode {
					wantCode = 200
				}
				if r.code != wantCode {
					t.Errorf("HTTP %d, want %d", r.code, wantCode)
				}
				if tt.wantBody != "" && r.body != tt.wantBody {
					t.Errorf("body %s, want %s", r.body, tt.wantBody)
				}
				if got := r.header.Get("Retry-After"); got != tt.wantRetry {
					t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
				}
				if c, _ := s.Call("c1"); c.Status != tt.wantStatus || c.Requests != 1 {
					t.Errorf("call after = %+v", c)
				}
				if s.Stats().Injected != 1 {
					t.Errorf("Injected = %d, want 1", s.Stats().Injected)
				}
				// The 502 is a proxy's HTML page; the malformed body is not JSON.
				html := strings.HasPrefix(r.header.Get("Content-Type"), "text/html") && strings.Contains(r.body, "502 Bad Gateway")
				if tt.keepsCode && (json.Valid([]byte(r.body)) || html != (tt.wantCode == 502)) {
					t.Errorf("answer = %q %s", r.header.Get("Content-Type"), r.body)
				}
			})
		}
	}
}

func TestDrops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults fake.Faults
		want   fake.Status
	}{
		{"before", fake.Faults{PDropBefore: 1}, fake.StatusQueued},
		{"after", fake.Faults{PDropAfter: 1}, fake.StatusCanceled},
	}
	for _, env200 := range []bool{false, true} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s, base := faketest.StartFake(t, fake.Options{Envelope200: env200, Faults: tt.faults})
				s.Add("c1", fake.StatusQueued)
				r, err := send(context.Background(), http.MethodPut, base, "/call/cancel/c1", key, "")
				if err == nil {
					t.Fatalf("dropped request got an answer: %d %s", r.code, r.body)
				}
				c, _ := s.Call("c1")
				if c.Status != tt.want || c.Requests != 1 {
					t.Errorf("call after drop = %+v, want status %s", c, tt.want)
				}
			})
		}
	}
}

func TestTruncated(t *testing.T) {
	t.Parallel()
	for _, env200 := range []bool{false, true} {
		s, base := faketest.StartFake(t, fake.Options{Envelope200: env200, Faults: fake.Faults{PTruncated: 1}})
		s.Add("c1", fake.StatusQueued)
		req, err := http.NewRequest(http.MethodPut, base+"/call/cancel/c1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-api-key", key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("headers not received: %v", err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("reading truncated body: err = %v (read %q), want unexpected EOF", err, b)
		}
		if resp.StatusCode != 200 || resp.ContentLength <= int64(len(b)) {
			t.Errorf("HTTP %d, Content-Length %d, read %d", resp.StatusCode, resp.ContentLength, len(b))
		}
		if c, _ := s.Call("c1"); c.Status != fake.StatusCanceled {
			t.Errorf("truncated answer did not apply the cancel: %+v", c)
		}
	}
}

func TestFirstN(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{Faults: fake.Faults{P500: 1, FirstN: 1}})
	s.Add("c1", fake.StatusQueued)
	s.Add("c2", fake.StatusQueued)
	if r := cancel(t, base, "c1"); r.code != 500 {
		t.Errorf("1st request of c1 = %d, want 500", r.code)
	}
	if r := cancel(t, base, "c1"); r.body != bodyCanceled {
		t.Errorf("2nd request of c1 = %d %s, want canceled", r.code, r.body)
	}
	if r := cancel(t, base, "c2"); r.code != 500 {
		t.Errorf("1st request of c2 = %d, want 500 (FirstN is per ID)", r.code)
	}
}

func TestSetFaultsAtRunTime(t *testing.T) {
	t.Parallel()
	s, base := faketest.StartFake(t, fake.Options{})
	s.Add("c1", fake.StatusQueued)
	s.SetFaults(fake.Faults{P503: 1})
	if r := cancel(t, base, "c1"); r.code != 503 {
		t.Errorf("after SetFaults: %d", r.code)
	}
	s.SetFaults(fake.Faults{})
	if r := cancel(t, base, "c1"); r.code != 200 {
		t.Errorf("after clearing faults: %d", r.code)
	}
}

func TestFaultMixIsDeterministic(t *testing.T) {
	t.Parallel()
	f := fake.Faults{Seed: 3, P500: 0.2, P429: 0.2, PDropBefore: 0.1}
	outcome := func() []int {
		s, base := faketest.StartFake(t, fake.Options{Faults: f, Seed: 3})
		var codes []int
		for _, id := range s.Seed(200) {
			r, err := send(context.Background(), http.MethodPut, base, "/call/cancel/"+id, key, "")
			if err != nil {
				codes = append(codes, -1)
				continue
			}
			codes = append(codes, r.code)
		}
		return codes
	}
	a, b := outcome(), outcome()
	count := map[int]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %d then %d with the same seed", i, a[i], b[i])
		}
		count[a[i]]++
	}
	if count[500] == 0 || count[429] == 0 || count[-1] == 0 || count[500]+count[429]+count[-1] > 120 {
		t.Errorf("fault mix over 200 requests = %v", count)
	}
}

func TestLatencyStopsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	s := fake.New(fake.Options{APIKey: key, Faults: fake.Faults{Latency: time.Hour}})
	s.Add("c1", fake.StatusQueued)
	ts := httptest.NewServer(s)
	arrived := make(chan struct{})
	s.SetHook(func(context.Context, string, int) { close(arrived) })
	ctx, cancelReq := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := send(ctx, http.MethodPut, ts.URL, "/call/cancel/c1", key, "")
		errc <- err
	}()
	<-arrived
	cancelReq()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v", err)
	}
	ts.Close() // waits for the handler: hangs if it ignored the context
	if c, _ := s.Call("c1"); c.Status != fake.StatusQueued {
		t.Errorf("a request abandoned during latency was applied: %+v", c)
	}
}

func TestFaultsValidate(t *testing.T) {
	t.Parallel()
	bad := []fake.Faults{
		{P500: -0.1},
		{P429: 1.5},
		{P500: 0.6, P503: 0.6},
		{Latency: -1},
		{RetryAfter: -time.Second},
		{FirstN: -1},
	}
	for _, f := range bad {
		if err := f.Validate(); !errors.Is(err, fake.ErrBadFaults) {
			t.Errorf("Validate(%+v) = %v, want ErrBadFaults", f, err)
		}
	}
	good := fake.Faults{P500: 0.5, P503: 0.25, PTruncated: 0.25, Latency: time.Millisecond}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", good, err)
	}
}
