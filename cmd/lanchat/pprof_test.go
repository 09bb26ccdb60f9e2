package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
)

func TestPprofOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.168.1.5:6060", "[::]:6060", "example.com:6060", "localhost:6060"} {
		if err := checkDaemonArgs([]string{"--pprof", addr}); err == nil {
			t.Errorf("--pprof %s accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:0"} {
		if err := checkDaemonArgs([]string{"--pprof", addr}); err != nil {
			t.Errorf("--pprof %s: %v", addr, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, wait, err := servePprof(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer wait()
	defer cancel()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(b) == 0 {
		t.Errorf("goroutine profile: %s, %d bytes", resp.Status, len(b))
	}
}
