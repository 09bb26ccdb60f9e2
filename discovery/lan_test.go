package discovery

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
)

// The real-network test runs announcers and browsers in network
// namespaces it creates (joined by a veth pair: loopback has no multicast
// flag), each a re-exec of this test binary under "ip netns exec". No
// packet leaves those namespaces.

const helperEnv = "LANCHAT_DISCOVERY_HELPER"

// lab is the test bed's network namespaces (internal/testbed): named
// after this process, so that a killed run's are removed by the next, and
// removed when the test ends.
type lab struct {
	t *testing.T
	n *testbed.Netns
}

// labPrefix starts the name of every namespace these tests make.
const labPrefix = "lcdisc"

func newLab(t *testing.T) *lab {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the real-network test needs Linux network namespaces")
	}
	if err := testbed.NetnsUsable(); err != nil {
		t.Skipf("the real-network test: %v", err)
	}
	testbed.RemoveStale(t.Context(), labPrefix)
	l := &lab{t: t, n: testbed.NewNetns(labPrefix)}
	t.Cleanup(func() {
		if err := l.n.Close(); err != nil {
			t.Errorf("remove namespaces: %v", err)
		}
	})
	return l
}

func (l *lab) must(args ...string) {
	l.t.Helper()
	if _, err := testbed.Run(context.Background(), "ip", args...); err != nil {
		l.t.Fatal(err)
	}
}

// netns creates a namespace and returns its name. It is deleted at
// cleanup even if the test fails; cleanups run last-in first-out, so the
// helpers started in it later are stopped before it goes.
func (l *lab) netns(suffix string) string {
	l.t.Helper()
	ns, err := l.n.Add(context.Background(), suffix)
	if err != nil {
		l.t.Skipf("cannot create a network namespace here: %v", err)
	}
	return ns
}

// end is one end of a veth pair.
type end = testbed.End

// veth joins two ends, each with its addresses and a multicast route,
// and no IPv6 duplicate-address wait.
func (l *lab) veth(x, y end) {
	l.t.Helper()
	if err := testbed.Veth(context.Background(), x, y); err != nil {
		l.t.Fatal(err)
	}
}

// helper is a re-exec of the test binary in a namespace. It reports on
// stdout in lines "@@ kind json" and stops when its stdin closes.
type helper struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan [2]string
	done  chan struct{}
	err   error // of Wait, once done is closed

	mu     sync.Mutex
	stderr bytes.Buffer
}

func (h *helper) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stderr.Write(p)
}

func (l *lab) start(ns, role string, env ...string) *helper {
	l.t.Helper()
	h := &helper{t: l.t, name: role + "@" + ns, lines: make(chan [2]string, 256), done: make(chan struct{})}
	h.cmd = testbed.Command(ns, os.Args[0], "-test.run=^TestHelperProcess$", "-test.timeout=60s")
	h.cmd.Env = append(append(os.Environ(), helperEnv+"="+role), env...)
	h.cmd.Stderr = h
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		l.t.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	// The reader owns Wait, which must come after the last read.
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if kind, payload, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "@@ "), " "); ok && strings.HasPrefix(sc.Text(), "@@ ") {
				h.lines <- [2]string{kind, payload}
			}
		}
		close(h.lines)
		h.err = h.cmd.Wait()
		close(h.done)
	}()
	l.t.Cleanup(func() {
		h.stdin.Close()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			h.cmd.Process.Kill() // only the process this test started
			<-h.done
		}
		if l.t.Failed() {
			h.mu.Lock()
			l.t.Logf("%s stderr:\n%s", h.name, h.stderr.String())
			h.mu.Unlock()
		}
	})
	return h
}

// next returns the next line of one of kinds, skipping others, and fails
// the test if none comes within d.
func (h *helper) next(d time.Duration, kinds ...string) (kind, payload string) {
	h.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				<-h.done
				h.t.Fatalf("%s exited (%v) before reporting %v", h.name, h.err, kinds)
			}
			if slices.Contains(kinds, l[0]) {
				return l[0], l[1]
			}
		case <-deadline:
			h.t.Fatalf("%s reported no %v within %v", h.name, kinds, d)
		}
	}
}

