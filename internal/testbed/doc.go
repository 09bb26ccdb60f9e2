// Package testbed starts lanchat's real binaries as separate processes
// for the end-to-end tests and the benchmarks: one process with its log
// file, its CPU and memory read from /proc (process.go, procstat.go), and
// the CPU that other processes take meanwhile (others.go); a
// rendezvous server and lanchat daemons, registered and befriended
// (cluster.go); network namespaces joined by veth pairs, a bridge or a
// link shaped with tc (netns.go).
//
// It does not import testing: benchmarks are plain binaries. What a test
// gets from *testing.T (a log, cleanups in reverse order) comes through
// the small Owner interface; a benchmark passes a Stack.
package testbed

import (
	"fmt"
	"io"
	"slices"
	"sync"
)

// Owner is who a bed reports to and who cleans up after it.
// *testing.T is one; a benchmark passes a *Stack.
type Owner interface {
	Logf(format string, args ...any)
	Cleanup(func())
}

// Stack is an Owner for programs that are not tests: Logf writes a line
// to W (nothing when W is nil) and Close runs the cleanups, last first.
type Stack struct {
	W io.Writer

	mu  sync.Mutex
	fns []func()
}

// Logf writes one line to s.W.
func (s *Stack) Logf(format string, args ...any) {
	if s.W != nil {
		fmt.Fprintf(s.W, format+"\n", args...)
	}
}

// Cleanup adds fn to the functions Close runs.
func (s *Stack) Cleanup(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fns = append(s.fns, fn)
}

// Close runs the cleanups added so far, last first, each once.
func (s *Stack) Close() {
	s.mu.Lock()
	fns := s.fns
	s.fns = nil
	s.mu.Unlock()
	for _, fn := range slices.Backward(fns) {
		fn()
	}
}
