package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/pgtest"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// startNodes starts two rendezvous nodes on one new PostgreSQL database,
// both with the first one's certificate.
func startNodes(t *testing.T) (a, b *rendezvous, db string) {
	t.Helper()
	db = pgtest.NewDatabase(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	a = startRendezvous(t, freeAddr(t), dataA, "--store", db)
	b = startRendezvous(t, freeAddr(t), dataB, "--store", db,
		"--tls-cert", filepath.Join(dataA, "server.crt"), "--tls-key", filepath.Join(dataA, "server.key"))
	if a.fp != b.fp {
		t.Fatalf("nodes have certificates %s and %s", a.fp, b.fp)
	}
	return a, b, db
}

// presenceOf returns what u's daemon says of friend's presence.
func presenceOf(t *testing.T, u *user, friend string) string {
	t.Helper()
	var fs []api.Friend
	u.mustJSON(t, &fs, "friends")
	for _, f := range fs {
		if f.Username == friend {
			return f.Presence.Status
		}
	}
	return "not a friend"
}

// The operator commands take --store: migrate runs the migrations alone,
// users lists the accounts in the shared database.
func checkStoreCommands(t *testing.T, db string) {
	t.Helper()
	out, code := run(t, "rendezvous", "migrate", "--store", db)
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("rendezvous migrate: exit %d\n%s", code, out)
	}
	out, code = run(t, "rendezvous", "users", "list", "--store", db)
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Fatalf("rendezvous users list: exit %d\n%s", code, out)
	}
}

// TestClusterTwoNodes: users on different nodes of one database become
// friends, see each other's presence, chat (relayed while one is away),
// and a login on one node signs out the session on the other.
func TestClusterTwoNodes(t *testing.T) {
	nodeA, nodeB, db := startNodes(t)
	alice, bob := newUser(t, nodeA, "alice"), newUser(t, nodeB, "bob")
	alice.start(t)
	bob.start(t)
	alice.register(t)
	bob.register(t)
	checkStoreCommands(t, db)
	befriendUsers(t, alice, bob)
	for _, p := range [][2]*user{{alice, bob}, {bob, alice}} {
		eventually(t, 10*time.Second, func() (bool, string) {
			st := presenceOf(t, p[0], p[1].name)
			return st == wire.StatusOnline, fmt.Sprintf("%s sees %s %s", p[0].name, p[1].name, st)
		})
	}

	alice.must(t, "send", "bob", "hello across nodes")
	bob.waitMessage(t, "alice", "hello across nodes", 20*time.Second)

	// bob goes away: alice sees it, her message waits in the relay (stored
	// through node A) and reaches bob through node B when he is back.
	bob.stop(t)
	eventually(t, 10*time.Second, func() (bool, string) {
		st := presenceOf(t, alice, "bob")
		return st == wire.StatusOffline, "alice sees bob " + st
	})
	out := alice.must(t, "send", "bob", "relayed across nodes")
	if !regexp.MustCompile(`relayed`).MatchString(out) {
		t.Fatalf("send to offline bob: %q; want relayed", out)
	}
	bob.start(t)
	m := bob.waitMessage(t, "alice", "relayed across nodes", 20*time.Second)
	if m.Via != "relay" {
		t.Errorf("message came via %q, want relay", m.Via)
	}

	// Live relay between nodes: carol on A sends while dave is connected
	// to B; B delivers at once (A tells B with a relay event), and the
	// friend request and its acceptance are pushed across nodes too.
	carol, dave := newPeer(t, "carol"), newPeer(t, "dave")
	carol.register(t, nodeA)
	dave.register(t, nodeB)
	carol.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "dave"}, nil)
	waitEventOp(t, dave, wire.EvFriendRequest, 10*time.Second)
	dave.call(t, wire.OpFriendAccept, wire.UserRequest{Username: "carol"}, nil)
	waitEventOp(t, carol, wire.EvFriendAccepted, 10*time.Second)
	sent := map[string]string{}
	for i := range 3 {
		text := fmt.Sprintf("live relay %d", i)
		id, env, err := carol.sealMsg(dave, text)
		if err != nil {
			t.Fatal(err)
		}
		carol.call(t, wire.OpRelaySend, relayOne("dave", id, env), nil)
		sent[id] = text
	}
	got := dave.collectRelay(t, 2*time.Second, true)
	if len(got) != len(sent) {
		t.Fatalf("dave got %d relayed messages on node B, want %d", len(got), len(sent))
	}
	for _, ev := range got {
		msg, err := dave.open(ev, carol)
		if err != nil || string(msg.Body) != sent[ev.ID] {
			t.Errorf("relayed %s: %q, %v", ev.ID, msg.Body, err)
		}
	}

	// One session per account across nodes: erin logs in on B; her
	// session on A is signed out.
	carolA := newPeer(t, "erin")
	carolA.register(t, nodeA)
	carolB := &peer{name: carolA.name, password: carolA.password, identity: carolA.identity,
		prekey: carolA.prekey, secret: carolA.secret}
	carolB.login(t, nodeB)
	f := waitEventOp(t, carolA, wire.EvSignedOut, 10*time.Second)
	var ev wire.SignedOutEvent
	if err := json.Unmarshal(f.Body, &ev); err != nil || ev.Reason != wire.SignedOutElsewhere {
		t.Fatalf("signed_out on node A: %+v, %v", ev, err)
	}
}

