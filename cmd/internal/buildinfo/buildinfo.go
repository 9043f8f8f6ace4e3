// Package buildinfo names the version of a binary built without a stamp
// (go install, go build): what the Go toolchain recorded in it. --version
// prints it: fakesubverse always, bulkcancel when make build's -ldflags
// did not stamp a version.
package buildinfo

import "runtime/debug"

// Read returns the module version, or "(devel)", and the VCS revision
// (12 characters) with "+modified" when the tree had changes; the commit
// is "" when the build recorded none. ok is debug.ReadBuildInfo's.
func Read(bi *debug.BuildInfo, ok bool) (version, commit string) {
	version = "(devel)"
	if !ok || bi == nil {
		return version, ""
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit != "" && modified {
		commit += "+modified"
	}
	return version, commit
}
