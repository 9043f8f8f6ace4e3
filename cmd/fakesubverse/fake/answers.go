package fake

import (
	"bufio"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// answer is a preformatted envelope and the HTTP status the API pairs with
// it when it is not in Envelope200 mode.
type answer struct {
	code int
	body []byte
	clen []string // Content-Length, preformatted; nil to compute it
}

func envelope(code int, body string) answer {
	return answer{code: code, body: []byte(body), clen: []string{strconv.Itoa(len(body))}}
}

// The envelopes the fake answers with. Bodies are the API's, byte for byte
// where the API documents them.
var (
	ansCanceled   = envelope(http.StatusOK, `{"responseCode":200,"message":"Call canceled successfully!","data":{"removedJobs":1}}`)
	ansIDMissing  = envelope(http.StatusBadRequest, `{"responseCode":400,"message":"Call id missing","data":null}`)
	ansNotFound   = envelope(http.StatusBadRequest, `{"responseCode":400,"message":"User call not found.","data":null}`)
	ansNotInQueue = envelope(http.StatusBadRequest, `{"responseCode":400,"message":"This call cannot be canceled as it is no longer in queue.","data":null}`)
	ansKeyMissing = envelope(http.StatusUnauthorized, `{"responseCode":401,"message":"Api key is missing","errorCode":"apiKeyMissing","data":null}`)
	ansKeyInvalid = envelope(http.StatusUnauthorized, `{"responseCode":401,"message":"Invalid API key","errorCode":"apiKeyInvalid","data":null}`)
	ans429        = envelope(http.StatusTooManyRequests, `{"responseCode":429,"message":"Too many requests","data":null}`)
	ansLimited    = envelope(http.StatusTooManyRequests, `{"responseCode":429,"message":"Too many requests, please try again later.","data":null}`)
	ans500        = envelope(http.StatusInternalServerError, `{"responseCode":500,"message":"Internal server error","data":null}`)
	ans503        = envelope(http.StatusServiceUnavailable, `{"responseCode":503,"message":"Service unavailable","data":null}`)
	ansBadEscape  = envelope(http.StatusBadRequest, `{"responseCode":400,"message":"Failed to decode param","data":null}`)
	ansBadBody    = envelope(http.StatusBadRequest, `{"responseCode":400,"message":"Invalid request body","data":null}`)
)

// Bodies of the faults that are not envelopes.
var (
	badGatewayBody = []byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
		"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
	malformedBody = []byte(`{"responseCode":200,"mess`)
)

// Shared header values; net/http never modifies them.
var (
	ctJSON = []string{"application/json; charset=utf-8"}
	ctHTML = []string{"text/html"}
)

// write sends a as an envelope answer, with HTTP 200 in Envelope200 mode,
// and a Retry-After header when retryAfter > 0.
func (s *Server) write(w http.ResponseWriter, a *answer, retryAfter time.Duration) {
	h := w.Header()
	h["Content-Type"] = ctJSON
	if a.clen != nil {
		h["Content-Length"] = a.clen // shared: net/http never modifies header values
	} else {
		h["Content-Length"] = []string{strconv.Itoa(len(a.body))}
	}
	if retryAfter > 0 {
		h["Retry-After"] = []string{retryAfterSeconds(retryAfter)}
	}
	code := a.code
	if s.envelope200.Load() {
		code = http.StatusOK
	}
	w.WriteHeader(code)
	_, _ = w.Write(a.body)
}

// retryAfterSeconds renders d as whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(ceilSeconds(d), 1), 10)
}

// ceilSeconds is d in whole seconds, rounded up (0 for d <= 0).
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// writeRaw sends body with the status code and the Content-Type ct:
// the 502 page of a proxy whose upstream failed, a body that is not JSON,
// an Express error page.
func writeRaw(w http.ResponseWriter, code int, ct []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = ct
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// notFound answers an unknown route the way Express does.
func notFound(w http.ResponseWriter, r *http.Request) {
	body := fmt.Sprintf("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<title>Error</title>\n</head>\n<body>\n<pre>Cannot %s %s</pre>\n</body>\n</html>\n",
		html.EscapeString(r.Method), html.EscapeString(r.URL.EscapedPath()))
	writeRaw(w, http.StatusNotFound, ctHTML, []byte(body))
}

// hijack takes the connection over from net/http. Where it cannot be
// hijacked (HTTP/2, a ResponseRecorder) it aborts the handler instead.
func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	return conn
}

// drop closes the connection without answering.
func drop(w http.ResponseWriter) { _ = hijack(w).Close() }

// truncate sends the status line and headers of a response whose
// Content-Length promises all of body, writes only half of it, and closes
// the connection, so the client reads an unexpected EOF.
func truncate(w http.ResponseWriter, code int, body []byte) {
	conn := hijack(w)
	defer conn.Close()
	bw := bufio.NewWriter(conn)
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		code, http.StatusText(code), ctJSON[0], len(body))
	_, _ = bw.Write(body[:len(body)/2])
	_ = bw.Flush()
}

// unescapeSegment decodes one escaped path segment.
func unescapeSegment(seg string) (string, bool) {
	id, err := url.PathUnescape(seg)
	return id, err == nil
}
