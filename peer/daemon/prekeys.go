package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// prekeyCheckInterval is how often the daemon looks at its prekey.
const prekeyCheckInterval = time.Hour

// prekeyLoop rotates the published prekey before it expires and deletes
// the secrets no relayed envelope can need any more.
func (d *Daemon) prekeyLoop(ctx context.Context) {
	// A short lifetime (tests, or a cautious site) needs closer checks.
	t := time.NewTicker(min(prekeyCheckInterval, max(d.cfg.PrekeyLifetime/10, 100*time.Millisecond)))
	defer t.Stop()
	for {
		d.rotatePrekey(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rotatePrekey publishes a new prekey once the current one has used up
// two thirds of its lifetime, then deletes secrets that expired more than
// the relay's retention ago.
func (d *Daemon) rotatePrekey(ctx context.Context) {
	d.mu.Lock()
	key := d.identity
	d.mu.Unlock()
	me := d.self()
	if key == nil || me == "" || !d.link.HasSession() {
		return
	}
	cur, err := d.db.CurrentPrekey(ctx)
	if err != nil && !errors.Is(err, history.ErrNotFound) {
		d.log.Warn("read prekey", "err", err)
		return
	}
	now := time.Now()
	if err == nil && now.Before(cur.Expires.Add(-d.cfg.PrekeyLifetime/3)) {
		d.deleteOldPrekeys(ctx, now)
		return
	}
	if err := d.publishPrekey(ctx, key, me); err != nil {
		d.log.Warn("rotate prekey", "err", err)
		return
	}
	d.log.Info("rotated prekey")
	d.deleteOldPrekeys(ctx, now)
}

func (d *Daemon) publishPrekey(ctx context.Context, key ed25519.PrivateKey, me string) error {
	spk, err := d.newPrekey(ctx, key, me)
	if err != nil {
		return err
	}
	return d.link.Call(ctx, wire.OpPrekeyRotate, wire.PrekeyRotateRequest{Prekey: spk}, nil)
}

func (d *Daemon) deleteOldPrekeys(ctx context.Context, now time.Time) {
	n, err := d.db.DeletePrekeysBefore(ctx, now.Add(-d.cfg.RelayRetention))
	if err != nil {
		d.log.Warn("delete old prekeys", "err", err)
	} else if n > 0 {
		d.log.Info("deleted old prekey secrets", "count", n)
	}
}
