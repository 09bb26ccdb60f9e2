package server

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/internal/testbed"
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

// runBench runs the command against a real rendezvous server, built
// from this module and started as run.sh starts it (with its metrics),
// with args after the server's flags, and returns the report.
func runBench(t *testing.T, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts the server, opens connections and runs the relay phase")
	}
	dir := t.TempDir()
	bin, err := testbed.Build(t.Context(), filepath.Join(dir, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := testbed.StartServer(t.Context(), bin, "127.0.0.1:0", filepath.Join(dir, "server"), "--metrics", "127.0.0.1:0",
		"--max-conns-per-addr", "1000", "--register-rate", "1000000", "--argon2-memory", "256", "--argon2-time", "1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	var out, errs bytes.Buffer
	args = append([]string{"--addr", srv.Addr, "--fingerprint", srv.Fingerprint, "--server-pid", strconv.Itoa(srv.PID()), "--metrics", srv.Metrics}, args...)
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
		"server CPU time per acknowledged message |",
		"server goroutines per held session |",
		"time for the server to close every session after rvload closed them |")
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
