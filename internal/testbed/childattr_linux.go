package testbed

import "syscall"

// childAttr makes a child process get SIGTERM if its parent dies without
// stopping it (killed with SIGKILL, say), so no daemon outlives a run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
