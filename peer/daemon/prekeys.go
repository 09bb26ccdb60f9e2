package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// prekeyCheckInterval is how often the session looks at its prekey.
const prekeyCheckInterval = time.Hour

// prekeyLoop rotates the published prekey before it expires and deletes
// the secrets no relayed envelope can need any more.
func (s *session) prekeyLoop(ctx context.Context) {
	// A short lifetime (tests, or a cautious site) needs closer checks.
	t := time.NewTicker(min(prekeyCheckInterval, max(s.prekeyLifetime/10, 100*time.Millisecond)))
	defer t.Stop()
	for {
		s.rotatePrekey(ctx)
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
func (s *session) rotatePrekey(ctx context.Context) {
	s.mu.Lock()
	key := s.identity
	s.mu.Unlock()
	me := s.self()
	if key == nil || me == "" || !s.link.HasSession() {
		return
	}
	cur, err := s.db.CurrentPrekey(ctx)
	if err != nil && !errors.Is(err, history.ErrNotFound) {
		s.log.Warn("read prekey", "err", err)
		return
	}
	now := time.Now()
	if err == nil && now.Before(cur.Expires.Add(-s.prekeyLifetime/3)) {
		s.deleteOldPrekeys(ctx, now)
		return
	}
	if err := s.publishPrekey(ctx, key, me); err != nil {
		s.log.Warn("rotate prekey", "err", err)
		return
	}
	s.log.Info("rotated prekey")
	s.deleteOldPrekeys(ctx, now)
}

func (s *session) publishPrekey(ctx context.Context, key ed25519.PrivateKey, me string) error {
	spk, err := s.newPrekey(ctx, key, me)
	if err != nil {
		return err
	}
	return s.link.Call(ctx, wire.OpPrekeyRotate, wire.PrekeyRotateRequest{Prekey: spk}, nil)
}

func (s *session) deleteOldPrekeys(ctx context.Context, now time.Time) {
	n, err := s.db.DeletePrekeysBefore(ctx, now.Add(-s.relayRetention))
	if err != nil {
		s.log.Warn("delete old prekeys", "err", err)
	} else if n > 0 {
		s.log.Info("deleted old prekey secrets", "count", n)
	}
}

// newPrekey makes a prekey for user, keeps its secret in history (before
// the public half is published, so nothing is ever sealed to a key we
// lost), and returns the signed public half.
func (s *session) newPrekey(ctx context.Context, identity ed25519.PrivateKey, user string) (keys.SignedPrekey, error) {
	now := time.Now()
	spk, priv, err := keys.NewPrekey(identity, user, now, s.prekeyLifetime)
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("make prekey: %w", err)
	}
	secret, err := priv.Bytes()
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("make prekey: %w", err)
	}
	err = s.db.SavePrekey(ctx, history.Prekey{ID: spk.ID(), Secret: secret, Created: time.Unix(spk.Created, 0), Expires: time.Unix(spk.Expires, 0)})
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("save prekey: %w", err)
	}
	return spk, nil
}
