package discovery

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func peer(id string, addrs ...string) Peer {
	p := Peer{Instance: id, Version: Version}
	for _, a := range addrs {
		p.Addrs = append(p.Addrs, netip.MustParseAddrPort(a))
	}
	return p
}

func kinds(events []Event) string {
	s := ""
	for _, e := range events {
		s += fmt.Sprintf("%s %s %v;", e.Kind, e.Peer.Instance[:4], e.Peer.Addrs)
	}
	return s
}

func TestTableLifecycle(t *testing.T) {
	const (
		a = "aaaa0000000000000000000000000000"
		b = "bbbb0000000000000000000000000000"
	)
	t0 := time.Unix(1000, 0)
	ttl := 3 * time.Second
	tab := newTable("", ttl, 10, 4)
	steps := []struct {
		at    time.Duration
		heard []Peer
		want  string
	}{
		{0, []Peer{peer(a, "10.0.0.1:1")}, "appeared aaaa [10.0.0.1:1];"},
		// heard again, nothing new; a second source of the same peer merges.
		{1 * time.Second, []Peer{peer(a, "10.0.0.1:1"), peer(a, "[fe80::1%eth0]:1")}, "changed aaaa [10.0.0.1:1 [fe80::1%eth0]:1];"},
		{2 * time.Second, []Peer{peer(a, "10.0.0.1:1"), peer(b, "10.0.0.2:2")}, "appeared bbbb [10.0.0.2:2];"},
		// 4 s: fe80::1 last heard at 1 s is 3 s old: still there (not > ttl).
		{4 * time.Second, []Peer{peer(b, "10.0.0.2:2")}, ""},
		// 4.5 s: fe80::1 is older than ttl, and so is nothing else yet.
		{4500 * time.Millisecond, nil, "changed aaaa [10.0.0.1:1];"},
		// 5.5 s: a was last heard at 2 s: gone, with its last address.
		{5500 * time.Millisecond, nil, "gone aaaa [10.0.0.1:1];"},
		// a comes back: appeared again; b moves to a new address.
		{6 * time.Second, []Peer{peer(a, "10.0.0.1:1"), peer(b, "10.0.0.3:2")}, "appeared aaaa [10.0.0.1:1];changed bbbb [10.0.0.2:2 10.0.0.3:2];"},
		{7100 * time.Millisecond, []Peer{peer(a, "10.0.0.1:1"), peer(b, "10.0.0.3:2")}, "changed bbbb [10.0.0.3:2];"},
		{20 * time.Second, nil, "gone aaaa [10.0.0.1:1];gone bbbb [10.0.0.3:2];"},
	}
	for _, s := range steps {
		events, _ := tab.update(t0.Add(s.at), s.heard)
		if got := kinds(events); got != s.want {
			t.Fatalf("at %v: events %q, want %q", s.at, got, s.want)
		}
	}
	if snap := tab.snapshot(); len(snap) != 0 {
		t.Errorf("snapshot after all gone = %v", snap)
	}
}

func TestTableIgnoresSelfAndBounds(t *testing.T) {
	const self = "5e1f0000000000000000000000000000"
	now := time.Unix(1000, 0)
	tab := newTable(self, time.Minute, 3, 2)

	var heard []Peer
	heard = append(heard, peer(self, "10.0.0.9:9"), Peer{Instance: "empty000000000000000000000000000"})
	for i := range 5 {
		heard = append(heard, peer(fmt.Sprintf("%04x0000000000000000000000000000", i), fmt.Sprintf("10.0.0.%d:1", i+1)))
	}
	events, refused := tab.update(now, heard)
	if len(events) != 3 || refused != 2 {
		t.Fatalf("events %q, refused %d; want 3 appeared, 2 refused", kinds(events), refused)
	}
	for _, p := range tab.snapshot() {
		if p.Instance == self {
			t.Error("own instance kept")
		}
	}

	// Addresses per peer are bounded too, keeping the most recent.
	id := "00000000000000000000000000000000"
	tab.update(now.Add(time.Second), []Peer{peer(id, "10.0.0.50:1")})
	tab.update(now.Add(2*time.Second), []Peer{peer(id, "10.0.0.51:1")})
	snap := tab.snapshot()
	i := slices.IndexFunc(snap, func(p Peer) bool { return p.Instance == id })
	want := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.50:1"), netip.MustParseAddrPort("10.0.0.51:1")}
	if i < 0 || !slices.Equal(snap[i].Addrs, want) {
		t.Errorf("snapshot = %v, want %s with %v", snap, id, want)
	}
}
