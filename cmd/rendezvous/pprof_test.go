package main

import (
	"errors"
	"testing"
)

// TestPprofAddr: the profiler is offered on loopback addresses only.
func TestPprofAddr(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"127.0.0.1:6060", true},
		{"127.0.0.1:0", true},
		{"[::1]:6060", true},
		{"127.9.9.9:6060", true},
		{"0.0.0.0:6060", false},
		{":6060", false},
		{"[::]:6060", false},
		{"10.0.0.5:6060", false},
		{"localhost:6060", false},
		{"127.0.0.1", false},
		{"127.0.0.1:", false},
	} {
		err := checkPprofAddr(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("checkPprofAddr(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errUsage) {
			t.Errorf("checkPprofAddr(%q): %v is not a usage error", tt.in, err)
		}
	}
}
