package daemon

import (
	"context"
	"log/slog"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/transfer"
)

// transfers is the daemon's file transfers: the offers it sends
// (scheduled whenever the recipient is reachable directly, retried with a
// back-off, cancel notices owed), the offers it receives (decided at once
// or left to the user), their progress, and how local clients see them.
type transfers struct {
	db       *history.Store // set once history is open
	home     *home.Home
	log      *slog.Logger
	session  *session
	roster   *roster.Roster
	messages *messages
	peers    *peerSet
	notify   func(api.Event)
	// library serves members' pulls of shared files.
	library *library
	// spawn runs a function on a goroutine the daemon waits for.
	spawn func(func())
	// waitSynced waits a little for the first roster sync of the run.
	waitSynced func(context.Context)

	downloadsDir string // Config.Downloads
	askFiles     bool   // Config.AskFiles

	// ctx is the daemon's run: attempts end with it.
	ctx          context.Context
	receiver     *transfer.Receiver
	outgoing     sending
	decisions    decisions
	rates        rates
	transferKick chan struct{}
	progress     chan transfer.Status
	files        fileStates // fileitems.go
}
