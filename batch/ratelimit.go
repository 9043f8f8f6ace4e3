package batch

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Quota is what an answer's rate-limit headers say of the API's limit.
// A zero field was not said.
type Quota struct {
	Limit     float64       // requests allowed per Window
	Window    time.Duration // the policy's window; 0 when the headers do not name one
	Remaining float64       // requests left until Reset; -1 when not said
	Reset     time.Duration // until the quota is whole again
}

// Known reports whether the headers said anything at all.
func (q Quota) Known() bool { return q.Limit > 0 || q.Remaining >= 0 }

// PerSecond is the limit as a rate, or 0 when the headers name no
// window to divide by.
func (q Quota) PerSecond() float64 {
	if q.Limit <= 0 || q.Window <= 0 {
		return 0
	}
	return q.Limit / q.Window.Seconds()
}

// ParseQuota reads the rate-limit headers of an answer, in any of the
// forms APIs send: the IETF draft's structured fields
// (RateLimit: "name";r=REMAINING;t=RESET with RateLimit-Policy:
// "name";q=QUOTA;w=WINDOW, and the older limit=, remaining=, reset= list),
// the split RateLimit-Limit/-Remaining/-Reset (reset in seconds from now),
// and X-RateLimit-Limit/-Remaining/-Reset (reset as Unix seconds when it is
// above 10^9, else seconds from now). now is the answer's arrival, for a
// reset given as a Unix time. It is pure.
func ParseQuota(h http.Header, now time.Time) Quota {
	q := Quota{Remaining: -1}
	if v := h.Get("RateLimit-Policy"); v != "" {
		p := sfParams(v)
		if n, ok := p.num("q"); ok {
			q.Limit = n
		} else if n, ok := p.num(""); ok { // older draft: "100;w=60"
			q.Limit = n
		}
		if w, ok := p.num("w"); ok && w > 0 {
			q.Window = seconds(w)
		}
	}
	if v := h.Get("RateLimit"); v != "" {
		p := sfParams(v)
		if n, ok := p.num("r"); ok {
			q.Remaining = n
		} else if n, ok := p.num("remaining"); ok {
			q.Remaining = n
		}
		if n, ok := p.num("t"); ok {
			q.Reset = seconds(n)
		} else if n, ok := p.num("reset"); ok {
			q.Reset = seconds(n)
		}
		if n, ok := p.num("limit"); ok && q.Limit == 0 {
			q.Limit = n
		}
	}
	for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
		if q.Limit == 0 {
			if n, ok := number(h.Get(prefix + "Limit")); ok {
				q.Limit = n
			}
		}
		if q.Remaining < 0 {
			if n, ok := number(h.Get(prefix + "Remaining")); ok {
				q.Remaining = n
			}
		}
		if q.Reset == 0 {
			if n, ok := number(h.Get(prefix + "Reset")); ok {
				if n > 1e9 { // a Unix time
					n = float64(time.Unix(int64(n), 0).Sub(now)) / float64(time.Second)
				}
				if n > 0 {
					q.Reset = seconds(n)
				}
			}
		}
	}
	return q
}

// sfParams is a loose reading of a structured-field list: each member's
// parameters by key, the first member winning; a bare number member is
// kept under the key "". Quotes around a name are ignored.
type sfParamMap map[string]string

func sfParams(v string) sfParamMap {
	m := sfParamMap{}
	for _, member := range strings.Split(v, ",") {
		for i, part := range strings.Split(member, ";") {
			part = strings.TrimSpace(part)
			k, val, ok := strings.Cut(part, "=")
			if !ok {
				if i == 0 {
					k, val = "", part
				} else {
					continue
				}
			}
			k = strings.ToLower(strings.TrimSpace(k))
			if _, seen := m[k]; !seen {
				m[k] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	return m
}

func (m sfParamMap) num(k string) (float64, bool) { return number(m[k]) }

func number(s string) (float64, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, false
	}
	return n, true
}

func seconds(n float64) time.Duration {
	const most = 24 * time.Hour
	if n*float64(time.Second) >= float64(most) {
		return most
	}
	return time.Duration(n * float64(time.Second))
}