// TestClusterNodeKilled kills one node with SIGKILL while its user's
// daemon sends messages for the relay, one after another without pause:
// the daemon is back on the other node within 10 s, and every message
// whose send succeeded reaches the recipient exactly once.
func TestClusterNodeKilled(t *testing.T) {
	nodeA, nodeB, _ := startNodes(t)
	alice, bob := newUser(t, nodeA, "alice"), newUser(t, nodeB, "bob")
	alice.server = nodeA.addr + "," + nodeB.addr
	// bob trusts on first use, given both nodes: the pin keeps both.
	bob.server, bob.fp = nodeA.addr+","+nodeB.addr, ""
	alice.start(t)
	bob.start(t)
	bob.daemon.waitOutput(t, regexp.MustCompile(`pinned the certificate of server `+regexp.QuoteMeta(bob.server)), 20*time.Second)
	alice.register(t)
	bob.register(t)
	befriendUsers(t, alice, bob)
	bob.stop(t) // everything alice sends now goes through the relay

	const total, killAt = 40, 10
	var (
		mu    sync.Mutex
		acked []string
		all   []string
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			text := fmt.Sprintf("message %d under load", i)
			_, _, code := alice.lc(t, "", "send", "bob", text)
			mu.Lock()
			all = append(all, text)
			if code == 0 {
				acked = append(acked, text)
			}
			mu.Unlock()
		}
	}()
	eventually(t, 60*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= killAt, fmt.Sprintf("%d sends succeeded", len(acked))
	})
	nodeA.signal(syscall.SIGKILL)
	nodeA.wait(t, 10*time.Second)
	killed := time.Now()
	reB := regexp.MustCompile(`connected to the server.*` + regexp.QuoteMeta(nodeB.addr))
	alice.daemon.waitOutput(t, reB, 10*time.Second)
	t.Logf("alice's daemon was back on node B %v after the kill", time.Since(killed).Round(time.Millisecond))
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the sends did not finish within 3 minutes")
	}
	t.Logf("%d of %d sends succeeded", len(acked), total)

	// bob comes back without --server: the nodes he pinned, of which
	// only B is left.
	bob.server = ""
	bob.start(t)
	for _, text := range acked {
		bob.waitMessage(t, "alice", text, 30*time.Second)
	}
	// Nothing twice, not even what was sent as the node died.
	counts := map[string]int{}
	for _, m := range bob.history(t, "alice") {
		counts[m.Text]++
	}
	for _, text := range all {
		if counts[text] > 1 {
			t.Errorf("bob has %d copies of %q", counts[text], text)
		}
	}
}
