package batch

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ParseBaseURL checks an API root URL before any connection is made:
// https, or http only when the host is loopback (localhost, 127.0.0.0/8,
// ::1); no userinfo, query or fragment. A trailing slash is fine.
func ParseBaseURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrBaseURL)
	}
	if err := missingScheme(s); err != nil {
		return nil, err
	}
	u, err := url.Parse(s)
	if err != nil {
		// Not quoted: a URL that does not parse may still hold a password.
		return nil, fmt.Errorf("%w: it does not parse as a URL (look for a stray character or a bad %%-escape); expected e.g. https://api.subverseai.com/api", ErrBaseURL)
	}
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("%w: user name or password in the URL is not allowed (the key goes in SUBVERSE_API_KEY or --api-key-file)", ErrBaseURL)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("%w: %s has a query string; give only scheme, host and path", ErrBaseURL, redactQuery(u))
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, fmt.Errorf("%w: %s has a fragment; give only scheme, host and path", ErrBaseURL, redactQuery(u))
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%w: it has no host; expected e.g. https://api.subverseai.com/api", ErrBaseURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w: %s uses http:// to a host that is not loopback; use https:// (http is allowed only for localhost, 127.0.0.0/8 and ::1)", ErrBaseURL, u.Redacted())
		}
	default:
		return nil, fmt.Errorf("%w: scheme %q is not supported; use https://", ErrBaseURL, u.Scheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// missingScheme returns the error for a base URL written without its
// scheme ("127.0.0.1:8080/api", "api.example.com/api"), naming the URL
// to give instead when that is safe to repeat (it parses as host and
// path, with no user info, query or fragment); nil when s has a scheme.
func missingScheme(s string) error {
	if strings.Contains(s, "://") {
		return nil
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") {
		return fmt.Errorf("%w: expected two slashes after the scheme, e.g. https://api.subverseai.com/api", ErrBaseURL)
	}
	u, err := url.Parse("//" + s)
	if err != nil || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Hostname() == "" {
		return fmt.Errorf("%w: it has no scheme; start it with https:// (or http:// for a loopback host such as 127.0.0.1)", ErrBaseURL)
	}
	scheme := "https://"
	if IsLoopback(u.Hostname()) {
		scheme = "http://"
	}
	return fmt.Errorf("%w: it has no scheme; did you mean %s%s? (https:// for the API, http:// only for a loopback host such as 127.0.0.1)", ErrBaseURL, scheme, s)
}

// IsLoopback reports whether host is localhost, in 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func redactQuery(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment = nil, "", false, ""
	return c.String() + "?…"
}
