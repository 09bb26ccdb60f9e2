package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	in := fromBuild(&debug.BuildInfo{
		Main: debug.Module{Path: "github.com/lanchat/lanchat", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-07T18:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	})
	want := "v0.3.0 (commit 0123456789abcdef0123456789abcdef01234567+changes, 2026-12-07T18:00:00Z, " +
		runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got := in.String(); got != want {
		t.Errorf("String() = %q\nwant %q", got, want)
	}
}

func TestStringWithoutCheckout(t *testing.T) {
	got := fromBuild(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}).String()
	if !strings.HasPrefix(got, "(devel) (commit unknown, ") {
		t.Errorf("String() = %q", got)
	}
	if got := fromBuild(nil).Version; got != "(unknown)" {
		t.Errorf("no build info: version %q", got)
	}
}
