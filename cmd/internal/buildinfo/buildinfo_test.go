package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestRead(t *testing.T) {
	t.Parallel()
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		v, c string
	}{
		{"no build info", nil, false, "(devel)", ""},
		{"module version", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3", ""},
		{"devel with revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, true, "(devel)", "0123456789ab"},
		{"modified tree", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, true, "(devel)", "0123456789ab+modified"},
	}
	for _, tc := range cases {
		v, c := Read(tc.bi, tc.ok)
		if v != tc.v || c != tc.c {
			t.Errorf("%s: %q %q, want %q %q", tc.name, v, c, tc.v, tc.c)
		}
	}
}
