package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// lanInterval makes the daemons browse every second or two, so a host
// that leaves is gone within seconds (three missed rounds).
const lanInterval = "1s"

// TestLAN runs the server and three peers on four hosts of a virtual LAN
// and shows what discovery does: the server found by its announcement,
// peers finding each other with no server at all, chat going on while the
// server is cut off and resyncing after, a host that leaves and comes
// back, and a forged announcement that cannot impersonate anyone.
func TestLAN(t *testing.T) {
	l := newLAN(t)
	hs, ha, hb, hc, hm := l.addHost("server"), l.addHost("alice"), l.addHost("bob"), l.addHost("carol"), l.addHost("mallory")

	srv := startHostServer(t, hs, "--announce")

	lanUser := func(name string, h *host) *user {
		u := newUser(t, srv, name)
		u.host, u.server, u.fp = h, "", "" // find the server on the LAN
		u.extra = []string{"--mdns-interval", lanInterval, "--downloads", filepath.Join(u.home, "downloads")}
		return u
	}
	alice, bob, carol := lanUser("alice", ha), lanUser("bob", hb), lanUser("carol", hc)

	// 1. No --server: the daemon finds the announced server and pins the
	// certificate it announces once TLS proves it.
	for _, u := range []*user{alice, bob, carol} {
		u.start(t)
	}
	// With no terminal, the server found on the LAN is pinned only with
	// --yes; without it register refuses, saying so.
	out, errs, code := alice.lc(t, alice.password+"\n", "register", "alice", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "--yes") || !strings.Contains(errs, srv.fp) {
		t.Fatalf("register without a terminal or --yes: exit %d\n%s%s", code, out, errs)
	}
	out, errs, code = alice.lc(t, alice.password+"\n", "register", "alice", "--password-stdin", "--yes")
	if code != 0 || !strings.Contains(out, "server "+srv.addr) || !strings.Contains(out, srv.fp) {
		t.Fatalf("register with a server found on the LAN: exit %d\n%s%s", code, out, errs)
	}
	alice.daemon.waitOutput(t, regexp.MustCompile(`found a rendezvous server on the LAN at `+regexp.QuoteMeta(srv.addr)), time.Second)
	registerOnLAN(t, bob)
	registerOnLAN(t, carol)
	befriendUsers(t, alice, bob)
	befriendUsers(t, alice, carol)
	befriendUsers(t, bob, carol)

	// 2. Peers find each other through mDNS with no server at all: the
	// server's host is cut off and every daemon restarts on a port it
	// never used, so neither the server's endpoints nor remembered
	// addresses can help.
	hs.cut()
	for _, u := range []*user{alice, bob, carol} {
		u.stop(t)
	}
	for i, u := range []*user{alice, bob, carol} {
		u.listen = fmt.Sprintf("0.0.0.0:%d", 41000+i)
		u.start(t)
	}
	waitLANPeers(t, alice, "bob", "carol")
	waitLANPeers(t, bob, "alice", "carol")
	out = alice.must(t, "send", "bob", "found you without a server")
	if !strings.Contains(out, "(direct)") {
		t.Fatalf("serverless send: %q", out)
	}
	bob.waitMessage(t, "alice", "found you without a server", 10*time.Second)
	if out := bob.must(t, "send", "alice", "and I you"); !strings.Contains(out, "(direct)") {
		t.Fatalf("serverless reply: %q", out)
	}
	alice.waitMessage(t, "bob", "and I you", 10*time.Second)
	// A file offer between two hosts, still without the server. Bob's
	// daemon has not synced its roster since it restarted, so even a
	// friend's offer waits for his accept.
	doc := filepath.Join(t.TempDir(), "plan.pdf")
	docHash := randomFile(t, doc, 3<<20, 21)
	id := alice.sendNoWait(t, "bob", doc)
	bob.waitTransfer(t, id, 30*time.Second, "offered", func(tr api.Transfer) bool { return tr.State == "offered" })
	bob.must(t, "accept", id)
	bob.waitTransfer(t, id, 60*time.Second, "done", func(tr api.Transfer) bool { return tr.State == "done" })
	if got := fileHash(t, filepath.Join(bob.home, "downloads", "plan.pdf")); got != docHash {
		t.Fatalf("plan.pdf arrived with hash %s, want %s", got, docHash)
	}

	// 3. The server comes back; carol is away: her message waits in the
	// outbox while the server is cut off again mid-conversation, then
	// goes through the relay once it is back, and nothing is doubled.
	hs.plug()
	eventually(t, 60*time.Second, func() (bool, string) {
		var st api.Status
		alice.mustJSON(t, &st, "status")
		return st.ServerConnected && st.LoggedIn, "alice is not back on the server"
	})
	carol.stop(t)
	hs.cut()
	alice.must(t, "send", "bob", "the server is gone again")
	bob.waitMessage(t, "alice", "the server is gone again", 10*time.Second)
	out = alice.must(t, "send", "carol", "for carol when she is back")
	if !strings.Contains(out, "queued") {
		t.Fatalf("send to away carol without a server: %q", out)
	}
	hs.plug()
	eventually(t, 60*time.Second, func() (bool, string) {
		var st api.Status
		alice.mustJSON(t, &st, "status")
		return st.ServerConnected && st.Outbox == 0, "alice has not resynced her outbox"
	})
	carol.start(t)
	carol.waitMessage(t, "alice", "for carol when she is back", 30*time.Second)
	for _, text := range []string{"found you without a server", "the server is gone again"} {
		if n := len(withText(bob.history(t, "alice"), text)); n != 1 {
			t.Errorf("bob has %d copies of %q after the resync", n, text)
		}
	}

	// 4. bob's host leaves the LAN: he is seen as gone, then found again.
	hb.cut()
	eventually(t, 30*time.Second, func() (bool, string) {
		var ps api.LANPeers
		alice.mustJSON(t, &ps, "peers")
		return !hasLANPeer(ps, "bob"), fmt.Sprintf("bob is still listed: %+v", ps)
	})
	hb.plug()
	waitLANPeers(t, alice, "bob")
	alice.must(t, "send", "bob", "welcome back")
	bob.waitMessage(t, "alice", "welcome back", 15*time.Second)

	// 5. A forged announcement: mallory announces bob's instance id at
	// the port of her own daemon. With bob's host and the server cut
	// off, alice's daemon dials the forged address, finds the wrong key
	// and talks to no one; the message waits for the real bob.
	mallory := lanUser("mallory", hm)
	mallory.server, mallory.fp = srv.addr, srv.fp
	mallory.start(t)
	mallory.register(t)
	var st api.Status
	mallory.mustJSON(t, &st, "status")
	port, err := strconv.Atoi(st.Listen[strings.LastIndex(st.Listen, ":")+1:])
	if err != nil {
		t.Fatalf("mallory's port from %q: %v", st.Listen, err)
	}
	bob.stop(t)
	hs.cut()
	eventually(t, 30*time.Second, func() (bool, string) {
		var ps api.LANPeers
		alice.mustJSON(t, &ps, "peers")
		return !hasLANPeer(ps, "bob"), fmt.Sprintf("bob is still listed: %+v", ps)
	})
	// The forger reads bob's key file only for its public half, which
	// anyone can fetch from the server's directory.
	forger := hm.startForger(t, filepath.Join(bob.home, "identity.key"), port)
	forger.waitOutput(t, regexp.MustCompile(`forging [0-9a-f]{32}`), 10*time.Second)
	waitLANPeers(t, alice, "bob") // the forgery is listed as bob's address...
	var ps api.LANPeers
	alice.mustJSON(t, &ps, "peers")
	if addrs := lanPeerAddrs(ps, "bob"); !strings.Contains(strings.Join(addrs, " "), hm.ip) {
		t.Fatalf("alice does not list the forged address for bob: %+v", ps)
	}
	out = alice.must(t, "send", "bob", "only for the real bob")
	if strings.Contains(out, "(direct)") {
		t.Fatalf("a message went direct to the forged address: %q", out)
	}
	alice.daemon.waitOutput(t, regexp.MustCompile(`wrong key|not the pinned key|does not match`), 15*time.Second)
	for _, m := range mallory.history(t, "alice") {
		t.Fatalf("mallory received %q", m.Text)
	}
	forger.signal(15)
}

