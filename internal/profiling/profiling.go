// Package profiling serves Go's profiler (net/http/pprof) on a loopback
// address, for measuring the daemon and the server: `--pprof
// 127.0.0.1:6060`, then `go tool pprof http://127.0.0.1:6060/debug/pprof/profile`.
package profiling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"
)

// CheckAddr accepts only a loopback address with a port: profiles show
// what the process is doing to anyone who can connect, and sampling costs
// CPU, so they are never offered beyond this machine.
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("%q: a port is required", addr)
	}
	// A name is refused too: what it resolves to is not ours to check.
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: the host must be a loopback address (127.0.0.1 or ::1)", addr)
	}
	return nil
}

// Listen checks addr and opens the profiler's listener on it.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("profiler: %w", err)
	}
	return ln, nil
}

// Serve serves the profiles on ln until ctx ends, then closes it.
func Serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		// A CPU profile or trace answers after the seconds it was asked
		// to sample.
		WriteTimeout: 5 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("profiler: %w", err)
	case <-ctx.Done():
	}
	hs.Close()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("profiler: %w", err)
	}
	return nil
}
