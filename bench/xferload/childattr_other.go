//go:build !linux

package main

import "syscall"

// childAttr has nothing to add where there is no parent-death signal:
// xferload stops its children itself when it ends.
func childAttr() *syscall.SysProcAttr { return nil }
