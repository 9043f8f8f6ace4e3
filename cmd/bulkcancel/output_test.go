package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// sgr matches an ANSI colour or style sequence (Select Graphic Rendition).
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestNoColor: on a terminal the console log is coloured unless NO_COLOR
// is set and not empty; the progress bar uses no colour either way.
func TestNoColor(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	ids := srv.Seed(20)
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		colours bool
	}{
		{"default", nil, true},
		{"NO_COLOR=1", map[string]string{"NO_COLOR": "1"}, false},
		{"NO_COLOR empty", map[string]string{"NO_COLOR": ""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, in := idsInput(t, ids)
			res := runOnTTY(t, tc.vars, "--base-url", base, "--rate", "0", "--report", filepath.Join(dir, "r"), in)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "starting") || !strings.Contains(res.stderr, "20/20 rows") {
				t.Fatalf("no console log or no bar on the terminal:\n%q", res.stderr)
			}
			if got := sgr.MatchString(res.stderr); got != tc.colours {
				t.Errorf("colour sequences on stderr: %v, want %v\n%q", got, tc.colours, res.stderr)
			}
			for _, line := range strings.Split(res.stderr, "\n") {
				if strings.Contains(line, " rows | ") && sgr.MatchString(line) {
					t.Errorf("the bar is coloured: %q", line)
				}
			}
		})
	}
}

// TestQuiet: --quiet leaves only errors on stderr and the summary on
// stdout, as --log-level error --progress off; a --log-level or
// --progress given as well wins.
func TestQuiet(t *testing.T) {
	t.Parallel()
	srv, base := faketest.StartFake(t, fake.Options{})
	ids := srv.Seed(20)
	t.Run("quiet run", func(t *testing.T) {
		t.Parallel()
		dir, in := idsInput(t, ids)
		prefix := filepath.Join(dir, "r")
		res := runOnTTY(t, nil, "--base-url", base, "--rate", "0", "--quiet", "--report", prefix, in)
		if res.code != 0 || res.stderr != "" {
			t.Errorf("exit %d, stderr %q, want 0 and nothing", res.code, res.stderr)
		}
		if !strings.Contains(res.stdout, "20 rows in ") || !strings.Contains(res.stdout, "Report: ") {
			t.Errorf("no summary:\n%s", res.stdout)
		}
		rep := readJSONReport(t, prefix)
		if rep.Config["quiet"] != true || rep.Config["log_level"] != "error" || rep.Config["progress"] != "off" {
			t.Errorf("config quiet %v log_level %v progress %v", rep.Config["quiet"], rep.Config["log_level"], rep.Config["progress"])
		}
	})
	t.Run("errors still show", func(t *testing.T) {
		t.Parallel()
		dir, in := idsInput(t, ids)
		res := runCmd(t, map[string]string{"SUBVERSE_API_KEY": "wrong"}, "", "--base-url", base, "--rate", "0", "--quiet",
			"--report", filepath.Join(dir, "r"), in)
		if res.code != 3 || !strings.Contains(res.stderr, `"level":"error"`) || strings.Contains(res.stderr, `"level":"info"`) {
			t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
		}
		if !strings.Contains(res.stdout, "Stopped early") {
			t.Errorf("no summary:\n%s", res.stdout)
		}
	})
	t.Run("log level given wins", func(t *testing.T) {
		t.Parallel()
		dir, in := idsInput(t, ids)
		res := runOnTTY(t, nil, "--base-url", base, "--rate", "0", "--quiet", "--log-level", "info", "--report", filepath.Join(dir, "r"), in)
		if res.code != 0 || !strings.Contains(res.stderr, "starting") || strings.Contains(res.stderr, " rows | ") {
			t.Errorf("exit %d, want info lines and no bar:\n%q", res.code, res.stderr)
		}
	})
	t.Run("progress given wins", func(t *testing.T) {
		t.Parallel()
		dir, in := idsInput(t, ids)
		res := runOnTTY(t, nil, "--base-url", base, "--rate", "0", "--quiet", "--progress", "on", "--report", filepath.Join(dir, "r"), in)
		if res.code != 0 || strings.Contains(res.stderr, "starting") || !strings.Contains(res.stderr, "20/20 rows") {
			t.Errorf("exit %d, want the bar and no info lines:\n%q", res.code, res.stderr)
		}
	})
}
