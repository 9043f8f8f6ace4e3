package batch

import (
	"testing"
)

// TestClassifyEnvelopes walks testdata/envelopes: every file there must
// have a case, and every envelope must classify the same with its real
// HTTP status and inside an HTTP 200 ("always returns 200" mode).
func TestClassifyEnvelopes(t *testing.T) {
	type want struct {
		status  int
		outcome Outcome
	}
	cases := map[string]struct {
		envelope bool   // an envelope: also classified inside HTTP 200
		code     int    // expected ResponseCode
		message  string // expected Message ("" = not checked)
		removed  int    // expected RemovedJobs
		wants    []want
	}{
		"success.json":             {true, 200, "Call canceled successfully!", 1, []want{{200, Canceled}}},
		"success-zero-jobs.json":   {true, 200, "", 0, []want{{200, Canceled}}},
		"missing-call-id.json":     {true, 400, "Call id missing", -1, []want{{400, InvalidID}}},
		"id-required.json":         {true, 400, "", -1, []want{{400, InvalidID}}},
		"call-not-found.json":      {true, 400, "User call not found.", -1, []want{{400, NotFound}, {404, NotFound}}},
		"not-in-queue.json":        {true, 400, "", -1, []want{{400, NotCancelable}, {409, NotCancelable}}},
		"not-in-queue-loose.json":  {true, 400, "", -1, []want{{400, NotCancelable}}},
		"key-missing.json":         {true, 401, "Api key is missing", -1, []want{{401, Unauthorized}}},
		"key-invalid.json":         {true, 401, "", -1, []want{{401, Unauthorized}}},
		"key-invalid-no-code.json": {true, 0, "", -1, []want{{401, Unauthorized}, {400, Unauthorized}}},
		"forbidden.json":           {true, 403, "", -1, []want{{403, Unauthorized}}},
		"too-many-requests.json":   {true, 429, "", -1, []want{{429, RateLimited}}},
		"internal-error.json":      {true, 500, "", -1, []want{{500, ServerError}}},
		"unavailable.json":         {true, 503, "", -1, []want{{503, ServerError}}},
		"unknown-message.json":     {true, 400, "Something new went wrong", -1, []want{{400, UnexpectedResponse}}},
		"truncated.json":           {false, 0, "", -1, []want{{200, UnexpectedResponse}, {500, ServerError}}},
		"empty.txt":                {false, 0, "", -1, []want{{200, UnexpectedResponse}, {204, UnexpectedResponse}, {502, ServerError}, {401, Unauthorized}, {429, RateLimited}}},
		"bad-gateway.html":         {false, 0, "", -1, []want{{502, ServerError}, {200, UnexpectedResponse}, {404, UnexpectedResponse}}},
		"cloudflare-503.html":      {false, 0, "", -1, []want{{503, ServerError}}},
		"json-array.json":          {false, 0, "", -1, []want{{200, UnexpectedResponse}, {503, ServerError}}},
		"json-not-envelope.json":   {false, 0, "", -1, []want{{200, UnexpectedResponse}, {301, UnexpectedResponse}}},
	}
	for _, e := range readEnvelopes(t) {
		name, body := e.name, e.body
		tc, ok := cases[name]
		if !ok {
			t.Errorf("%s has no case in this table", name)
			continue
		}
		delete(cases, name)
		t.Run(name, func(t *testing.T) {
			statuses := tc.wants
			if tc.envelope {
				statuses = append(statuses, want{200, tc.wants[0].outcome})
			}
			for _, w := range statuses {
				v := Classify(w.status, body)
				if v.Outcome != w.outcome {
					t.Errorf("HTTP %d: outcome %s, want %s (detail %q)", w.status, v.Outcome, w.outcome, v.Detail)
				}
				if v.ResponseCode != tc.code {
					t.Errorf("HTTP %d: responseCode %d, want %d", w.status, v.ResponseCode, tc.code)
				}
				if tc.message != "" && v.Message != tc.message {
					t.Errorf("HTTP %d: message %q, want %q", w.status, v.Message, tc.message)
				}
				if v.RemovedJobs != tc.removed {
					t.Errorf("HTTP %d: removedJobs %d, want %d", w.status, v.RemovedJobs, tc.removed)
				}
				if v.Outcome == UnexpectedResponse && v.Detail == "" {
					t.Errorf("HTTP %d: unexpected_response without a detail", w.status)
				}
			}
		})
	}
	for name := range cases {
		t.Errorf("case %s has no file in testdata/envelopes", name)
	}
}

