package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/rendezvous"
	"github.com/lanchat/lanchat/rendezvous/store"
)

func TestCheckLoopback(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"127.0.0.1:7443", true},
		{"127.1.2.3:1", true},
		{"127.255.255.254:65535", true},
		{"", false},
		{"127.0.0.1", false},
		{"127.0.0.1:0", false},
		{"localhost:7443", false},
		{"[::1]:7443", false},
		{"10.0.0.1:7443", false},
		{"0.0.0.0:7443", false},
		{"128.0.0.1:7443", false},
		{"[::ffff:127.0.0.1]:7443", false},
	} {
		err := checkLoopback("addr", tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil && !errors.Is(err, errUsage) {
			t.Errorf("checkLoopback(%q): %v is not a usage error", tt.in, err)
		}
	}
}

func TestMessageText(t *testing.T) {
	for _, size := range []int{1, 10, 45, 200, 5000} {
		if got := messageText("relay-s-001", 12, size); len(got) != size {
			t.Errorf("messageText(size %d) has %d bytes", size, len(got))
		}
	}
}

// startServer runs a real rendezvous server in this process, on
// 127.0.0.1 with a SQLite store in a temporary directory, and returns its
// address and certificate fingerprint.
func startServer(t *testing.T) (addr, fp string) {
	t.Helper()
	dir := t.TempDir()
	cert, _, err := rendezvous.LoadOrCreateCertificate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "rendezvous.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := rendezvous.New(rendezvous.Config{
		TLS:             rendezvous.TLSConfig(cert),
		MaxConnsPerAddr: 1000,
		Password:        password.Params{Memory: 64, Time: 1, Threads: 1},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, st)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
		st.Close()
	})
	return ln.Addr().String(), rendezvous.Fingerprint(cert)
}

func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("opens a few hundred connections")
	}
	addr, fp := startServer(t)
	var out, errs bytes.Buffer
	args := []string{"--addr", addr, "--fingerprint", fp, "--server-pid", strconv.Itoa(os.Getpid()),
		"--idle", "40", "--hold", "200ms", "--senders", "2", "--duration", "500ms", "--pool", "50",
		"--probe-rate", "20", "--dial-concurrency", "8", "--heartbeat", "50ms"}
	if code := Main(args, &out, &errs); code != 0 {
		t.Fatalf("bench exited %d: %s\n%s", code, errs.String(), out.String())
	}
	report := out.String()
	for _, want := range []string{
		"| idle sessions held at the end of the hold | 40 | sessions |",
		"| relay.send acknowledged (committed) per second |",
		"| probe ping latency (20/s) p50 |",
		"| idle sessions still held after the relay phase | 40 | sessions |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(report, "| relay.send errors | 0 | requests |") {
		t.Errorf("relay.send errors:\n%s", report)
	}
}
