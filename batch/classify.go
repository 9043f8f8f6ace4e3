package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Verdict is what one HTTP answer means for the row that asked.
type Verdict struct {
	Outcome      Outcome
	ResponseCode int    // the envelope's responseCode; 0 when there was none
	Message      string // the envelope's message as sent; empty when there was none
	RemovedJobs  int    // data.removedJobs; -1 when the answer did not say
	Detail       string // why the outcome is what it is, when the envelope alone does not say
}

// envelope is the API's answer shape. Its fields are decoded leniently
// (responseCode a number or a numeric string; message and errorCode any
// JSON value) so an oddly typed side field never hides the code.
type envelope struct {
	ResponseCode json.RawMessage `json:"responseCode"`
	Message      json.RawMessage `json:"message"`
	ErrorCode    json.RawMessage `json:"errorCode"`
	Data         json.RawMessage `json:"data"`
}

// text returns a JSON value as text: a string as it is, anything else
// (a number, an object) as its JSON; "" for null or absent.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// Classify turns an HTTP status and response body into a Verdict. It is
// pure: no I/O and no clock. The envelope decides when the body is one
// (its responseCode and message win over the HTTP status, so HTTP 200 with
// responseCode 400 and HTTP 400 with the same envelope classify alike); the
// HTTP status decides only when the body is not an envelope.
//
// A redirect (3xx) is unexpected_response whatever its body says: it is
// not the API's answer to the cancel.
func Classify(status int, body []byte) Verdict { return classify(status, body, nil) }

// classify is Classify with scrub, when not nil, applied to the texts
// the verdict keeps (the message, a piece of the body) before any is cut
// short; the client removes the key with it. The body itself is
// classified as it came.
func classify(status int, body []byte, scrub func(string) string) Verdict {
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	if status >= 300 && status <= 399 {
		return classifyStatus(status, body, scrub)
	}
	env, ok := parseEnvelope(body)
	if !ok {
		return classifyStatus(status, body, scrub)
	}
	v := Verdict{RemovedJobs: -1}
	code, hasCode := env.code()
	v.ResponseCode = code // kept even when it is no HTTP-like code
	message := text(env.Message)
	v.Message = scrub(message)
	if !hasCode || code < 0 || code > 999 {
		code = status // the message still decides below; the status stands in for the code
	}
	words := normalize(message)
	switch {
	case rejectsKey(words, text(env.ErrorCode)):
		v.Outcome = Unauthorized
	case code == 401 || code == 403:
		v.Outcome = Unauthorized
	case code == 429:
		v.Outcome = RateLimited
	case code >= 500 && code <= 599:
		v.Outcome = ServerError
	case notInQueue(words):
		v.Outcome = NotCancelable
	case strings.Contains(words, " not found "):
		v.Outcome = NotFound
	case idMissing(words):
		v.Outcome = InvalidID
	case code >= 200 && code <= 299 && canceledOK(words, env.Data):
		v.Outcome = Canceled
		v.RemovedJobs = removedJobs(env.Data)
	default:
		v.Outcome = UnexpectedResponse
	}
	switch v.Outcome {
	case Unauthorized, RateLimited, ServerError:
		v.Detail = fmt.Sprintf("responseCode %d: %s", code, Snippet([]byte(v.Message), 200))
	case UnexpectedResponse:
		if v.Message == "" {
			v.Detail = fmt.Sprintf("envelope with responseCode %d and no message", code)
		} else {
			v.Detail = "message not recognised"
		}
	}
	return v
}

// classifyStatus decides for a body that is not an envelope.
func classifyStatus(status int, body []byte, scrub func(string) string) Verdict {
	v := Verdict{RemovedJobs: -1}
	switch {
	case status == 401 || status == 403:
		v.Outcome = Unauthorized
	case status == 429:
		v.Outcome = RateLimited
	case status >= 500 && status <= 599:
		v.Outcome = ServerError
	case status >= 300 && status <= 399:
		v.Outcome = UnexpectedResponse
		v.Detail = fmt.Sprintf("redirect (HTTP %d) not followed", status)
		return v
	default:
		v.Outcome = UnexpectedResponse
	}
	if len(bytes.TrimSpace(body)) == 0 {
		v.Detail = fmt.Sprintf("HTTP %d with an empty body", status)
	} else {
		v.Detail = fmt.Sprintf("HTTP %d with a body that is not a JSON envelope: %s", status, Snippet([]byte(scrub(string(body[:min(len(body), 4<<10)]))), 120))
	}
	return v
}

