package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// The daemon limits its memory softly, unless GOMEMLIMIT says otherwise.
func TestLimitMemory(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	debug.SetMemoryLimit(math.MaxInt64)
	limitMemory(func(string) string { return "" })
	if got := debug.SetMemoryLimit(-1); got != daemonMemoryLimit {
		t.Errorf("memory limit %d, want %d", got, daemonMemoryLimit)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	limitMemory(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	})
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d", got)
	}
}
