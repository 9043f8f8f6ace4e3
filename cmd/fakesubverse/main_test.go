package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/subverseai/bulkcancel/cmd/fakesubverse/fake/faketest"
)

// serve starts run with args and returns the base URL from its first stdout
// line, a stop function that cancels it and returns its exit code, and its
// stderr.
func serve(t *testing.T, args ...string) (base string, stop func() int, stderr *faketest.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr = &faketest.Buffer{}
	done := make(chan int, 1)
	go func() {
		code := run(ctx, args, pw, stderr)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no first line (exit %d): %v; stderr:\n%s", <-done, err, stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	stopped := false
	stop = func() int {
		if stopped {
			return -1
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	return strings.TrimSuffix(line, "\n"), stop, stderr
}

func put(t *testing.T, url, key string) (int, string) {
	t.Helper()
	resp, body := putResp(t, url, key)
	return resp.StatusCode, body
}

// putResp sends a cancel with key and returns the response and its body.
func putResp(t *testing.T, url, key string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRunServesAndStops(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := faketest.WriteFile(t, dir, "key", "s3cret-key\n")
	callsFile := faketest.WriteFile(t, dir, "calls.csv", "call_id,status\nmine,call_in_queue\n")
	idsOut := filepath.Join(dir, "ids.csv")
	base, stop, stderr := serve(t, "--addr", "127.0.0.1:0", "--calls", "40", "--calls-file", callsFile,
		"--ids-out", idsOut, "--api-key-file", keyFile, "-envelope-200")

	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/api") {
		t.Fatalf("first line %q is not a base URL", base)
	}
	if code, body := put(t, base+"/call/cancel/mine", "s3cret-key"); code != 200 || !strings.Contains(body, "canceled successfully") {
		t.Errorf("cancel = %d %s", code, body)
	}
	if code, body := put(t, base+"/call/cancel/missing", "s3cret-key"); code != 200 || !strings.Contains(body, `"responseCode":400`) {
		t.Errorf("envelope-200 not found = %d %s", code, body)
	}
	if code, body := put(t, base+"/call/cancel/mine", "wrong"); !strings.Contains(body, `"responseCode":401`) {
		t.Errorf("wrong key = %d %s", code, body)
	}

	ids, err := os.ReadFile(idsOut)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(ids)), "\n")
	if len(lines) != 42 || lines[0] != "call_id,status" || lines[1] != "mine,call_in_queue" {
		t.Errorf("ids-out has %d lines, starting %q", len(lines), lines[:2])
	}

	if code := stop(); code != 0 {
		t.Errorf("exit %d after cancel, want 0", code)
	}
	if log := stderr.String(); strings.Contains(log, "s3cret") || !strings.Contains(log, "file "+keyFile) {
		t.Errorf("stderr leaks the key or lacks its source:\n%s", log)
	}
}

func TestRunKeyFromEnv(t *testing.T) {
	t.Setenv("SUBVERSE_API_KEY", "env-key-123")
	base, stop, stderr := serve(t, "--calls", "1")
	if code, _ := put(t, base+"/call/cancel/x", "env-key-123"); code != 400 {
		t.Errorf("env key refused: %d", code)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
	if log := stderr.String(); strings.Contains(log, "env-key-123") || !strings.Contains(log, "env SUBVERSE_API_KEY") {
		t.Errorf("stderr:\n%s", log)
	}
}

func TestRunHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &stdout, &stderr); code != 0 {
		t.Errorf("--help exit %d", code)
	}
	for _, f := range []string{"addr", "calls", "calls-file", "seed", "ids-out", "envelope-200", "api-key-file",
		"p500", "p503", "p429", "p502", "p-drop-before", "p-drop-after", "p-malformed", "p-truncated",
		"retry-after", "latency", "latency-jitter", "fault-first-n", "fault-seed", "calls-status",
		"limit", "limit-burst", "limit-window", "limit-retry-after", "limit-headers", "limit-latency", "version"} {
		if !strings.Contains(stderr.String(), "-"+f+" ") && !strings.Contains(stderr.String(), "-"+f+"\n") {
			t.Errorf("--help does not list -%s", f)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("--help wrote to stdout: %q", stdout.String())
	}
}

func TestRunRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := faketest.WriteFile(t, dir, "bad.csv", "call_id,status\nx,call_in_queue\ny,nope\n")
	empty := faketest.WriteFile(t, dir, "empty-key", "\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--p500", "1.5"}, "p500"},
		{[]string{"--p500", "0.6", "--p429", "0.6"}, "add up"},
		{[]string{"--calls", "-1"}, "negative"},
		{[]string{"--calls-file", filepath.Join(dir, "absent.csv")}, "absent.csv"},
		{[]string{"--calls-file", bad}, "line 3"},
		{[]string{"--api-key-file", empty}, "empty"},
		{[]string{"--api-key-file", filepath.Join(dir, "nokey")}, "nokey"},
		{[]string{"--calls-status", "queued"}, "call_in_queue"},
		{[]string{"--limit", "-1"}, "rps -1"},
		{[]string{"--limit", "NaN"}, "rps NaN"},
		{[]string{"--limit-burst", "5"}, "need a rate"},
		{[]string{"--limit", "10", "--limit-burst", "-2"}, "burst -2"},
		{[]string{"--limit", "10", "--limit-burst", "5", "--limit-window", "2s"}, "fixed window has none"},
		{[]string{"--limit", "10", "--limit-window", "-1s"}, "window -1s"},
		{[]string{"--limit", "10", "--limit-headers", "ietf"}, `"ietf"`},
		{[]string{"--limit-headers", "draft"}, "need a rate"},
		{[]string{"--limit-latency"}, "need a rate"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", tt.args, code)
		}
		if !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
			t.Errorf("%v: stderr %q lacks %q (stdout %q)", tt.args, stderr.String(), tt.want, stdout.String())
		}
	}
}

