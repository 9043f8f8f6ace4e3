package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The deployment files in docs/deploy and the commands in the docs are
// what users copy. These tests hold them to the real flag set, so a
// renamed or removed flag (or a made-up one) fails here, not in a cluster.

const repoRoot = "../.."

// realFlag reports whether name (without dashes) is a flag of bulkcancel.
func realFlag(name string) bool {
	return newFlagSet(&options{}, func(string) string { return "" }).Lookup(name) != nil
}

// flagName returns the flag an argument names ("--rate=20" → "rate"), or
// "" when the argument is not a flag ("-" is standard input, "--" ends
// the flags).
func flagName(arg string) string {
	if arg == "-" || arg == "--" || !strings.HasPrefix(arg, "-") {
		return ""
	}
	name := strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

// unknownFlags returns the arguments in args that name no bulkcancel
// flag; "--" ends the flags.
func unknownFlags(args []string) []string {
	var bad []string
	for _, a := range args {
		if a == "--" {
			break
		}
		if n := flagName(a); n != "" && !realFlag(n) {
			bad = append(bad, a)
		}
	}
	return bad
}

// yamlArgs returns every "args:" list of a Kubernetes manifest, block
// style ("- --rate=20" items) or flow style (a JSON array), each item
// unquoted and without its trailing comment.
func yamlArgs(text string) ([][]string, error) {
	lines := strings.Split(text, "\n")
	var lists [][]string
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimPrefix(strings.TrimSpace(line), "- ")
		rest, ok := strings.CutPrefix(trimmed, "args:")
		if !ok {
			continue
		}
		indent := strings.Index(line, "args:")
		rest = strings.TrimSpace(stripComment(rest))
		if rest != "" {
			var list []string
			if err := json.Unmarshal([]byte(rest), &list); err != nil {
				return nil, fmt.Errorf("line %d: args %s: not a list this test can read: %v", i+1, rest, err)
			}
			lists = append(lists, list)
			continue
		}
		var list []string
		for i+1 < len(lines) {
			next := lines[i+1]
			t := strings.TrimSpace(next)
			if t == "" || strings.HasPrefix(t, "#") {
				i++
				continue
			}
			if len(next)-len(strings.TrimLeft(next, " ")) < indent || !strings.HasPrefix(t, "- ") {
				break
			}
			item := strings.TrimSpace(stripComment(strings.TrimPrefix(t, "- ")))
			if len(item) >= 2 && (item[0] == '"' || item[0] == '\'') && item[len(item)-1] == item[0] {
				item = item[1 : len(item)-1]
			}
			list = append(list, item)
			i++
		}
		lists = append(lists, list)
	}
	return lists, nil
}

// stripComment drops a YAML comment: " #" and what follows.
func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		return s[:i]
	}
	if strings.HasPrefix(s, "#") {
		return ""
	}
	return s
}

// dockerExecArgs returns the arguments of the ENTRYPOINT and CMD lines of
// a Dockerfile (exec form), after the program itself.
func dockerExecArgs(text string) ([]string, error) {
	var args []string
	for n, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || (fields[0] != "ENTRYPOINT" && fields[0] != "CMD") {
			continue
		}
		var list []string
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), fields[0]))
		if err := json.Unmarshal([]byte(rest), &list); err != nil {
			return nil, fmt.Errorf("line %d: %s is not in exec form: %v", n+1, fields[0], err)
		}
		if fields[0] == "ENTRYPOINT" && len(list) > 0 {
			list = list[1:]
		}
		args = append(args, list...)
	}
	return args, nil
}

// shellArgs returns the arguments given to bulkcancel on each line of
// shell or cron text that runs it (a word that is bulkcancel or ends in
// /bulkcancel), up to the end of that command.
func shellArgs(text string) [][]string {
	var cmds [][]string
	for _, line := range strings.Split(text, "\n") {
		words := strings.Fields(line)
		for i := 0; i < len(words); i++ {
			if words[i] != "bulkcancel" && !strings.HasSuffix(words[i], "/bulkcancel") {
				continue
			}
			var args []string
			for i++; i < len(words); i++ {
				w := words[i]
				if strings.ContainsAny(w[:1], "|;&>#<") || strings.HasPrefix(w, "2>") || w == "`" {
					break
				}
				args = append(args, strings.Trim(w, "`"))
			}
			cmds = append(cmds, args)
		}
	}
	return cmds
}