func TestClassifyInline(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		want   Outcome
	}{
		{"envelope wins over HTTP 500", 500, `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`, Canceled},
		{"envelope 5xx inside HTTP 200 retried as server error", 200, `{"responseCode":502,"message":"upstream"}`, ServerError},
		{"envelope 429 inside HTTP 200", 200, `{"responseCode":429,"message":"slow down"}`, RateLimited},
		{"key rejected with responseCode 400", 200, `{"responseCode":400,"message":"Invalid API Key!","data":null}`, Unauthorized},
		{"errorCode alone rejects the key", 200, `{"responseCode":400,"message":"nope","errorCode":"apiKeyMissing"}`, Unauthorized},
		{"success code with a failure message", 200, `{"responseCode":200,"message":"Call could not be canceled"}`, UnexpectedResponse},
		{"failure code with a success message", 200, `{"responseCode":400,"message":"Call canceled successfully!"}`, UnexpectedResponse},
		{"not in queue inside HTTP 200 with code 200", 200, `{"responseCode":200,"message":"This call cannot be canceled as it is no longer in queue."}`, NotCancelable},
		{"removedJobs without a known message", 200, `{"responseCode":200,"message":"OK","data":{"removedJobs":2}}`, Canceled},
		{"redirect with a success envelope is still a redirect", 307, `{"responseCode":200,"message":"Call canceled successfully!"}`, UnexpectedResponse},
		{"redirect with a body", 302, `<a href="https://elsewhere">moved</a>`, UnexpectedResponse},
		{"null responseCode and no message is not an envelope", 503, `{"responseCode":null}`, ServerError},
		{"whitespace around an envelope", 400, " \n{\"responseCode\":400,\"message\":\"User call not found.\"}\n ", NotFound},
		{"numeric string code", 200, `{"responseCode":"429","message":"x"}`, RateLimited},
		{"odd message type does not hide a 401", 200, `{"responseCode":401,"message":{"text":"x"},"errorCode":401}`, Unauthorized},
		{"numeric message with a 5xx code", 200, `{"responseCode":503,"message":503}`, ServerError},
		{"fractional code is not a code", 200, `{"responseCode":200.5,"message":"Call canceled successfully!"}`, Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.status, []byte(tc.body)); got.Outcome != tc.want {
				t.Errorf("Classify(%d, %s) = %s (%s), want %s", tc.status, tc.body, got.Outcome, got.Detail, tc.want)
			}
		})
	}
}

func TestOutcomeFinal(t *testing.T) {
	t.Parallel()
	final := map[Outcome]bool{Canceled: true, NotCancelable: true, NotFound: true, InvalidID: true, Duplicate: true}
	for _, o := range Outcomes {
		if o.Final() != final[o] {
			t.Errorf("%s.Final() = %v, want %v", o, o.Final(), final[o])
		}
		if !o.Known() {
			t.Errorf("%s not Known", o)
		}
	}
	if Outcome("bogus").Known() {
		t.Error("bogus outcome is Known")
	}
}

// TestResponseCodeOutsideRangeIsKept: a responseCode outside 0-999 is no
// HTTP-like code, so the HTTP status stands in for it when classifying,
// but it is kept for the report.
func TestResponseCodeOutsideRangeIsKept(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		code   int
		want   Outcome
	}{
		{400, `{"responseCode":4001,"message":"something new"}`, 4001, UnexpectedResponse},
		{500, `{"responseCode":-1,"message":"boom"}`, -1, ServerError},
		{200, `{"responseCode":"1000","message":"This call is no longer in queue"}`, 1000, NotCancelable},
	} {
		v := Classify(tc.status, []byte(tc.body))
		if v.ResponseCode != tc.code || v.Outcome != tc.want {
			t.Errorf("%d %s: code %d %s, want %d %s", tc.status, tc.body, v.ResponseCode, v.Outcome, tc.code, tc.want)
		}
	}
}
