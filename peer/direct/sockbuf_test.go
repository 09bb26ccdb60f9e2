package direct

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
)

// The buffer report emits one record, a warning exactly when a buffer is
// below what quic-go asks for.
func TestReportSocketBuffers(t *testing.T) {
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	var buf bytes.Buffer
	reportSocketBuffers(udp, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	out := buf.String()
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want one log line, got %q", out)
	}
	rcv, snd, err := socketBuffers(udp)
	if err != nil {
		t.Skipf("cannot read buffer sizes here: %v", err)
	}
	small := rcv < socketBufferSize || snd < socketBufferSize
	if small != strings.Contains(out, "level=WARN") {
		t.Fatalf("receive %d, send %d: log %q", rcv, snd, out)
	}
	if small && !strings.Contains(out, "sysctl") {
		t.Fatalf("warning without a hint: %q", out)
	}
}
