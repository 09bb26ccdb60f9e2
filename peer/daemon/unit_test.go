package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
)

// unitDaemon is a daemon wired as Run wires it, with a real history store
// and home, but a fake server link and no direct listener: bob, logged
// in, with no roster yet.
type unitDaemon struct {
	*Daemon
	fake   *fakeLink
	carol  ed25519.PrivateKey
	cancel context.CancelFunc
}

func newUnitDaemon(t *testing.T) *unitDaemon {
	t.Helper()
	return newUnitDaemonAs(t, "bob")
}

// newUnitDaemonAs is newUnitDaemon for user.
func newUnitDaemonAs(t *testing.T, user string) *unitDaemon {
	t.Helper()
	h, err := home.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Home: h, Server: "127.0.0.1:1", NoMDNS: true, NoUI: true, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.ctx = ctx
	db, err := history.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d.db = db
	fake := newFakeLink()
	fake.setSession(true)
	d.link = fake
	d.session.link, d.session.db = fake, db
	d.outbox = outbox.New(outbox.Config{Store: db, Direct: directPath{d.messages}, Relay: relayPath{d.messages}, Sent: d.messages.messageState, Logger: slog.New(slog.DiscardHandler)})
	_, me, _ := ed25519.GenerateKey(rand.Reader)
	d.session.setIdentity(me)
	d.session.resumed(wire.Profile{Username: user})
	d.session.hasListener = func() bool { return true }
	d.keyring.db, d.keyring.link = db, fake
	d.messages.db, d.messages.link, d.messages.outbox = db, fake, d.outbox
	d.feed.db, d.feed.link, d.feed.outbox = db, fake, d.outbox
	d.avatars.db, d.avatars.link = db, fake
	d.library.db, d.library.link, d.library.ctx = db, fake, ctx
	d.transfers.db, d.transfers.ctx = db, ctx
	if d.transfers.receiver, err = d.transfers.newReceiver(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop(cancel) })
	d.peers.link, d.rooms.link, d.lan.db, d.lan.ctx = fake, fake, db, ctx
	d.peers.db, d.peers.ctx, d.keyring.ctx = db, ctx, ctx
	_, carol, _ := ed25519.GenerateKey(rand.Reader)
	return &unitDaemon{Daemon: d, fake: fake, carol: carol, cancel: cancel}
}

// serveKeys makes the fake server answer the directory with carol's keys
// and take relayed envelopes into got.
func (u *unitDaemon) serveKeys(t *testing.T, got chan<- wire.RelayEnvelope) {
	t.Helper()
	spk, _, err := keys.NewPrekey(u.carol, "carol", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	u.serveKeysOf("carol", u.carol.Public().(ed25519.PublicKey), spk, got)
}

// serveKeysOf makes the fake server answer the directory with user's
// identity key and prekey, and take relayed envelopes into got.
func (u *unitDaemon) serveKeysOf(user string, id ed25519.PublicKey, spk keys.SignedPrekey, got chan<- wire.RelayEnvelope) {
	u.fake.mu.Lock()
	defer u.fake.mu.Unlock()
	u.fake.handle = func(op string, req, resp any) error {
		switch op {
		case wire.OpKeysGet:
			*resp.(*wire.KeysResponse) = wire.KeysResponse{Username: user, IdentityKey: id, Prekey: spk}
		case wire.OpRelaySend:
			for _, e := range req.(wire.RelaySendRequest).Envelopes {
				got <- e
			}
		}
		return nil
	}
}

// newBareDaemon is a daemon made by New, with no store and no server
// link, logged in as bob: enough for its direct peers.
func newBareDaemon(t *testing.T, ctx context.Context) *Daemon {
	t.Helper()
	h, err := home.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Home: h, Server: "127.0.0.1:1", NoMDNS: true, NoUI: true})
	if err != nil {
		t.Fatal(err)
	}
	d.ctx, d.transfers.ctx, d.lan.ctx, d.peers.ctx, d.keyring.ctx = ctx, ctx, ctx, ctx, ctx
	d.outbox = outbox.New(outbox.Config{})
	d.session.resumed(wire.Profile{Username: "bob"})
	return d
}
