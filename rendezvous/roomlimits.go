package rendezvous

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// Room limit defaults and ceilings; docs/protocol.md lists them.
const (
	defaultRoomMembers  = 1000
	defaultRoomsPerUser = 100
	defaultRoomRate     = 60 // messages per minute per member per room
	maxRoomMembers      = 10000
	maxRoomsPerUser     = 1000
	maxRoomRate         = 6000
	// rateTableSoftCap is how many message budgets the server keeps
	// before it forgets the full (idle) ones.
	rateTableSoftCap = 4096
)

// RoomLimits bound rooms. Zero fields take the defaults.
type RoomLimits struct {
	// Members is the most members one room may have (default 1,000,
	// at most 10,000). The lobby has the same bound: a user registering
	// when it is full is not added to it.
	Members int
	// PerUser is the most rooms one user may be in, the lobby included
	// (default 100, at most 1,000).
	PerUser int
	// Rate is how many messages one member may send to one room per
	// minute (default 60, at most 6,000), in bursts up to the same.
	Rate int
}

func (l *RoomLimits) setDefaults() error {
	setDefault(&l.Members, defaultRoomMembers)
	setDefault(&l.PerUser, defaultRoomsPerUser)
	setDefault(&l.Rate, defaultRoomRate)
	for _, b := range []struct {
		name   string
		v, max int
	}{{"room members", l.Members, maxRoomMembers}, {"rooms per user", l.PerUser, maxRoomsPerUser}, {"room rate", l.Rate, maxRoomRate}} {
		if b.v < 1 || b.v > b.max {
			return fmt.Errorf("config: %s %d: must be 1 to %d", b.name, b.v, b.max)
		}
	}
	return nil
}

func (l RoomLimits) store() store.RoomLimits {
	return store.RoomLimits{Members: l.Members, PerUser: l.PerUser}
}

// roomState is the server's room bookkeeping in memory.
type roomState struct {
	// lobbyID is the lobby's group id, "" without one; set by New.
	lobbyID string

	mu      sync.Mutex
	budgets map[budgetKey]budget // guarded by mu
}

// budgetKey names one member's message budget in one room.
type budgetKey struct{ room, user string }

// budget is a token bucket: tokens left at time at.
type budget struct {
	tokens float64
	at     time.Time
}

// take spends one message of user's budget in room, refilled at rate a
// minute up to rate. It returns how long to wait when nothing is left.
func (rs *roomState) take(room, user string, rate int, now time.Time) (bool, time.Duration) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.budgets == nil {
		rs.budgets = make(map[budgetKey]budget)
	}
	perSec := float64(rate) / 60
	refill := func(b budget) float64 {
		return min(float64(rate), b.tokens+now.Sub(b.at).Seconds()*perSec)
	}
	if len(rs.budgets) >= rateTableSoftCap {
		// A full budget is the same as none: forget those.
		for k, b := range rs.budgets {
			if refill(b) >= float64(rate) {
				delete(rs.budgets, k)
			}
		}
	}
	k := budgetKey{room, user}
	b, ok := rs.budgets[k]
	if !ok {
		b = budget{tokens: float64(rate), at: now}
	}
	b.tokens, b.at = refill(b), now
	if b.tokens < 1 {
		rs.budgets[k] = b
		return false, time.Duration((1 - b.tokens) / perSec * float64(time.Second))
	}
	b.tokens--
	rs.budgets[k] = b
	return true, 0
}

// forget drops the budgets of a room (deleted) or of one member (gone).
func (rs *roomState) forget(room, user string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for k := range rs.budgets {
		if k.room == room && (user == "" || k.user == user) {
			delete(rs.budgets, k)
		}
	}
}

// setupLobby makes the configured room the lobby, creating it when new.
func (s *Server) setupLobby() error {
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	var id [16]byte
	rand.Read(id[:])
	g := store.Group{ID: hex.EncodeToString(id[:]), Created: s.utcNow()}
	if s.cfg.Lobby != "" {
		name, werr := wire.NormalizeGroupName("lobby", s.cfg.Lobby)
		if werr != nil {
			return fmt.Errorf("config: lobby %q: %s", s.cfg.Lobby, werr.Message)
		}
		g.Name = name
	}
	if g.Name == "" {
		if _, err := s.store.EnsureLobby(ctx, g); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("clear lobby: %w", err)
		}
		return nil
	}
	r, err := s.store.EnsureLobby(ctx, g)
	if err != nil {
		return fmt.Errorf("lobby %q: %w", g.Name, err)
	}
	s.rooms.lobbyID = r.ID
	s.log.Info("lobby", "room", r.Name, "members", r.Members)
	return nil
}
