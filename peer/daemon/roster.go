package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/lanchat/lanchat/peer/history"
)

// loadRoster applies the roster kept on disk, if any, until the first
// sync of this run.
func (sv *serverFeed) loadRoster(ctx context.Context) error {
	h, err := sv.db.LoadRoster(ctx)
	if errors.Is(err, history.ErrNotFound) {
		sv.log.Info("no roster kept from an earlier run: nobody is admitted until the server is reached")
		return nil
	}
	if err != nil {
		return err
	}
	sv.roster.Load(h)
	sv.log.Info("applying the roster kept from the last sync until the server is reached", "synced", h.Synced,
		"friends", len(h.Friends), "groups", len(h.Groups))
	return nil
}

// syncWait bounds how long an offer waits for the first roster sync of a
// run while the server session is up.
const syncWait = 10 * time.Second

// waitSynced waits, while the server session is up, until this run has
// synced the roster, at most syncWait. With the server away it returns
// at once: the roster kept on disk is what there is.
func (sv *serverFeed) waitSynced(ctx context.Context) {
	if sv.link == nil {
		return
	}
	sv.roster.WaitSynced(ctx, sv.link.HasSession, syncWait)
}
