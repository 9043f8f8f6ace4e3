package batch

import (
	"errors"
	"strings"
	"testing"
)

func TestParseBaseURLMissingScheme(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want, never string }{
		{"127.0.0.1:8080/api", "did you mean http://127.0.0.1:8080/api?", ""},
		{"localhost:8080/api", "did you mean http://localhost:8080/api?", ""},
		{"[::1]:8080/api", "did you mean http://[::1]:8080/api?", ""},
		{"api.subverseai.com/api", "did you mean https://api.subverseai.com/api?", ""},
		{"user:secret@host/api", "no scheme", "secret"},
		{"host/api?token=secret", "no scheme", "secret"},
		{"https:/api.subverseai.com/api", "two slashes", ""},
	} {
		_, err := ParseBaseURL(tc.in)
		if !errors.Is(err, ErrBaseURL) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBaseURL(%q) = %v, want it to say %q", tc.in, err, tc.want)
		}
		if tc.never != "" && err != nil && strings.Contains(err.Error(), tc.never) {
			t.Errorf("ParseBaseURL(%q) repeats %q: %v", tc.in, tc.never, err)
		}
	}
}
