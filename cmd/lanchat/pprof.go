package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/lanchat/lanchat/internal/profiling"
)

// servePprof opens the profiler's listener on addr (a loopback address:
// `lanchat daemon --pprof 127.0.0.1:6060`) and serves Go's profiles on it
// from a goroutine that ends with ctx; wait returns once it has.
func servePprof(ctx context.Context, addr string, log *slog.Logger) (ln net.Listener, wait func(), err error) {
	ln, err = profiling.Listen(ctx, addr)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := profiling.Serve(ctx, ln, log); err != nil {
			log.Warn("profiler stopped", "err", err)
		}
	}()
	return ln, func() { <-done }, nil
}
