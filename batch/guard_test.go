package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake"
)

// TestNotFoundGuard walks the rule over scripted results: "n" not_found,
// "c" canceled, "e" a server error after its attempts, "-" not sent.
func TestNotFoundGuard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		minSample int
		expect    bool
		script    string
		tripAt    int  // 1-based index of the result add trips on; 0 for never
		atEnd     bool // end trips after the script
	}{
		{"all not found", 3, false, "nnnnn", 3, false},
		{"one found first", 3, false, "cnnnn", 0, false},
		{"one found within the sample", 3, false, "nncnn", 0, false},
		{"found after the sample", 3, false, "nnncn", 3, false},
		{"errors neither count nor break", 3, false, "ene-enn", 7, false},
		{"short run all not found", 10, false, "nnn", 0, true},
		{"short run with one found", 10, false, "nnc", 0, false},
		{"short run of errors only", 10, false, "eee", 0, false},
		{"nothing sent", 10, false, "---", 0, false},
		{"min sample 0 looks at one", 0, false, "nc", 1, false},
		{"expect not found", 3, true, "nnnnn", 0, false},
		{"expect not found, short run", 10, true, "nn", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.MinSample, cfg.ExpectNotFound = tc.minSample, tc.expect
			g := newNotFoundGuard(cfg)
			trips := 0
			for i, c := range tc.script {
				r := Result{Attempts: 1}
				switch c {
				case 'n':
					r.Outcome = NotFound
				case 'c':
					r.Outcome = Canceled
				case 'e':
					r.Outcome, r.Attempts = ServerError, 5
				case '-':
					r.Outcome, r.Attempts = NotAttempted, 0
				}
				if err := g.add(r); err != nil {
					trips++
					if !errors.Is(err, ErrWrongWorkspace) {
						t.Errorf("error %v does not wrap ErrWrongWorkspace", err)
					}
					if i+1 != tc.tripAt {
						t.Errorf("tripped at result %d, want %d", i+1, tc.tripAt)
					}
				}
			}
			if want := min(tc.tripAt, 1); trips != want {
				t.Errorf("tripped %d times, want %d", trips, want)
			}
			if err := g.end(); (err != nil) != tc.atEnd {
				t.Errorf("end() = %v, want an error: %v", err, tc.atEnd)
			}
		})
	}
}

// TestRunWrongWorkspace: against a fake that knows none of the IDs (a key
// of another workspace), the run stops after the first MinSample answers
// with ErrWrongWorkspace, and the rest are not_attempted, never sent.
// --expect-not-found sends them all.
func TestRunWrongWorkspace(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 200 {
		ids = append(ids, fmt.Sprintf("67493aee00000000000%05d", i))
	}
	t.Run("stops", func(t *testing.T) {
		t.Parallel()
		srv, c := startFake(t, fake.Options{})
		cfg := testConfig()
		cfg.Concurrency = 4
		cfg.MinSample = 20
		got, err := runAll(t, context.Background(), cfg, c, ids)
		if !errors.Is(err, ErrWrongWorkspace) {
			t.Fatalf("err = %v, want ErrWrongWorkspace", err)
		}
		n := countOutcomes(got)
		sent := int(srv.Stats().Requests)
		if n[NotFound] != sent || sent < 20 || sent > 20+cfg.Concurrency {
			t.Errorf("%d requests, %d not_found; want 20 to %d, all not_found", sent, n[NotFound], 20+cfg.Concurrency)
		}
		if n[NotAttempted] != len(ids)-sent {
			t.Errorf("%d not_attempted, want %d", n[NotAttempted], len(ids)-sent)
		}
		for _, r := range got {
			if r.Outcome == NotAttempted && !strings.Contains(r.Error, "none of the first IDs sent exists for this key") {
				t.Errorf("row %d: not sent, because %q", r.Row, r.Error)
			}
		}
	})
	t.Run("expect not found", func(t *testing.T) {
		t.Parallel()
		srv, c := startFake(t, fake.Options{})
		cfg := testConfig()
		cfg.MinSample = 20
		cfg.ExpectNotFound = true
		got, err := runAll(t, context.Background(), cfg, c, ids)
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		if n := countOutcomes(got); n[NotFound] != len(ids) || srv.Stats().Requests != int64(len(ids)) {
			t.Errorf("outcomes %v after %d requests", n, srv.Stats().Requests)
		}
	})
	t.Run("a found ID goes on", func(t *testing.T) {
		t.Parallel()
		srv, c := startFake(t, fake.Options{})
		srv.Add(ids[0], fake.StatusQueued)
		cfg := testConfig()
		cfg.Concurrency = 1 // the found ID answers first
		cfg.MinSample = 20
		got, err := runAll(t, context.Background(), cfg, c, ids)
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		if n := countOutcomes(got); n[Canceled] != 1 || n[NotFound] != len(ids)-1 {
			t.Errorf("outcomes %v", n)
		}
	})
	t.Run("short run", func(t *testing.T) {
		t.Parallel()
		srv, c := startFake(t, fake.Options{})
		cfg := testConfig()
		cfg.MinSample = 100
		got, err := runAll(t, context.Background(), cfg, c, ids[:5])
		if !errors.Is(err, ErrWrongWorkspace) {
			t.Fatalf("err = %v, want ErrWrongWorkspace", err)
		}
		if n := countOutcomes(got); n[NotFound] != 5 || srv.Stats().Requests != 5 {
			t.Errorf("outcomes %v after %d requests", n, srv.Stats().Requests)
		}
	})
}
