package rendezvous

import (
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
)

func TestSmokeRelay(t *testing.T) {
	ts := startServer(t, nil)
	alice := ts.register(t, "alice")
	bob := ts.register(t, "bob")
	befriend(t, alice, bob)
	waitEvent[wire.Presence](t, alice.c, wire.EvPresence)
	r := call[wire.RelaySendResponse](t, alice.c, wire.OpRelaySend, wire.RelaySendRequest{To: "bob", ID: "0123456789abcdef0123456789abcdef", Envelope: []byte("sealed")})
	if r.Status != "queued" {
		t.Fatal(r.Status)
	}
	ev := waitEvent[wire.RelayEvent](t, bob.c, wire.EvRelay)
	if string(ev.Envelope) != "sealed" || ev.From != "alice" {
		t.Fatalf("%+v", ev)
	}
}