func parseEnvelope(body []byte) (envelope, bool) {
	var env envelope
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return env, false
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return env, false
	}
	_, hasCode := env.code()
	if !hasCode && text(env.Message) == "" {
		return env, false
	}
	return env, true
}

// code returns responseCode as an int, accepting a JSON number or a
// numeric string; ok is false when it is absent, null or not a whole
// number of at most nine digits. A code outside 0-999 is returned as it
// is: the report keeps it, though it classifies nothing.
func (e envelope) code() (int, bool) {
	raw := bytes.TrimSpace(e.ResponseCode)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		raw = []byte(strings.TrimSpace(s))
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != float64(int(f)) || f < -999999999 || f > 999999999 {
		return 0, false
	}
	return int(f), true
}

// normalize lowercases s, turns every run of non-alphanumerics into one
// space and pads both ends with a space, so phrases can be matched as
// " word word " regardless of case, punctuation or surrounding words.
func normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

func rejectsKey(words, errorCode string) bool {
	switch strings.ToLower(errorCode) {
	case "apikeymissing", "apikeyinvalid":
		return true
	}
	key := strings.Contains(words, " api key ") || strings.Contains(words, " apikey ") || strings.Contains(words, " x api key ")
	if !key {
		return false
	}
	for _, w := range []string{" missing ", " invalid ", " expired ", " revoked ", " not valid ", " wrong ", " required "} {
		if strings.Contains(words, w) {
			return true
		}
	}
	return false
}

func notInQueue(words string) bool {
	return strings.Contains(words, " no longer in queue ") ||
		strings.Contains(words, " not in queue ") ||
		strings.Contains(words, " no longer in the queue ") ||
		strings.Contains(words, " not in the queue ")
}

func idMissing(words string) bool {
	if !strings.Contains(words, " missing ") && !strings.Contains(words, " required ") {
		return false
	}
	return strings.Contains(words, " id ") || strings.Contains(words, " callid ")
}

// canceledOK recognises a success message ("Call canceled successfully!")
// or, failing that, a data object that reports removedJobs.
func canceledOK(words string, data json.RawMessage) bool {
	for _, neg := range []string{" not ", " cannot ", " can t ", " unable ", " failed ", " no "} {
		if strings.Contains(words, neg) {
			return false
		}
	}
	if strings.Contains(words, " cancel") && (strings.Contains(words, " success") ||
		strings.Contains(words, " canceled ") || strings.Contains(words, " cancelled ")) {
		return true
	}
	return removedJobs(data) >= 0
}

func removedJobs(data json.RawMessage) int {
	var d struct {
		RemovedJobs *float64 `json:"removedJobs"`
	}
	if len(data) == 0 || data[0] != '{' || json.Unmarshal(data, &d) != nil || d.RemovedJobs == nil {
		return -1
	}
	n := *d.RemovedJobs
	if n < 0 || n > 1<<31 || n != float64(int(n)) {
		return -1
	}
	return int(n)
}

// Snippet returns at most max bytes of b as printable text for an error
// message: invalid UTF-8 and control characters are replaced, and an
// ellipsis marks a cut.
func Snippet(b []byte, max int) string {
	var s strings.Builder
	for i := 0; i < len(b); {
		if s.Len() >= max {
			s.WriteString("…")
			break
		}
		r, n := utf8.DecodeRune(b[i:])
		i += n
		switch {
		case r == utf8.RuneError && n <= 1:
			s.WriteRune('\uFFFD')
		case r == '\n' || r == '\r' || r == '\t':
			s.WriteByte(' ')
		case unicode.IsControl(r):
			s.WriteRune('\uFFFD')
		default:
			s.WriteRune(r)
		}
	}
	return strings.TrimSpace(s.String())
}
