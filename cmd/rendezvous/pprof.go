package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lanchat/lanchat/internal/profiling"
)

// pprofFlagHelp documents --pprof.
const pprofFlagHelp = "loopback address for Go's profiler (/debug/pprof/), for measuring the server (e.g. 127.0.0.1:6060; off when empty)"

// checkPprofAddr accepts only a loopback address with a port
// (profiling.CheckAddr), as a usage error otherwise.
func checkPprofAddr(addr string) error {
	if err := profiling.CheckAddr(addr); err != nil {
		return fmt.Errorf("%w: --pprof %v", errUsage, err)
	}
	return nil
}

// servePprof serves the profiler on addr until ctx ends.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := profiling.Listen(ctx, addr)
	if err != nil {
		return err
	}
	log.Info("pprof listening", "addr", ln.Addr().String())
	return profiling.Serve(ctx, ln, log)
}
