package discovery

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Bounds on the library's log lines: a LAN host sending junk to port
// 5353 makes it log one line per packet.
const (
	maxLibLinesPerSecond = 20
	maxLibLineLen        = 256
)

// libLogger returns the *log.Logger given to hashicorp/mdns, which would
// otherwise write to the standard logger: its lines go to l at Debug.
func libLogger(l *slog.Logger) *log.Logger {
	return log.New(&libWriter{log: l}, "", 0)
}

// libWriter forwards the library's log lines to slog, rate limited.
type libWriter struct {
	log *slog.Logger

	mu      sync.Mutex
	window  time.Time
	written int
}

func (w *libWriter) Write(p []byte) (int, error) {
	if !w.log.Enabled(context.Background(), slog.LevelDebug) {
		return len(p), nil
	}
	msg := strings.TrimSpace(string(p))
	// Logged on every query we make for one address family only.
	if strings.Contains(msg, "Failed to listen to both unicast and multicast") {
		return len(p), nil
	}
	if len(msg) > maxLibLineLen {
		msg = msg[:maxLibLineLen] + "..."
	}
	w.mu.Lock()
	now := time.Now()
	if now.Sub(w.window) >= time.Second {
		w.window, w.written = now, 0
	}
	w.written++
	over := w.written > maxLibLinesPerSecond
	w.mu.Unlock()
	if !over {
		w.log.Debug("mdns library", "line", msg)
	}
	return len(p), nil
}

// orDiscard returns l, or a logger that drops everything when l is nil.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
