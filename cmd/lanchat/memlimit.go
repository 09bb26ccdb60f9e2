package main

import "runtime/debug"

// daemonMemoryLimit is the soft limit the daemon puts on the Go
// runtime's memory unless GOMEMLIMIT sets another: near it the garbage
// collector runs sooner rather than letting the heap grow to twice what
// is live, which keeps the daemon's resident memory under 64 MiB while
// it moves files (a folder of 10,000 small files peaked at about 60 MiB
// without it, 54 MiB with it, in bench/xferload). It is soft: a daemon
// that needs more gets it, at the cost of more collections.
const daemonMemoryLimit = 40 << 20

// limitMemory applies daemonMemoryLimit unless the environment (getenv)
// has GOMEMLIMIT, which the runtime has applied already.
func limitMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(daemonMemoryLimit)
	}
}