func TestRunListenFails(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--addr", "256.0.0.1:1"}, &stdout, &stderr); code != 1 {
		t.Errorf("bad address: exit %d, want 1 (%s)", code, stderr.String())
	}
}

func TestRunLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	idsOut := filepath.Join(dir, "ids.csv")
	// One request per 1000 s: the second one is refused however slow the
	// machine is.
	base, stop, stderr := serve(t, "--calls", "3", "--calls-status", "call_in_queue", "--ids-out", idsOut,
		"--limit", "0.001", "--limit-headers", "split")
	ids, err := os.ReadFile(idsOut)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(ids)), "\n")
	if len(lines) != 4 || strings.Count(string(ids), ",call_in_queue\n") != 3 {
		t.Fatalf("ids-out:\n%s", ids)
	}
	id, _, _ := strings.Cut(lines[1], ",")
	first, _ := putResp(t, base+"/call/cancel/"+id, "fake-key")
	second, _ := putResp(t, base+"/call/cancel/"+id, "fake-key")
	if first.StatusCode != 200 || first.Header.Get("RateLimit-Limit") != "1" || first.Header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("first = %d %v", first.StatusCode, first.Header)
	}
	if second.StatusCode != 429 || second.Header.Get("Retry-After") != "1000" {
		t.Errorf("second = %d %v", second.StatusCode, second.Header)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
	log := stderr.String()
	for _, want := range []string{`limit="0.001/s token bucket, burst 1, Retry-After, split headers"`,
		"cancel_requests=2", "too_many_requests=1", "limited=1"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %s:\n%s", want, log)
		}
	}
}

func TestRunVersion(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &stdout, &stderr); code != 0 {
		t.Errorf("--version exit %d (%s)", code, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "fakesubverse ") || strings.Count(out, "\n") != 1 || strings.Contains(out, "unknown") {
		t.Errorf("--version printed %q", out)
	}
}

func TestVersionLine(t *testing.T) {
	t.Parallel()
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"},
			Settings: settings("vcs.revision", "abc", "vcs.modified", "true")}, true, "fakesubverse v1.4.0 go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs", "git", "vcs.revision", "7eb706d0c1", "vcs.modified", "true")}, true,
			"fakesubverse (devel) 7eb706d0c1+modified go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "7eb706d0c1", "vcs.modified", "false")}, true,
			"fakesubverse (devel) 7eb706d0c1 go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, "fakesubverse (devel) go1.26.8"},
		{&debug.BuildInfo{}, true, "fakesubverse (devel)"},
		{nil, false, "fakesubverse (no build information)"},
	}
	for _, tt := range tests {
		if got := versionLine(tt.bi, tt.ok); got != tt.want {
			t.Errorf("versionLine = %q, want %q", got, tt.want)
		}
	}
}