// stop closes the helper's stdin and checks it shut down cleanly.
func (h *helper) stop() {
	h.t.Helper()
	h.stdin.Close()
	h.next(10*time.Second, "closed")
	<-h.done
	if h.err != nil {
		h.t.Fatalf("%s: %v", h.name, h.err)
	}
}

// eventLine is how the browse helper reports an event.
type eventLine struct {
	Kind     string
	Peer     Peer
	Snapshot []Peer
}

// keyFromSeedHex returns the key of a hex seed and its InstanceID.
func keyFromSeedHex(t *testing.T, s string) (ed25519.PublicKey, string) {
	seed, err := hex.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		t.Fatalf("KEY: %v", err)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	return pub, InstanceID(pub)
}

func keyFromSeed(b byte) (ed25519.PublicKey, string) {
	seed := bytes.Repeat([]byte{b}, ed25519.SeedSize)
	return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), hex.EncodeToString(seed)
}

func TestLAN(t *testing.T) {
	l := newLab(t)
	nsA, nsB, nsC := l.netns("a"), l.netns("b"), l.netns("c")
	l.veth(end{NS: nsA, Dev: "lca", V4: "10.251.77.1/24", LL: "fe80::a/64"}, end{NS: nsB, Dev: "lcb", V4: "10.251.77.2/24", LL: "fe80::b/64"})
	// C has a link with an IPv4 address but multicast off: there is no
	// link to announce or browse on.
	l.veth(end{NS: nsC, Dev: "lcc", V4: "10.251.78.1/24"}, end{NS: nsC, Dev: "lcd"})
	l.must("-n", nsC, "link", "set", "lcc", "multicast", "off")

	pubA, seedA := keyFromSeed(0xa)
	pubB, seedB := keyFromSeed(0xb)
	idA, idB := InstanceID(pubA), InstanceID(pubB)
	fp := strings.Repeat("5e", 32)

	blocked := l.start(nsC, "blocked")
	a := l.start(nsA, "announce", "KEY="+seedA, "PORT=4242", "FP="+fp, "SPORT=7443")
	if _, p := a.next(10*time.Second, "ready"); !strings.Contains(p, "lca") {
		t.Fatalf("announcer ready on %s, want lca", p)
	}
	b := l.start(nsB, "browse", "KEY="+seedB, "PORT=4343", "IFACE=lcb")

	// FindServer, on every interface of B.
	_, p := b.next(10*time.Second, "find")
	var servers []Server
	if err := json.Unmarshal([]byte(p), &servers); err != nil {
		t.Fatalf("find: %v: %s", err, p)
	}
	wantServer := netip.MustParseAddrPort("10.251.77.1:7443")
	if len(servers) != 1 || servers[0].Fingerprint != fp || !slices.Contains(servers[0].Addrs, wantServer) {
		t.Fatalf("FindServer = %+v, want one server at %v with fingerprint %s", servers, wantServer, fp)
	}
	t.Logf("FindServer: %+v", servers)

	// The browser in B finds A, at both addresses, and never itself.
	want := []netip.AddrPort{netip.MustParseAddrPort("10.251.77.1:4242"), netip.MustParseAddrPort("[fe80::a%lcb]:4242")}
	var ev eventLine
	for !slices.Equal(ev.Peer.Addrs, want) {
		_, p := b.next(10*time.Second, "event")
		ev = eventLine{}
		if err := json.Unmarshal([]byte(p), &ev); err != nil {
			t.Fatalf("event: %v: %s", err, p)
		}
		t.Logf("event: %s", p)
		if ev.Peer.Instance == idB {
			t.Fatal("browser reported its own instance")
		}
		if ev.Peer.Instance != idA || ev.Kind == "gone" {
			t.Fatalf("unexpected event %+v", ev)
		}
	}
	if len(ev.Snapshot) != 1 || ev.Snapshot[0].Instance != idA || ev.Snapshot[0].Version != Version {
		t.Errorf("snapshot = %+v, want just %s", ev.Snapshot, idA)
	}

	// A stops: B reports it gone after the TTL.
	a.stop()
	for ev.Kind != "gone" {
		_, p := b.next(10*time.Second, "event")
		ev = eventLine{}
		if err := json.Unmarshal([]byte(p), &ev); err != nil {
			t.Fatalf("event: %v: %s", err, p)
		}
		t.Logf("event: %s", p)
	}
	if ev.Peer.Instance != idA || len(ev.Snapshot) != 0 {
		t.Errorf("gone event %+v, want %s and an empty snapshot", ev, idA)
	}
	b.stop()

	// In C, the browser says once that multicast is blocked and goes on.
	_, p = blocked.next(10*time.Second, "blocked")
	var report struct {
		Err           string
		Warnings, Got int
	}
	if err := json.Unmarshal([]byte(p), &report); err != nil {
		t.Fatal(err)
	}
	if report.Warnings != 1 || !strings.Contains(report.Err, ErrNoMulticast.Error()) || report.Got != 0 {
		t.Errorf("blocked browser reported %+v, want one warning and ErrNoMulticast", report)
	}
	t.Logf("blocked: %s", report.Err)
	blocked.stop()
}

