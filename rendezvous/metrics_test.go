package rendezvous

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// serveMetrics runs ServeMetricsListener on 127.0.0.1:0 and returns its
// base URL; the server is stopped, and its return checked, at cleanup.
func serveMetrics(t *testing.T, m *Metrics, health func() error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeMetricsListener(ctx, ln, m, health, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeMetricsListener returned %v after ctx ended, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("ServeMetricsListener did not return after ctx ended")
		}
	})
	return "http://" + ln.Addr().String()
}

// httpGet fetches url and returns the status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	m.ConnOpened()
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed()
	m.ConnRejected("too_many_conns")
	m.ConnRejected("too_many_conns")
	m.ConnRejected("slow_reader")
	m.SessionsOnline(9)
	m.SessionsOnline(7)
	m.LoginOK()
	m.LoginFailed("bad_credentials")
	m.LoginFailed("bad_credentials")
	m.LoginFailed("backoff")
	m.RelayQueued()
	m.RelayQueued()
	m.RelayQueued()
	m.RelayDelivered(2)
	m.RelayDelivered(3)
	m.RelayExpired(4)
	m.ObserveRequest("login", 200*time.Millisecond, "ok")
	m.ObserveRequest("login", 300*time.Millisecond, "ok")
	m.ObserveRequest("login", 2*time.Millisecond, "bad_credentials")
	m.ObserveRequest("ping", 50*time.Microsecond, "ok")

	base := serveMetrics(t, m, nil)
	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	for _, line := range []string{
		`lanchat_rendezvous_connections_opened_total 3`,
		`lanchat_rendezvous_connections_closed_total 1`,
		`lanchat_rendezvous_connections_open 2`,
		`lanchat_rendezvous_connections_rejected_total{reason="too_many_conns"} 2`,
		`lanchat_rendezvous_connections_rejected_total{reason="slow_reader"} 1`,
		`lanchat_rendezvous_sessions_online 7`,
		`lanchat_rendezvous_logins_ok_total 1`,
		`lanchat_rendezvous_logins_failed_total{reason="bad_credentials"} 2`,
		`lanchat_rendezvous_logins_failed_total{reason="backoff"} 1`,
		`lanchat_rendezvous_relay_queued_total 3`,
		`lanchat_rendezvous_relay_delivered_total 5`,
		`lanchat_rendezvous_relay_expired_total 4`,
		`lanchat_rendezvous_requests_total{code="ok",op="login"} 2`,
		`lanchat_rendezvous_requests_total{code="bad_credentials",op="login"} 1`,
		`lanchat_rendezvous_requests_total{code="ok",op="ping"} 1`,
		`lanchat_request_duration_seconds_count{op="login"} 3`,
		`lanchat_request_duration_seconds_sum{op="login"} 0.502`,
		`lanchat_request_duration_seconds_bucket{op="login",le="0.0025"} 1`,
		`lanchat_request_duration_seconds_bucket{op="login",le="0.25"} 2`,
		`lanchat_request_duration_seconds_bucket{op="login",le="+Inf"} 3`,
		`lanchat_request_duration_seconds_bucket{op="ping",le="0.0001"} 1`,
		`# TYPE lanchat_request_duration_seconds histogram`,
		`# TYPE lanchat_rendezvous_connections_opened_total counter`,
		`# TYPE lanchat_rendezvous_sessions_online gauge`,
	} {
		if !hasLine(body, line) {
			t.Errorf("/metrics lacks the line %q", line)
		}
	}
	// The runtime and process collectors are in the same registry.
	for _, prefix := range []string{"go_goroutines ", "go_memstats_alloc_bytes ", "process_start_time_seconds "} {
		if !hasPrefixLine(body, prefix) {
			t.Errorf("/metrics lacks %q", prefix)
		}
	}
	// The handler counts its own scrapes, in the same registry.
	if code, body := httpGet(t, base+"/metrics"); code != http.StatusOK || !hasLine(body, `promhttp_metric_handler_requests_total{code="200"} 1`) {
		t.Errorf("second scrape: %d; handler's own counter missing", code)
	}
}

