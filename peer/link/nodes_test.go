package link_test

import (
	"slices"
	"testing"

	"github.com/lanchat/lanchat/peer/link"
)

func TestSplitAddrs(t *testing.T) {
	for in, want := range map[string][]string{
		"a:7443":                {"a:7443"},
		"a:7443,b:7443":         {"a:7443", "b:7443"},
		" a:7443 , ,b:7443, ":   {"a:7443", "b:7443"},
		"":                      nil,
		",":                     nil,
		"[::1]:7443,[::2]:7443": {"[::1]:7443", "[::2]:7443"},
	} {
		if got := link.SplitAddrs(in); !slices.Equal(got, want) {
			t.Errorf("SplitAddrs(%q) = %q, want %q", in, got, want)
		}
	}
}

// A link given two nodes of one service (one certificate, one store)
// connects to the one that answers, keeps its session across nodes, and
// when that node stops moves to the other and resumes there.
func TestSeveralNodes(t *testing.T) {
	a := startServer(t, "")
	// Node b: a's certificate and store, its own address.
	b := &server{dir: a.dir, cert: a.cert, fp: a.fp, addr: "127.0.0.1:0"}
	b.start(t)
	t.Cleanup(func() { b.stop(t) })
	dead := freeAddr(t) // nobody listens here

	p := &peer{}
	l := p.run(t, p.config(dead+","+a.addr+","+b.addr))
	p.expect(t, link.EventUp)
	if l.Addr() != a.addr {
		t.Fatalf("Addr() = %s, want the first node that answers, %s", l.Addr(), a.addr)
	}
	p.register(t, "alice")
	tok := p.getToken()

	a.stop(t)
	p.expect(t, link.EventDown)
	ev := p.expect(t, link.EventUp)
	if l.Addr() != b.addr {
		t.Fatalf("Addr() = %s after node a stopped, want %s", l.Addr(), b.addr)
	}
	if ev.Session == nil || ev.Session.Profile.Username != "alice" || p.getToken() != tok {
		t.Fatalf("on node b: session %+v, token changed %v; want alice's session resumed", ev.Session, p.getToken() != tok)
	}
}
