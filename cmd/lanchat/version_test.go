package main

import (
	"runtime"
	"testing"

	"github.com/lanchat/lanchat/peer/api/apitest"
)

// TestVersion prints the build without a daemon, as text and as JSON.
func TestVersion(t *testing.T) {
	h := &harness{t: t, svc: &apitest.Service{}, home: shortHome(t)}
	target := runtime.GOOS + "/" + runtime.GOARCH
	contains(t, h.run("", "version").ok(t), "lanchat ", runtime.Version(), target)
	contains(t, h.run("", "--json", "version").ok(t), `"go": "`+runtime.Version()+`"`, `"target": "`+target+`"`)
	if r := h.run("", "version", "extra"); r.code != 2 {
		t.Errorf("version extra: exit %d, want 2", r.code)
	}
}