func hasLine(body, line string) bool {
	for l := range strings.Lines(body) {
		if strings.TrimSuffix(l, "\n") == line {
			return true
		}
	}
	return false
}

func hasPrefixLine(body, prefix string) bool {
	for l := range strings.Lines(body) {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func TestMetricsRegistriesAreSeparate(t *testing.T) {
	a, b := NewMetrics(), NewMetrics() // would panic on a shared registry
	a.LoginOK()
	base := serveMetrics(t, b, nil)
	if _, body := httpGet(t, base+"/metrics"); !hasLine(body, "lanchat_rendezvous_logins_ok_total 0") {
		t.Error("a count on one Metrics shows in another")
	}
}

func TestHealthz(t *testing.T) {
	var failing atomic.Bool
	health := func() error {
		if failing.Load() {
			return errors.New("store: database is locked")
		}
		return nil
	}
	base := serveMetrics(t, NewMetrics(), health)

	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("healthy: GET /healthz = %d %q, want 200 \"ok\"", code, body)
	}
	failing.Store(true)
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store: database is locked") {
		t.Errorf("unhealthy: GET /healthz = %d %q, want 503 with the error", code, body)
	}
	failing.Store(false)
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("recovered: GET /healthz = %d, want 200", code)
	}

	resp, err := http.Post(base+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.StatusCode)
	}
	if code, _ := httpGet(t, base+"/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", code)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	// None of these may panic.
	m.ConnOpened()
	m.ConnClosed()
	m.ConnRejected("x")
	m.SessionsOnline(1)
	m.LoginOK()
	m.LoginFailed("x")
	m.RelayQueued()
	m.RelayDelivered(1)
	m.RelayExpired(1)
	m.ObserveRequest("ping", time.Millisecond, "ok")

	base := serveMetrics(t, nil, nil)
	if code, _ := httpGet(t, base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics without metrics = %d, want 404", code)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz without a health check = %d, want 200", code)
	}
}

