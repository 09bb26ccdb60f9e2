//go:build !unix

package pgtest

import "os/exec"

// ownGroup does nothing where there are no Unix process groups (the
// throwaway cluster is started only on Unix systems).
func ownGroup(*exec.Cmd) {}
