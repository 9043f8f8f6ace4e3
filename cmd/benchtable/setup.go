//go:build linux

package main

// Getting ready to measure: the module root, the two binaries (built when
// missing or older than the sources) and the comparison tools (wrk, curl).

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func (b *bench) setup(ctx context.Context) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	b.root = root
	b.out = b.cfg.out
	if !filepath.IsAbs(b.out) {
		b.out = filepath.Join(root, b.out)
	}
	if err := os.MkdirAll(b.out, 0o755); err != nil {
		return err
	}
	if b.goBin, err = exec.LookPath("go"); err != nil {
		return fmt.Errorf("the go command is not on PATH: %w", err)
	}
	if err := b.binaries(ctx); err != nil {
		return err
	}
	if c := b.cfg; c.runs("throughput") || c.runs("curl") || c.runs("latency") {
		b.tools(ctx) // only these sections compare with wrk and curl
	}
	return nil
}

// moduleRoot is the directory of go.mod, from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/subverseai/bulkcancel") {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run benchtable inside the bulkcancel module (no go.mod above %s)", dir)
		}
	}
}

// binaries finds or builds bin/bulkcancel and bin/fakesubverse.
func (b *bench) binaries(ctx context.Context) error {
	if b.cfg.binDir != "" {
		dir, _ := filepath.Abs(b.cfg.binDir)
		b.bulkBin, b.fakeBin = filepath.Join(dir, "bulkcancel"), filepath.Join(dir, "fakesubverse")
		b.binNote = "binaries from " + b.cfg.binDir
		for _, p := range []string{b.bulkBin, b.fakeBin} {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("-bin: %w", err)
			}
		}
		return nil
	}
	bin := filepath.Join(b.root, "bin")
	b.bulkBin, b.fakeBin = filepath.Join(bin, "bulkcancel"), filepath.Join(bin, "fakesubverse")
	newest := newestSource(b.root)
	fresh := true
	for _, p := range []string{b.bulkBin, b.fakeBin} {
		if st, err := os.Stat(p); err != nil || st.ModTime().Before(newest) {
			fresh = false
		}
	}
	if fresh {
		b.binNote = "bin/ as built by make build"
		return nil
	}
	b.logf("building bin/bulkcancel and bin/fakesubverse")
	for _, t := range []struct{ out, pkg string }{{b.bulkBin, "./cmd/bulkcancel"}, {b.fakeBin, "./cmd/fakesubverse"}} {
		cmd := b.procs.command(ctx, b.goBin, "build", "-trimpath", "-ldflags", "-s -w", "-o", t.out, t.pkg)
		cmd.Dir = b.root
		cmd.Stdout, cmd.Stderr = b.log, b.log
		if err := b.procs.run(cmd); err != nil {
			return fmt.Errorf("go build %s: %w", t.pkg, err)
		}
	}
	b.binNote = "bin/ built by benchtable (go build -trimpath)"
	return nil
}

// newestSource is the latest modification time of the module's Go
// sources, go.mod and go.sum.
func newestSource(root string) time.Time {
	var newest time.Time
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "bench-out", "demo-out", "testdata", "benchtable":
				return filepath.SkipDir
			}
			return nil
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" {
			if info, err := d.Info(); err == nil && info.ModTime().After(newest) {
				newest = info.ModTime()
			}
		}
		return nil
	})
	return newest
}

// tools finds wrk, curl and xargs, installing wrk and curl with apt-get
// when they are missing and that is possible.
func (b *bench) tools(ctx context.Context) {
	find := func() (missing []string) {
		b.wrkBin, _ = exec.LookPath("wrk")
		b.curlBin, _ = exec.LookPath("curl")
		b.xargsBin, _ = exec.LookPath("xargs")
		if b.wrkBin == "" {
			missing = append(missing, "wrk")
		}
		if b.curlBin == "" {
			missing = append(missing, "curl")
		}
		return missing
	}
	missing := find()
	if len(missing) == 0 {
		return
	}
	why := ""
	apt, aptErr := exec.LookPath("apt-get")
	switch {
	case b.cfg.noInstall:
		why = "-no-install was given"
	case aptErr != nil:
		why = "apt-get is not available"
	case os.Geteuid() != 0:
		why = "not running as root (run: sudo apt-get install -y " + strings.Join(missing, " ") + ")"
	default:
		b.logf("installing %s with apt-get (log in %s)", strings.Join(missing, " "), b.path("logs", "apt-get.log"))
		logf, err := os.Create(b.path("logs", "apt-get.log"))
		if err == nil {
			defer logf.Close()
		}
		install := func(args ...string) error {
			cmd := b.procs.command(ctx, apt, args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if logf != nil {
				cmd.Stdout, cmd.Stderr = logf, logf
			}
			return b.procs.run(cmd)
		}
		args := append([]string{"install", "-y", "--no-install-recommends"}, missing...)
		if install(args...) != nil && install("update") == nil {
			_ = install(args...)
		}
		if still := find(); len(still) > 0 {
			missing, why = still, "apt-get install failed (see "+b.path("logs", "apt-get.log")+")"
		} else {
			missing = nil
		}
	}
	for _, m := range missing {
		b.skipped = append(b.skipped, fmt.Sprintf("%s is not installed and %s: the rows that need it are skipped", m, why))
	}
	if b.xargsBin == "" && b.curlBin != "" {
		b.curlBin = ""
		b.skipped = append(b.skipped, "xargs is not installed: the xargs curl row is skipped")
	}
}
