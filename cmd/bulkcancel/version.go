package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/subverseai/bulkcancel/cmd/internal/buildinfo"
)

// versionLine is what --version prints.
func versionLine() string {
	v, c := versionInfo()
	if c == "" {
		return fmt.Sprintf("bulkcancel %s (%s)", v, runtime.Version())
	}
	return fmt.Sprintf("bulkcancel %s (commit %s, %s)", v, c, runtime.Version())
}

// versionInfo is the version and commit of this build: the ones stamped by
// make build (-ldflags -X), else what the Go toolchain recorded (go
// install, go build): the module version, or "(devel)", and the VCS
// revision with "+modified" when the tree had changes. The commit is ""
// when the build recorded none.
func versionInfo() (string, string) {
	if version != "" {
		return version, commit
	}
	return buildinfo.Read(debug.ReadBuildInfo())
}

// buildVersion is the version for logs and the JSON report.
func buildVersion() string {
	v, c := versionInfo()
	if c != "" && v == "(devel)" {
		return v + " " + c
	}
	return v
}
