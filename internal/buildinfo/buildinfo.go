// Package buildinfo describes the running binary from what the Go
// toolchain stamped into it: the module version, the commit it was built
// from and whether the tree had changes, the Go version and the target.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version and commit are set by the linker (-X) where the toolchain
// cannot stamp them: "make dist" sets them from git, for a checkout that
// is a git worktree (the toolchain reads .git directories only).
var version, commit string

// Info is what a binary knows of its own build.
type Info struct {
	Version  string `json:"version"`            // module version: a tag, a pseudo-version or "(devel)"
	Commit   string `json:"commit,omitempty"`   // vcs.revision, "" when built outside a checkout
	Time     string `json:"time,omitempty"`     // vcs.time, the commit's time (RFC 3339)
	Modified bool   `json:"modified,omitempty"` // the checkout had uncommitted changes
	Go       string `json:"go"`
	Target   string `json:"target"` // GOOS/GOARCH
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromBuild(nil)
	}
	in := fromBuild(bi)
	if version != "" {
		in.Version = version
	}
	if in.Commit == "" && commit != "" {
		in.Commit = commit
	}
	return in
}

func fromBuild(bi *debug.BuildInfo) Info {
	in := Info{Version: "(unknown)", Go: runtime.Version(), Target: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return in
	}
	if bi.Main.Version != "" {
		in.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Commit = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is one line for "PROGRAM version": the version, then the commit
// (marked "+changes" when the tree was modified), its time, the Go
// version and the target.
func (in Info) String() string {
	parts := []string{}
	if in.Commit != "" {
		c := "commit " + in.Commit
		if in.Modified {
			c += "+changes"
		}
		parts = append(parts, c)
		if in.Time != "" {
			parts = append(parts, in.Time)
		}
	} else {
		parts = append(parts, "commit unknown")
	}
	parts = append(parts, in.Go, in.Target)
	return fmt.Sprintf("%s (%s)", in.Version, strings.Join(parts, ", "))
}
