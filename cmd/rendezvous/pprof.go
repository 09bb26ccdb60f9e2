package main

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

// pprofFlagHelp documents --pprof.
const pprofFlagHelp = "loopback address for Go's profiler (/debug/pprof/), for measuring the server (e.g. 127.0.0.1:6060; off when empty)"

// checkPprofAddr accepts only a loopback address with a port: the
// profiler shows the server's insides and costs CPU while it samples, so
// it is never offered beyond this machine.
func checkPprofAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: --pprof %q: %v", errUsage, addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: --pprof %q: the host must be a loopback address (127.0.0.1 or ::1)", errUsage, addr)
	}
	if port == "" {
		return fmt.Errorf("%w: --pprof %q: a port is required", errUsage, addr)
	}
	return nil
}

// servePprof serves the profiler on addr until ctx ends.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("pprof: listen: %w", err)
	}
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
	log.Info("pprof listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("pprof: serve: %w", err)
	case <-ctx.Done():
	}
	hs.Close()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pprof: serve: %w", err)
	}
	return nil
}