// registerOnLAN registers u with a server its daemon found on the LAN,
// confirming its certificate with --yes.
func registerOnLAN(t *testing.T, u *user) {
	t.Helper()
	out, errs, code := u.lc(t, u.password+"\n", "register", u.name, "--password-stdin", "--yes")
	if code != 0 || !strings.Contains(out, "registered and logged in as "+u.name) {
		t.Fatalf("%s: register: exit %d\n%s%s", u.name, code, out, errs)
	}
}

// waitLANPeers waits until u's daemon lists every one of users as seen on
// the LAN.
func waitLANPeers(t *testing.T, u *user, users ...string) {
	t.Helper()
	eventually(t, 30*time.Second, func() (bool, string) {
		var ps api.LANPeers
		u.mustJSON(t, &ps, "peers")
		for _, name := range users {
			if !hasLANPeer(ps, name) {
				return false, fmt.Sprintf("%s does not see %s on the LAN: %+v", u.name, name, ps)
			}
		}
		return true, ""
	})
}

func hasLANPeer(ps api.LANPeers, user string) bool {
	return lanPeerAddrs(ps, user) != nil
}

func lanPeerAddrs(ps api.LANPeers, user string) []string {
	for _, p := range ps.Contacts {
		if p.User == user {
			return append([]string{}, p.Addrs...)
		}
	}
	return nil
}

