package batch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxBody is the most of a response body the client reads. A longer body
// is an unexpected_response; a body of exactly MaxBody bytes is read whole.
const MaxBody = 1 << 20

// Client sends one cancel attempt at a time. It is safe for concurrent use.
type Client struct {
	hc       *http.Client
	base     string      // scheme://host/path of the API root, without a trailing slash
	host     string      // the API's host, for messages
	header   http.Header // what every attempt sends; shared, never modified
	secrets  []string    // the key as it may come back: plain, path- and query-escaped
	verdicts verdictCache
}

// NewClient returns a client for the API rooted at base (already checked
// with ParseBaseURL), authenticating with key. hc should come from
// NewHTTPClient or at least refuse redirects; NewClient makes sure of the
// latter on a copy of hc.
func NewClient(hc *http.Client, base *url.URL, key string) *Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b := *base
	b.RawQuery, b.Fragment, b.User = "", "", nil
	cl := &Client{hc: &c, base: strings.TrimRight(b.String(), "/"), host: b.Host, header: http.Header{
		"X-Api-Key":  {key},
		"Accept":     {"application/json"},
		"User-Agent": {"bulkcancel"},
	}}
	if key != "" {
		for _, k := range []string{key, url.PathEscape(key), url.QueryEscape(key)} {
			if !slices.Contains(cl.secrets, k) {
				cl.secrets = append(cl.secrets, k)
			}
		}
	}
	return cl
}

// NewHTTPClient returns an *http.Client whose connection pool fits
// concurrency requests in flight, honouring the standard proxy variables
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) and never following redirects.
// Per-attempt deadlines come from the context, not from the client.
func NewHTTPClient(concurrency int) *http.Client {
	if concurrency < 1 {
		concurrency = 1
	}
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		MaxConnsPerHost:       concurrency,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// URL returns the cancel URL for id: the ID is escaped as exactly one path
// segment, so "a/b", "../x", "x?y=1" or "%2e" cannot change the path.
func (c *Client) URL(id string) string {
	return c.base + "/call/cancel/" + url.PathEscape(id)
}

// Attempt is the result of one request.
type Attempt struct {
	Verdict
	HTTPStatus int           // 0 when no answer came
	RetryAfter time.Duration // the answer's Retry-After, 0 when absent
	Quota      Quota         // the answer's rate-limit headers
	Err        error         // transport failure; Verdict.Outcome is TransportError
	Written    bool          // the request was written to the connection (it may have reached the server)
	Start      time.Time
	Duration   time.Duration
}

// Cancel sends one PUT for id and classifies the answer. Transport
// failures are returned in Attempt.Err, never as a panic or an abort; the
// body is always drained (up to MaxBody) and closed so the connection can
// be reused.
func (c *Client) Cancel(ctx context.Context, id string) (a Attempt) {
	a.Start = time.Now()
	defer func() {
		a.Duration = time.Since(a.Start)
		a.Message, a.Detail = c.redact(a.Message), c.redact(a.Detail)
	}()
	var written atomic.Bool // set from the transport's writer goroutine
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPut, c.URL(id), nil)
	if err != nil {
		a.Verdict = Verdict{Outcome: UnexpectedResponse, RemovedJobs: -1, Detail: "cannot build request: " + redactURL(err)}
		a.Quota.Remaining = -1
		return a
	}
	req.Header = c.header // read-only: net/http never modifies a request's Header
	resp, err := c.hc.Do(req)
	a.Written = written.Load()
	a.Quota.Remaining = -1
	if err != nil {
		a.Err = unwrapURLError(err)
		a.Verdict = Verdict{Outcome: TransportError, RemovedJobs: -1, Detail: describeTransport(a.Err, a.Written)}
		return a
	}
	defer resp.Body.Close()
	a.HTTPStatus = resp.StatusCode
	a.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	a.Quota = ParseQuota(resp.Header, time.Now())
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		a.Err = unwrapURLError(err)
		a.Written = true
		a.Verdict = Verdict{Outcome: TransportError, RemovedJobs: -1,
			Detail: fmt.Sprintf("reading the HTTP %d answer: %s", resp.StatusCode, describeTransport(a.Err, true))}
		return a
	}
	if len(body) > MaxBody {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // a few KiB more, then let the connection go
		a.Verdict = Verdict{Outcome: UnexpectedResponse, RemovedJobs: -1,
			Detail: fmt.Sprintf("HTTP %d body larger than %d bytes", resp.StatusCode, MaxBody)}
		return a
	}
	// The body is classified as it came; the key is taken out of the texts
	// built from it (before any is cut short, so no part of it survives
	// at a cut).
	a.Verdict = c.verdicts.classify(resp.StatusCode, body, c.redact)
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		if loc := resp.Header.Get("Location"); loc != "" {
			a.Detail = fmt.Sprintf("redirect (HTTP %d) to %s not followed", resp.StatusCode, Snippet([]byte(c.redact(redactLocation(loc))), 200))
		}
	}
	return a
}

// Host is the API's host, as the base URL names it.
func (c *Client) Host() string { return c.host }

// ShortKey is the length under which a key is redacted only where it
// stands whole: a key of a few characters ("k", "1") also occurs inside
// ordinary words and numbers, which must stay readable.
const ShortKey = 8

// redact removes the key from text that came back from the server or the
// network, in case a server echoes it: everywhere for a key of ShortKey
// characters or more, else only where it is a whole token (the whole
// text, or bounded by characters other than letters and digits, as a
// JSON string value or a word is).
func (c *Client) redact(s string) string {
	for _, k := range c.secrets {
		if !strings.Contains(s, k) {
			continue
		}
		if len(k) >= ShortKey {
			s = strings.ReplaceAll(s, k, "[redacted]")
		} else {
			s = redactWhole(s, k)
		}
	}
	return s
}

// redactWhole replaces each occurrence of k in s that is a whole token.
func redactWhole(s, k string) string {
	var b strings.Builder
	for i := 0; ; {
		j := strings.Index(s[i:], k)
		if j < 0 {
			b.WriteString(s[i:])
			return b.String()
		}
		j += i
		end := j + len(k)
		if (j == 0 || !alnumBefore(s[:j])) && (end == len(s) || !alnumAfter(s[end:])) {
			b.WriteString(s[i:j])
			b.WriteString("[redacted]")
		} else {
			b.WriteString(s[i:end])
		}
		i = end
	}
}

func alnumBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func alnumAfter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// URL; the cause is what matters and the row already names the ID.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func redactURL(err error) string { return unwrapURLError(err).Error() }

// redactLocation strips userinfo and query from a redirect target before it
// goes into a report.
func redactLocation(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return "(unparseable Location)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
