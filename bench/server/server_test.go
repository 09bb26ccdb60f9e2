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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/rendezvous"
	"github.com/lanchat/lanchat/rendezvous/store"
)

func TestCheckLoopback(t *testing.T) {
	good := []string{"127.0.0.1:7443", "127.1.2.3:1", "127.255.255.254:65535"}
	bad := []string{"", "127.0.0.1", "127.0.0.1:0", "localhost:7443", "[::1]:7443", "10.0.0.1:7443", "0.0.0.0:7443", "128.0.0.1:7443", "[::ffff:127.0.0.1]:7443"}
	for _, in := range append(good, bad...) {
		err := checkLoopback("addr", in)
		if ok := slices.Contains(good, in); (err == nil) != ok || (err != nil && !errors.Is(err, errUsage)) {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v or a usage error", in, err, ok)
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

// runBench runs the command against a fresh server with args after
// --addr and --fingerprint, and returns its report.
func runBench(t *testing.T, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("opens connections and runs the relay phase")
	}
	addr, fp := startServer(t)
	var out, errs bytes.Buffer
	args = append([]string{"--addr", addr, "--fingerprint", fp, "--server-pid", strconv.Itoa(os.Getpid())}, args...)
	if code := Main(args, &out, &errs); code != 0 {
		t.Fatalf("bench exited %d: %s\n%s", code, errs.String(), out.String())
	}
	return out.String()
}

// wantRows checks that report has a row starting with each of want.
func wantRows(t *testing.T, report string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(report, "| "+w) {
			t.Errorf("report lacks %q:\n%s", w, report)
		}
	}
}

func TestBenchSmall(t *testing.T) {
	report := runBench(t, "--idle", "40", "--hold", "200ms", "--senders", "2", "--duration", "500ms", "--pool", "50",
		"--probe-rate", "20", "--dial-concurrency", "8", "--heartbeat", "50ms", "--rate", "40", "--sealed", "5", "--ack-batch", "4")
	wantRows(t, report,
		"idle sessions held at the end of the hold | 40 | sessions |",
		"server RSS per held session |",
		"heartbeat replies during the hold |",
		"relay.send acknowledged (committed) per second |",
		"relay.send errors | 0 | requests |",
		"delivery latency (relay.send → relay event) p99 |",
		"probe friends.list latency (2 friends, 20/s) p50 |",
		"probe ping latency (20/s) p50 |",
		"idle sessions still held after the relay phase | 40 | sessions |",
		"relayed messages offered per second (--rate) | 40.0 | msg/s |",
		"server CPU time per acknowledged message |")
	// --rate 40 for 500 ms: about 20 envelopes, those sealed once reused
	// under fresh ids (--sealed), all delivered.
	acked, delivered := reportInt(t, report, "relay.send acknowledged in all"), reportInt(t, report, "delivered after a drain of up to 10s")
	if acked < 1 || acked > 22 || delivered != acked {
		t.Errorf("%d acknowledged (want 1 to 22 at 40/s for 500ms), %d delivered:\n%s", acked, delivered, report)
	}
}

// reportInt reads the integer value of the report's row name.
func reportInt(t *testing.T, report, name string) int {
	t.Helper()
	for line := range strings.Lines(report) {
		if f := strings.Split(line, "|"); len(f) > 3 && strings.TrimSpace(f[1]) == name {
			n, err := strconv.Atoi(strings.TrimSpace(f[2]))
			if err != nil {
				t.Fatalf("row %q: %v", name, err)
			}
			return n
		}
	}
	t.Fatalf("no row %q in:\n%s", name, report)
	return 0
}