// codeBlocks returns the text inside the fenced code blocks of markdown.
func codeBlocks(md string) string {
	var b strings.Builder
	in := false
	sc := bufio.NewScanner(strings.NewReader(md))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if in {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestDeployManifestFlags(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "docs", "deploy", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no manifests in docs/deploy")
	}
	workloads := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lists, err := yamlArgs(string(b))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		isWorkload := strings.Contains(string(b), "kind: Job") || strings.Contains(string(b), "kind: CronJob")
		if isWorkload {
			workloads++
			if len(lists) == 0 {
				t.Errorf("%s: a Job with no args list", p)
			}
		}
		for _, list := range lists {
			flags := 0
			for _, a := range list {
				if flagName(a) != "" {
					flags++
				}
			}
			if flags == 0 {
				t.Errorf("%s: args %q pass no flag: the reader here may have missed them", p, list)
			}
			if bad := unknownFlags(list); len(bad) > 0 {
				t.Errorf("%s: bulkcancel has no flag %q", p, bad)
			}
		}
	}
	if workloads < 3 {
		t.Errorf("found %d Job and CronJob manifests in docs/deploy, want the Job, the Indexed Job and the CronJob", workloads)
	}
}

func TestDeployDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	checkSays(t, "the Dockerfile", text, "FROM golang:", "CGO_ENABLED=0", "./cmd/bulkcancel", `ENTRYPOINT ["/bulkcancel"]`)
	// Today the image passes no flag (the Job gives them); this holds any
	// an ENTRYPOINT or CMD gains later to the flag set.
	args, err := dockerExecArgs(text)
	if err != nil {
		t.Fatal(err)
	}
	if bad := unknownFlags(args); len(bad) > 0 {
		t.Errorf("Dockerfile: bulkcancel has no flag %q", bad)
	}
}

// TestDocCommandFlags holds the commands in README.md and docs/*.md to the
// real flag set too.
func TestDocCommandFlags(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, filepath.Join(repoRoot, "README.md"))
	cmds := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range shellArgs(codeBlocks(string(b))) {
			cmds++
			if bad := unknownFlags(args); len(bad) > 0 {
				t.Errorf("%s: bulkcancel has no flag %q (in %q)", p, bad, args)
			}
		}
	}
	if cmds == 0 {
		t.Error("no bulkcancel command found in the docs' code blocks")
	}
}

// TestFlagCheckers makes sure the readers above see flags where they are
// and that a flag bulkcancel does not have fails the check.
func TestFlagCheckers(t *testing.T) {
	t.Parallel()
	manifest := `
spec:
  containers:
    - args:
        - --rate=20          # a comment
        - "--bogus-flag=1"
        - -dry-run
        - /input/calls.csv
      env: []
    - args: ["--concurrency=4", "--no-such"]
`
	lists, err := yamlArgs(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 2 {
		t.Fatalf("read %d args lists, want 2: %q", len(lists), lists)
	}
	if got := unknownFlags(lists[0]); len(got) != 1 || got[0] != "--bogus-flag=1" {
		t.Errorf("block list: unknown %q, want [--bogus-flag=1] (list %q)", got, lists[0])
	}
	if got := unknownFlags(lists[1]); len(got) != 1 || got[0] != "--no-such" {
		t.Errorf("flow list: unknown %q, want [--no-such]", got)
	}
	if _, err := yamlArgs("args: [--rate=20\n"); err == nil {
		t.Error("an args list the reader cannot parse passed")
	}

	docker, err := dockerExecArgs("FROM scratch\nENTRYPOINT [\"/bulkcancel\", \"--yes\"]\nCMD [\"--made-up\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := unknownFlags(docker); len(got) != 1 || got[0] != "--made-up" {
		t.Errorf("Dockerfile: unknown %q, want [--made-up]", got)
	}

	sh := "x | /usr/local/bin/bulkcancel --api-key-file k --rat 20 - >>log 2>&1 # --not-a-flag\nbin/bulkcancel --yes -- -odd.csv\nbulkcancel-20260412.csv --nope\n"
	var bad []string
	for _, args := range shellArgs(sh) {
		bad = append(bad, unknownFlags(args)...)
	}
	if len(bad) != 1 || bad[0] != "--rat" {
		t.Errorf("shell: unknown %q, want [--rat]", bad)
	}
}