func TestServeMetricsStops(t *testing.T) {
	// Find a free port, then let ServeMetrics listen on it.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ServeMetrics(ctx, addr, NewMetrics(), nil, nil) }()

	// Wait until it answers; the port might in rare cases have been taken
	// in between, which the error from done would tell.
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("ServeMetrics returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A second server on the same address fails with a clear error.
	if err := ServeMetrics(ctx, addr, nil, nil, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "metrics: listen") {
		t.Errorf("second ServeMetrics on %s = %v, want a listen error", addr, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeMetrics after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeMetrics did not return after ctx ended")
	}
	if _, err := client.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("metrics server still answers after shutdown")
	}
}

// addUser creates an account straight in the store, so that the server's
// counters see only what the test does afterwards.
func addUser(t *testing.T, ts *testServer, name, pw string) {
	t.Helper()
	hash, err := password.NewHasher(testPassword, 1).Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	priv, pk := newIdentity(t, name)
	err = ts.store.CreateUser(context.Background(), store.User{
		Name: name, DisplayName: name, PasswordHash: hash,
		IdentityKey: priv.Public().(ed25519.PublicKey), Prekey: pk, Created: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMetricsFromServer runs requests against a real server and reads
// the counts they left through /metrics.
func TestMetricsFromServer(t *testing.T) {
	m := NewMetrics()
	ts := startServer(t, func(cfg *Config) { cfg.Metrics = m })
	ctx := context.Background()
	addUser(t, ts, "alice", "alice-password")
	addUser(t, ts, "bob", "bob-password")
	now := time.Now().UTC()
	if err := ts.store.CreateFriendRequest(ctx, store.FriendRequest{From: "alice", To: "bob", At: now}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.AcceptFriendRequest(ctx, "alice", "bob", now); err != nil {
		t.Fatal(err)
	}

	a := ts.dial(t)
	sess := call[wire.Session](t, a, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "alice-password"})
	b := ts.dial(t)
	call[wire.Session](t, b, wire.OpLogin, wire.LoginRequest{Username: "bob", Password: "bob-password"})
	x := ts.dial(t)
	callErr(t, x, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "wrong-password"}, wire.CodeBadCredentials)
	callErr(t, x, wire.OpLogin, wire.LoginRequest{Username: "bob", Password: "wrong-password"}, wire.CodeBadCredentials)
	callErr(t, x, wire.OpLogin, wire.LoginRequest{Username: "nobody", Password: "wrong-password"}, wire.CodeBadCredentials)
	callErr(t, x, wire.OpResume, wire.ResumeRequest{Token: "no-such-token"}, wire.CodeSessionInvalid)
	a2 := ts.dial(t)
	call[wire.Session](t, a2, wire.OpResume, wire.ResumeRequest{Token: sess.Token})

	for _, id := range []string{"00000000000000000000000000000001", "00000000000000000000000000000002", "00000000000000000000000000000001"} {
		relayVia(t, a2, wire.RelayEnvelope{To: "bob", ID: id, Envelope: []byte("sealed")})
	}
	if r := relayVia(t, a2, wire.RelayEnvelope{To: "nobody", ID: "00000000000000000000000000000003", Envelope: []byte("sealed")}); r.Error == nil || r.Error.Code != wire.CodeNotFound {
		t.Fatalf("relay to nobody: %+v", r)
	}
	for _, ev := range relayEventsVia(t, b, 2) {
		call[wire.Empty](t, b, wire.OpRelayAck, wire.RelayAckRequest{Acks: []wire.RelayRef{{From: ev.From, ID: ev.ID}}})
	}

	base := serveMetrics(t, m, ts.srv.Health)
	code, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, line := range []string{
		`lanchat_rendezvous_logins_ok_total 3`, // two logins and a resume
		`lanchat_rendezvous_logins_failed_total{reason="bad_credentials"} 3`,
		`lanchat_rendezvous_logins_failed_total{reason="session_invalid"} 1`,
		`lanchat_rendezvous_relay_queued_total 2`,
		`lanchat_rendezvous_relay_delivered_total 2`,
		`lanchat_rendezvous_sessions_online 2`,
		`lanchat_request_duration_seconds_count{op="relay.send"} 4`,
		`lanchat_request_duration_seconds_count{op="login"} 5`,
		`lanchat_request_duration_seconds_count{op="resume"} 2`,
		`lanchat_rendezvous_requests_total{code="ok",op="relay.send"} 4`,
		`lanchat_rendezvous_requests_total{code="bad_credentials",op="login"} 3`,
	} {
		if !hasLine(body, line) {
			t.Errorf("/metrics lacks the line %q", line)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}

	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz on a running server = %d %q, want 200 \"ok\\n\"", code, body)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz on a stopped server = %d, want 503", code)
	}
}

// TestMetricsCountRegistrations: logins_ok_total counts "successful
// logins, registrations and resumes" (its help text and LoginOK's doc).
func TestMetricsCountRegistrations(t *testing.T) {
	m := NewMetrics()
	ts := startServer(t, func(cfg *Config) { cfg.Metrics = m })
	ts.register(t, "alice")
	ts.register(t, "bob")
	base := serveMetrics(t, m, nil)
	if _, body := httpGet(t, base+"/metrics"); !hasLine(body, "lanchat_rendezvous_logins_ok_total 2") {
		t.Error("two registrations did not count as two successful logins")
	}
}

// TestMetricsRelayCommits: the store's relay commits show, from a real
// store after a relay.send and its acknowledgement.
func TestMetricsRelayCommits(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	makeFriends(t, alice, bob)
	relaySend(t, alice, "bob", 1, "queued")
	relayReceive(t, bob, "alice", 1)
	relayAck(t, bob, "alice", 1)

	m := NewMetrics()
	m.WatchRelayCommits(ts.store.RelayCommits)
	commits, writes := ts.store.RelayCommits()
	if commits < 1 || writes < 2 {
		t.Fatalf("%d commits carrying %d writes, want at least 1 and 2", commits, writes)
	}
	_, body := httpGet(t, serveMetrics(t, m, nil)+"/metrics")
	for _, want := range []string{
		fmt.Sprintf("lanchat_rendezvous_relay_commits_total %d", commits),
		fmt.Sprintf("lanchat_rendezvous_relay_commit_writes_total %d", writes),
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