// TestHelperProcess is the body of the processes TestLAN starts in its
// namespaces; run directly, it does nothing.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		t.Skip("run by TestLAN in a network namespace")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var outMu sync.Mutex
	emit := func(kind string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Printf("@@ %s %s\n", kind, b)
	}
	env := func(name string) string { return os.Getenv(name) }
	port := func(name string) int {
		n, err := strconv.Atoi(env(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	key := func() ed25519.PublicKey {
		seed, err := hex.DecodeString(env("KEY"))
		if err != nil || len(seed) != ed25519.SeedSize {
			t.Fatalf("KEY: %v", err)
		}
		return ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	}
	var closers []func() error
	defer func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
		checkGoroutinesGone(t)
		emit("closed", nil)
	}()

	switch role {
	case "announce":
		peer, err := NewAnnouncer(AnnouncerConfig{Identity: key(), Port: port("PORT"), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, peer.Close)
		srv, err := NewServerAnnouncer(ServerAnnouncerConfig{Port: port("SPORT"), Fingerprint: env("FP"), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, srv.Close)
		emit("ready", peer.Interfaces())

	case "browse":
		pub := key()
		self, err := NewAnnouncer(AnnouncerConfig{Identity: pub, Port: port("PORT"), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, self.Close)
		servers, err := FindServer(t.Context(), FindOptions{Timeout: 1500 * time.Millisecond, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		emit("find", servers)
		b, err := NewBrowser(BrowserConfig{Identity: pub, Iface: env("IFACE"), Logger: logger,
			Interval: 200 * time.Millisecond, Jitter: 100 * time.Millisecond, TTL: 1200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for ev := range b.Events() {
				emit("event", eventLine{Kind: ev.Kind.String(), Peer: ev.Peer, Snapshot: b.Snapshot()})
			}
		})
		closers = append(closers, func() error { err := b.Close(); wg.Wait(); return err })

	case "probe":
		runProbe(t, emit)

	case "count":
		runCount(t, emit, &closers)

	case "blocked":
		rec := &logRecorder{}
		b, err := NewBrowser(BrowserConfig{Logger: slog.New(rec),
			Interval: 50 * time.Millisecond, Jitter: -1})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, b.Close)
		time.Sleep(700 * time.Millisecond)
		blockedErr := b.Blocked()
		if blockedErr == nil {
			t.Fatal("browser not blocked")
		}
		emit("blocked", map[string]any{"Err": blockedErr.Error(), "Warnings": rec.count(slog.LevelWarn), "Got": len(b.Snapshot())})

	default:
		t.Fatalf("unknown helper role %q", role)
	}
	io.Copy(io.Discard, os.Stdin) // until the test closes stdin
}
