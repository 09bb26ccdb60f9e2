package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
)

// messageLink is what messages needs of the server link: calls, and
// relay.send requests that concurrent senders share (link.Relay).
type messageLink interface {
	keyLink
	Relay(ctx context.Context, env wire.RelayEnvelope) error
}

// messages is the daemon's messaging: it writes messages into history
// and hands them to the outbox, takes messages that arrive directly or
// through the relay (parking those it cannot take yet), answers with
// receipts, and shows conversations to local clients. A new message
// kind lands here: admit decides what may be taken, store commits it.
type messages struct {
	db      *history.Store // set once history is open
	link    messageLink    // set once the link exists
	home    *home.Home
	log     *slog.Logger
	session *session
	roster  *roster.Roster
	keyring *keyring
	peers   *peerSet
	outbox  *outbox.Outbox // set once history is open
	notify  func(api.Event)
	// library takes the share, unshare and holder messages.
	library *library

	relayRetention time.Duration

	// parkMu serialises taking relayed envelopes and re-examining the
	// parked ones (parked.go). reexamineKick asks the server loop for a
	// re-examination, from paths that may run under parkMu.
	parkMu        sync.Mutex
	reexamineKick chan struct{}

	typing typing // typing.go

	// rosterSettled waits for the roster syncs asked for so far
	// (serverFeed.syncs), before a group's members are read for a send.
	rosterSettled func(context.Context)

	// roomBudget holds the room messages that arrive directly to each
	// room's rate (roombudget.go).
	roomBudget roomBudget
}
