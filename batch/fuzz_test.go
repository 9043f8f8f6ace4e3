package batch

// Fuzz targets for the code that reads what others wrote: the envelope
// classifier (a server's answer), the input reader (a CSV from anyone) and
// the cancel URL builder (IDs from that CSV). `make test` runs their seeds
// (f.Add and testdata/fuzz/FuzzXxx); `make fuzz` explores from there.

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fzStatuses are the HTTP statuses an envelope with a responseCode must be
// indifferent to. A 3xx is left out: two rules meet there (the envelope
// decides; a redirect is unexpected_response), and either may win.
var fzStatuses = []int{0, 200, 400, 401, 404, 429, 500, 503}

// fzAddEnvelopeSeeds adds every file of testdata/envelopes with a few
// statuses.
func fzAddEnvelopeSeeds(f *testing.F) {
	for _, e := range readEnvelopes(f) {
		for _, st := range []int{200, 400, 401, 502} {
			f.Add(st, e.body)
		}
	}
}

func FuzzClassify(f *testing.F) {
	fzAddEnvelopeSeeds(f)
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`},
		{400, `{"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue.","data":null}`},
		{200, `{"responseCode":401,"message":"Invalid API key","errorCode":"apiKeyInvalid","data":null}`},
		{200, `{"responseCode":503,"message":"Service unavailable","data":null}`},
		{200, `{"responseCode":429,"message":"Too many requests","data":null}`},
		{200, `{"responseCode":1e400,"message":"x"}`},
		{200, `{"responseCode":-0,"message":"x"}`},
		{200, `{"responseCode":"0x1p8","message":"call canceled"}`},
		{200, `{"responseCode":200.5,"message":"Call canceled successfully!"}`},
		{200, `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1e300}}`},
		{200, `{"responseCode":200,"message":"ok","data":{"removedJobs":-1}}`},
		{200, `{"responseCode":200,"message":"ok","data":{"removedJobs":2147483649}}`},
		{200, `{"responseCode":200,"message":null,"data":{"removedJobs":3}}`},
		{200, `{"RESPONSECODE":400,"Message":"user call NOT FOUND"}`},
		{200, `{"responseCode":400,"responseCode":401,"message":"dup keys"}`},
		{200, `{"responseCode":400,"message":"\u0000\ud800 no longer in queue"}`},
		{200, "{\"responseCode\":200,\"message\":\"\xff\xfe call canceled\"}"},
		{200, `{"responseCode":200,"message":"Call canceled successfully!","da`},
		{200, `   {"message":"Api key is missing"}   `},
		{302, ``},
		{307, `<html><body>Moved</body></html>`},
		{502, "<html>\r\n<head><title>502 Bad Gateway</title></head></html>"},
		{404, "<!DOCTYPE html>\n<pre>Cannot PUT /call/cancel/x</pre>"},
		{-1, `null`},
		{299, `ok`},
		{300, `<html>`},
		{399, `<html>`},
		{499, `<html>`},
		{599, `<html>`},
		{600, `<html>`},
		{1 << 30, `{}`},
		{200, `[{"responseCode":200}]`},
		{200, strings.Repeat("[", 1000)},
		{200, `{"responseCode":200,"message":"` + strings.Repeat("é", 500) + `"}`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		orig := bytes.Clone(body)
		v := Classify(status, body)
		if !bytes.Equal(body, orig) {
			t.Fatal("Classify modified its input")
		}
		fzCheckVerdict(t, v)
		if again := Classify(status, body); again != v {
			t.Fatalf("not deterministic: %+v then %+v", v, again)
		}

		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 || trimmed[0] != '{' {
			// Not an envelope: the HTTP status alone decides.
			if want := fzStatusOutcome(status); v.Outcome != want {
				t.Fatalf("status %d, non-envelope body %q: outcome %s, want %s", status, body, v.Outcome, want)
			}
		}
		if status >= 300 && status <= 399 {
			status = 200 // see fzStatuses: the envelope rules below are not asserted for a 3xx
		}
		if code, ok := fzEnvelopeCode(body); ok {
			fzCheckEnvelope(t, code, body, Classify(status, body))
		}

		// The fuzzed bytes as an envelope's message: whatever it says, a
		// 401/403 code is unauthorized, a 429 is rate_limited and a 5xx is
		// server_error (unless the message itself rejects the key), in an
		// HTTP 200 or not.
		msg, err := json.Marshal(string(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range []int{200, 400, 401, 403, 429, 500, 503} {
			env := []byte(`{"responseCode":` + strconv.Itoa(code) + `,"message":` + string(msg) + `,"data":null}`)
			ev := Classify(status, env)
			fzCheckVerdict(t, ev)
			fzCheckEnvelope(t, code, env, ev)
		}
	})
}

// fzCheckVerdict asserts what holds for every verdict.
func fzCheckVerdict(t *testing.T, v Verdict) {
	t.Helper()
	if !v.Outcome.Known() {
		t.Fatalf("unknown outcome %q", v.Outcome)
	}
	switch v.Outcome {
	case NotAttempted, DryRun, Duplicate:
		t.Fatalf("Classify returned %s, which only the planner or runner may give", v.Outcome)
	case UnexpectedResponse:
		if v.Outcome.retryable() {
			t.Fatal("unexpected_response would be retried")
		}
		if v.Detail == "" {
			t.Fatal("unexpected_response without a detail saying why")
		}
	}
	if v.Outcome != Canceled && v.RemovedJobs != -1 {
		t.Fatalf("%s with removed_jobs %d, want -1", v.Outcome, v.RemovedJobs)
	}
	if v.RemovedJobs < -1 {
		t.Fatalf("removed_jobs %d", v.RemovedJobs)
	}
	if v.ResponseCode < -999999999 || v.ResponseCode > 999999999 {
		t.Fatalf("response_code %d out of range", v.ResponseCode)
	}
	// Detail goes into logs and the report's error column: one line of
	// valid UTF-8 without control characters.
	if !utf8.ValidString(v.Detail) {
		t.Fatalf("detail is not UTF-8: %q", v.Detail)
	}
	if i := strings.IndexFunc(v.Detail, unicode.IsControl); i >= 0 {
		t.Fatalf("detail holds a control character at %d: %q", i, v.Detail)
	}
}

// fzCheckEnvelope asserts the rules for a body that is an envelope with
// responseCode code: the code wins over the status, and the status makes no
// difference at all.
func fzCheckEnvelope(t *testing.T, code int, body []byte, v Verdict) {
	t.Helper()
	if v.ResponseCode != code {
		t.Fatalf("envelope %q: response_code %d, want %d", body, v.ResponseCode, code)
	}
	switch {
	case code == 401 || code == 403:
		if v.Outcome != Unauthorized {
			t.Fatalf("envelope %q with responseCode %d: %s, want unauthorized", body, code, v.Outcome)
		}
	case code == 429:
		if v.Outcome != RateLimited && v.Outcome != Unauthorized {
			t.Fatalf("envelope %q with responseCode 429: %s, want rate_limited", body, v.Outcome)
		}
	case code >= 500 && code <= 599:
		if v.Outcome != ServerError && v.Outcome != Unauthorized {
			t.Fatalf("envelope %q with responseCode %d: %s, want server_error", body, code, v.Outcome)
		}
	default:
		switch v.Outcome {
		case RateLimited, ServerError, TransportError:
			t.Fatalf("envelope %q with responseCode %d: %s", body, code, v.Outcome)
		}
	}
	for _, st := range fzStatuses {
		if other := Classify(st, body); other != v {
			t.Fatalf("envelope %q: HTTP %d gives %+v but another status gives %+v", body, st, other, v)
		}
	}
}

// fzStatusOutcome is the outcome of a body that is not an envelope.
func fzStatusOutcome(status int) Outcome {
	switch {
	case status == 401 || status == 403:
		return Unauthorized
	case status == 429:
		return RateLimited
	case status >= 500 && status <= 599:
		return ServerError
	}
	return UnexpectedResponse
}

// fzEnvelopeCode reports the responseCode of body when body is plainly an
// envelope: a JSON object whose responseCode is a JSON integer in 0..999.
// It is decoded independently of Classify and stricter than it (a numeric
// string also counts there), so it only selects bodies where the rule must
// hold.
func fzEnvelopeCode(body []byte) (int, bool) {
	var env struct {
		ResponseCode json.RawMessage `json:"responseCode"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &env) != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(env.ResponseCode))
	if err != nil || n < 0 || n > 999 || env.ResponseCode[0] == '0' && len(env.ResponseCode) > 1 {
		return 0, false
	}
	return n, true
}

func FuzzReadInput(f *testing.F) {
	for _, s := range []string{
		"",
		"\n",
		"call_id\n",
		"call_id\nabc\ndef\n",
		"\xef\xbb\xbfcall_id\r\nabc\r\n\r\n def \r\n",
		"\xef\xbb\xbf",
		"\xef\xbb",
		"\xef\xbb\xbf\xef\xbb\xbfcall_id\nx\n",
		"name,ID,phone\nann,665f1c2e9b1d4a0012345678,+1555\nbob,,\n,,\n",
		"callId\n\"quoted, with comma\"\n\"  spaced  \"\n\"with \"\"inner\"\" quote\"\n",
		"call_id\nab\"c\n",
		"call_id\n\"abc\n",
		"call_id\n\"abc\"x\n",
		"call_id\n\"multi\nline\"\n",
		"call_id\n\"abc",
		"a,b\n1,2\n",
		" Call ID ,x\n1,2\n3\n",
		"id\n\x00\n\xff\xfe\n\u0085\n",
		"id\n.\n..\n" + strings.Repeat("x", 129) + "\n",
		"id\r\rx\r\n",
		"call_id,id\nfirst,second\n",
		"call_id\n" + strings.Repeat("a,\n", 50),
		"a/b\n../x\nx?y=1\nx#y\n%2e%2e\né\nsp ace\n",
		"call_id;status\na1;call_in_queue\na2;completed\n",
		"call_id\tstatus\na1\tcall_in_queue\n",
		"call_id;x\tid\na;b\tc\n",
		"call_id\na1;call_in_queue\na2;completed\n",
		"call_id\na1;x\na2\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, noHeader bool) {
		const name = "fuzz.csv"
		in, err := ReadInput(bytes.NewReader(data), name, InputOptions{NoHeader: noHeader})
		want, refErr := fzReferenceIDs(data, noHeader)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v, want *InputError", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			if ie.Line < 0 || ie.Line > lines {
				t.Fatalf("error on line %d of a %d-line file: %v", ie.Line, lines, err)
			}
			if ie.File != name || ie.Cause == "" || ie.Hint == "" {
				t.Fatalf("error without file, cause or a hint how to fix it: %+v", ie)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, name) || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("error message %q does not start with the file name or is not one line", msg)
			}
			if refErr == nil {
				t.Fatalf("ReadInput refused a file encoding/csv reads (%d rows): %v", len(want), err)
			}
			return
		}
		if refErr != nil {
			t.Fatalf("ReadInput accepted a file the reference refuses (%v)", refErr)
		}
		if in.Len() != len(want) {
			t.Fatalf("Len() = %d, encoding/csv reads %d data records", in.Len(), len(want))
		}
		for i, w := range want {
			id := in.ID(i)
			if id != strings.TrimSpace(id) {
				t.Fatalf("row %d: ID %q is not trimmed", i+1, id)
			}
			if id != w {
				t.Fatalf("row %d: ID %q, want %q", i+1, id, w)
			}
		}
		sum := sha256.Sum256(data)
		if in.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("SHA256 %s is not the checksum of the file's bytes", in.SHA256)
		}
		if in.Name != name {
			t.Fatalf("Name %q", in.Name)
		}
		// The plan must take every row exactly once, whatever the IDs.
		p := NewPlan(in, PlanOptions{})
		c := p.Counts
		if c.Rows != in.Len() || c.Send+c.Invalid+c.Duplicate != c.Rows {
			t.Fatalf("plan counts %+v do not add up to %d rows", c, in.Len())
		}
		for j := range p.Jobs() {
			if reason := CheckID(j.ID); reason != "" {
				t.Fatalf("row %d: invalid ID %q would be sent: %s", j.Row, j.ID, reason)
			}
		}
	})
}

// fzReferenceIDs reads data with encoding/csv alone: the UTF-8 BOM removed,
// the ID column found by AutoColumns, each ID trimmed. err is non-nil when
// the file cannot be read or has no ID column.
func fzReferenceIDs(data []byte, noHeader bool) ([]string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	comma, err := fzDelimiter(data, noHeader)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	col := 0
	if !noHeader {
		if len(recs) == 0 {
			return nil, io.EOF
		}
		if col = fzFindColumn(recs[0]); col < 0 {
			return nil, errors.New("no ID column")
		}
		recs = recs[1:]
	} else if len(recs) > 0 && fzFindColumn(recs[0][:1]) == 0 {
		return nil, errors.New("--no-header, but the first line is a header")
	}
	ids := make([]string, 0, len(recs))
	withSep, clean := 0, false
	for _, rec := range recs {
		id := ""
		if col < len(rec) {
			id = strings.TrimSpace(rec[col])
		}
		ids = append(ids, id)
		if id != "" && !clean && withSep < DelimiterCheckRows {
			if strings.ContainsAny(id, ";\t,") {
				withSep++
			} else {
				clean = true
			}
		}
	}
	if withSep > 0 && !clean {
		return nil, errors.New("the first IDs all hold a field separator")
	}
	return ids, nil
}

// fzFindColumn is the index of the ID column in header, -1 without one.
func fzFindColumn(header []string) int {
	for _, a := range []string{"call_id", "callid", "call id", "id"} {
		for i, h := range header {
			if strings.ToLower(strings.TrimSpace(h)) == a {
				return i
			}
		}
	}
	return -1
}

// fzDelimiter picks the separator as the README says: ',' unless the
// first line has no comma outside quotes but a ';' or a tab; with both,
// the one whose split gives an ID column, if only one does.
func fzDelimiter(data []byte, noHeader bool) (rune, error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	var commas, semis, tabs int
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			commas++
		case c == ';':
			semis++
		case c == '\t':
			tabs++
		}
	}
	switch {
	case commas > 0 || semis == 0 && tabs == 0:
		return ',', nil
	case tabs == 0:
		return ';', nil
	case semis == 0:
		return '\t', nil
	}
	var fit []rune
	for _, d := range []rune{';', '\t'} {
		r := csv.NewReader(bytes.NewReader(bytes.TrimSuffix(line, []byte("\r"))))
		r.Comma = d
		if h, err := r.Read(); err == nil && !noHeader && fzFindColumn(h) >= 0 {
			fit = append(fit, d)
		}
	}
	if len(fit) != 1 {
		return 0, errors.New("both ';' and tab in the first line")
	}
	return fit[0], nil
}

// fzBases are API roots the cancel URL is built on: plain, with a trailing
// slash, loopback, and a path that itself holds escapes.
var fzBases = []string{
	"https://api.subverseai.com/api",
	"https://api.subverseai.com/api/",
	"http://127.0.0.1:8080",
	"http://[::1]:9/v1/x%2Fy%20z/",
}

func FuzzCancelURL(f *testing.F) {
	for _, id := range []string{
		"665f1c2e9b1d4a0012345678", "a/b", "../x", "x?y=1", "x#y", "%2e%2e", "é", "sp ace",
		"a%2Fb", "..%2f", "...", ".x", "x/..", "/", "//", "?", "#", "%", "%zz", "a;b=c", "@host",
		"http://evil.example/", "\\..\\x", "~user", "+plus+", "a\u2028b", "\u202eevil", "日本",
		strings.Repeat("%", MaxIDLen), strings.Repeat("/", MaxIDLen),
	} {
		f.Add(id)
	}
	type fzBase struct {
		u      *url.URL
		client *Client
	}
	var bases []fzBase
	for _, s := range fzBases {
		u, err := ParseBaseURL(s)
		if err != nil {
			f.Fatalf("ParseBaseURL(%q): %v", s, err)
		}
		bases = append(bases, fzBase{u, NewClient(http.DefaultClient, u, "k")})
	}
	f.Fuzz(func(t *testing.T, id string) {
		if CheckID(id) != "" {
			return // never sent
		}
		for _, b := range bases {
			raw := b.client.URL(id)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("base %s, ID %q: URL %q does not parse: %v", b.u, id, raw, err)
			}
			if u.Scheme != b.u.Scheme || u.Host != b.u.Host || u.User != nil {
				t.Fatalf("base %s, ID %q: URL %q goes to %s://%s", b.u, id, raw, u.Scheme, u.Host)
			}
			if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.RawFragment != "" {
				t.Fatalf("base %s, ID %q: URL %q has a query or fragment", b.u, id, raw)
			}
			prefix := b.u.EscapedPath() + "/call/cancel/"
			ep := u.EscapedPath()
			seg, ok := strings.CutPrefix(ep, prefix)
			if !ok {
				t.Fatalf("base %s, ID %q: path %q does not start with %q", b.u, id, ep, prefix)
			}
			if strings.Contains(seg, "/") {
				t.Fatalf("base %s, ID %q: segment %q is more than one segment", b.u, id, seg)
			}
			got, err := url.PathUnescape(seg)
			if err != nil || got != id {
				t.Fatalf("base %s, ID %q: segment %q decodes to %q (%v)", b.u, id, seg, got, err)
			}
			// What goes on the wire is the request's RequestURI.
			req, err := http.NewRequest(http.MethodPut, raw, nil)
			if err != nil {
				t.Fatalf("ID %q: NewRequest: %v", id, err)
			}
			if ruri := req.URL.RequestURI(); ruri != ep {
				t.Fatalf("ID %q: request line carries %q, want %q", id, ruri, ep)
			}
		}
	})
}