// TestLANRemembered shows the addresses that worked before: two hosts
// where multicast is off (as across subnets) find each other again after
// both daemons restart while the server is cut off.
func TestLANRemembered(t *testing.T) {
	l := newLAN(t)
	hs, ha, hb := l.addHost("server"), l.addHost("alice"), l.addHost("bob")
	srv := startHostServer(t, hs)
	alice, bob := newUser(t, srv, "alice"), newUser(t, srv, "bob")
	for _, u := range []*user{alice, bob} {
		u.extra = []string{"--no-mdns"}
	}
	alice.host, bob.host = ha, hb
	alice.start(t)
	bob.start(t)
	alice.register(t)
	bob.register(t)
	befriendUsers(t, alice, bob)
	if out := alice.must(t, "send", "bob", "hello over the server's endpoints"); !strings.Contains(out, "(direct)") {
		t.Fatalf("first send: %q", out)
	}
	bob.waitMessage(t, "alice", "hello over the server's endpoints", 10*time.Second)

	hs.cut()
	alice.stop(t)
	bob.stop(t)
	bob.start(t)
	alice.start(t)
	out := alice.must(t, "send", "bob", "found at the address that worked before")
	if !strings.Contains(out, "(direct)") {
		t.Fatalf("send after restarts without server or multicast: %q", out)
	}
	bob.waitMessage(t, "alice", "found at the address that worked before", 10*time.Second)
}

// TestLANAvahi shares the LAN, and a host, with avahi-daemon as on any
// Linux desktop: Avahi sees lanchat's daemon and server (also from the
// same host, where lanchat must not take Avahi's answers), lanchat counts
// every instance avahi-publish announces in one packet, a stopped daemon
// leaves both at once (goodbye), and a fake server announced first does
// not keep a new daemon from the real one.
func TestLANAvahi(t *testing.T) {
	l := newLAN(t)
	hs, ha, hb := l.addHost("server"), l.addHost("alice"), l.addHost("bob")
	avA, avB := ha.startAvahi(t), hb.startAvahi(t)

	// A fake server, whose name sorts first, at a port where nothing
	// listens.
	fakeFP := strings.Repeat("0f", 32)
	avB.publish(t, "aaaa-fake", "_lanchat-server._tcp", 7999, "v=1", "fp="+fakeFP)

	srv := startHostServer(t, hs, "--announce")

	lanUser := func(name string, h *host) *user {
		u := newUser(t, srv, name)
		u.host, u.server, u.fp = h, "", ""
		u.extra = []string{"--mdns-interval", lanInterval}
		return u
	}
	alice, bob := lanUser("alice", ha), lanUser("bob", hb)
	alice.listen, bob.listen = "0.0.0.0:41000", "0.0.0.0:41001"
	alice.start(t)
	bob.start(t)
	registerOnLAN(t, alice)
	registerOnLAN(t, bob)
	var st api.Status
	alice.mustJSON(t, &st, "status")
	if st.Server != srv.addr || st.Fingerprint != srv.fp {
		t.Fatalf("alice pinned %s %s, want the real server %s %s", st.Server, st.Fingerprint, srv.addr, srv.fp)
	}

	// Avahi resolves alice's daemon from her own host and from bob's, and
	// the server.
	for _, av := range []*avahi{avA, avB} {
		eventually(t, 20*time.Second, func() (bool, string) {
			es := av.browse(t, "_lanchat._udp")
			for _, e := range es {
				// =;iface;proto;name;type;domain;host;address;port;txt
				if len(e) >= 10 && e[7] == ha.ip && e[8] == "41000" && e[9] == `"v=1"` {
					return true, ""
				}
			}
			return false, fmt.Sprintf("avahi on %s does not resolve alice's daemon: %q", av.host.name, es)
		})
		eventually(t, 20*time.Second, func() (bool, string) {
			es := av.browse(t, "_lanchat-server._tcp")
			for _, e := range es {
				if len(e) >= 10 && e[7] == hs.ip && e[8] == "7443" && strings.Contains(e[9], `"fp=`+srv.fp+`"`) {
					return true, ""
				}
			}
			return false, fmt.Sprintf("avahi on %s does not resolve the server: %q", av.host.name, es)
		})
	}

	// Three instances published at once from bob's host: alice counts
	// them all, with bob's daemon.
	for i := range 3 {
		avB.publish(t, fmt.Sprintf("%032x", 0xa11ce+i), "_lanchat._udp", 5001+i, "v=1")
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		var ps api.LANPeers
		alice.mustJSON(t, &ps, "peers")
		return ps.Others == 4, fmt.Sprintf("alice counts %d others, want 4 (bob and three published): %+v", ps.Others, ps)
	})

	// bob hears the same four (alice and the three published), so that
	// what changes next is alice leaving, not a late announcement.
	var before api.LANPeers
	eventually(t, 20*time.Second, func() (bool, string) {
		bob.mustJSON(t, &before, "peers")
		return before.Others == 4, fmt.Sprintf("bob counts %d others, want 4 (alice and three published): %+v", before.Others, before)
	})

	// alice stops: within 2 s she is gone from avahi-browse and from
	// bob's lanchat peers.
	alice.stop(t)
	time.Sleep(2 * time.Second)
	for _, e := range avB.browse(t, "_lanchat._udp") {
		if len(e) >= 9 && e[7] == ha.ip && e[8] == "41000" {
			t.Errorf("avahi still lists alice's daemon 2 s after it stopped: %q", e)
		}
	}
	var after api.LANPeers
	bob.mustJSON(t, &after, "peers")
	if after.Others != before.Others-1 {
		t.Errorf("bob counts %d others 2 s after alice stopped, %d before", after.Others, before.Others)
	}
}
