package daemon

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

// feedLink is what the server feed needs of the server link.
type feedLink interface {
	Events() <-chan link.Event
	Call(ctx context.Context, op string, req, resp any) error
	Addr() string
	HasSession() bool
}

// serverFeed acts on what the server link reports, in order: the session
// coming up (presence, roster sync, prekeys), relayed envelopes and drop
// notices, presence, friend, group and key changes, a sign-out. A new
// server event lands in handleServerEvent.
type serverFeed struct {
	link     feedLink // set once the link exists
	db       *history.Store
	log      *slog.Logger
	session  *session
	roster   *roster.Roster
	keyring  *keyring
	messages *messages
	avatars  *avatars
	peers    *peerSet
	outbox   *outbox.Outbox // set once history is open
	notify   func(api.Event)
	// transport returns the direct listener, or nil.
	transport func() *direct.Transport
	// kickPathOpened asks everything waiting for a path to try now.
	kickPathOpened func()
	// resync asks syncLoop for a roster sync (syncSoon).
	resync chan struct{}
	syncs  syncAsks
}

// syncTimeout bounds one resynchronisation with the server.
const syncTimeout = 30 * time.Second

// serverLoop handles what the server link reports, in order. Relayed
// envelopes that are already waiting are taken together (relayGather at
// most), so that a backlog costs one commit and one acknowledgement per
// batch rather than per envelope.
func (sv *serverFeed) serverLoop(ctx context.Context) {
	var next *link.Event
	for {
		var ev link.Event
		if next != nil {
			ev, next = *next, nil
		} else {
			select {
			case <-ctx.Done():
				return
			case <-sv.messages.reexamineKick:
				sv.messages.reexamineParked(ctx)
				continue
			case e, ok := <-sv.link.Events():
				if !ok {
					return
				}
				ev = e
			}
		}
		batch, ok := sv.relayEvent(ev)
		if !ok {
			sv.handleLink(ctx, ev)
			continue
		}
	gather:
		for len(batch) < relayGather {
			select {
			case e, ok := <-sv.link.Events():
				if !ok {
					break gather
				}
				if revs, ok := sv.relayEvent(e); ok {
					batch = append(batch, revs...)
				} else {
					next = &e
					break gather
				}
			default:
				break gather
			}
		}
		sv.messages.receiveRelayed(ctx, batch)
	}
}

// relayEvent decodes ev if it is a relay event (a batch of envelopes).
func (sv *serverFeed) relayEvent(ev link.Event) ([]wire.RelayEvent, bool) {
	var rev wire.RelayBatchEvent
	if ev.Kind != link.EventServer || ev.Frame == nil || ev.Frame.Op != wire.EvRelay {
		return nil, false
	}
	if !decodeEvent(sv.log, ev.Frame, &rev) {
		return nil, false
	}
	return rev.Envelopes, true
}

func (sv *serverFeed) handleLink(ctx context.Context, ev link.Event) {
	switch ev.Kind {
	case link.EventUp:
		sv.notify(api.Event{Type: api.EventServer, Connection: &api.Connection{Up: true, Addr: sv.link.Addr()}})
		if ev.Session != nil {
			sv.session.resumed(ev.Session.Profile)
			sv.online(ctx)
		}
	case link.EventDown:
		sv.notify(api.Event{Type: api.EventServer, Connection: &api.Connection{Up: false, Addr: sv.link.Addr()}})
	case link.EventServer:
		if ev.Frame != nil {
			sv.handleServerEvent(ctx, ev.Frame)
		}
	}
}

// online runs after every login or resume: it tells the server where this
// daemon takes direct connections, refreshes the roster and the contacts'
// keys, and starts the outbox.
func (sv *serverFeed) online(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	// Key changes pushed while the link was away were missed.
	sv.keyring.cache.clear()
	if err := sv.publishPresence(ctx); err != nil {
		sv.log.Warn("publish presence", "err", err)
	}
	if err := sv.syncRoster(ctx); err != nil {
		sv.log.Warn("sync friends and groups", "err", err)
	}
	sv.session.rotatePrekey(ctx)
	sv.kickPathOpened()
}

// publishPresence reports this daemon as online with its direct endpoints.
func (sv *serverFeed) publishPresence(ctx context.Context) error {
	req := wire.PresenceSetRequest{Status: wire.StatusOnline}
	if t := sv.transport(); t != nil {
		req.Endpoints = endpoints(t.LocalAddr())
	}
	return sv.link.Call(ctx, wire.OpPresenceSet, req, nil)
}

// endpoints lists the addresses where a listener bound to addr can be
// reached: addr itself, or for a wildcard address each interface address
// (loopback only when there is nothing else).
func endpoints(addr *net.UDPAddr) []string {
	ap := addr.AddrPort()
	ip := ap.Addr().Unmap()
	if !ip.IsUnspecified() {
		return []string{netip.AddrPortFrom(ip, ap.Port()).String()}
	}
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out, loop []string
	for _, a := range ifaddrs {
		pfx, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := pfx.Addr().Unmap()
		if ip.Zone() != "" || ip.IsLinkLocalUnicast() || ip.IsMulticast() {
			continue
		}
		if ip.Is6() && ip.Is4In6() {
			continue
		}
		ep := netip.AddrPortFrom(ip, ap.Port()).String()
		if ip.IsLoopback() {
			loop = append(loop, ep)
		} else {
			out = append(out, ep)
		}
	}
	if len(out) == 0 {
		out = loop
	}
	if len(out) > wire.MaxEndpoints {
		out = out[:wire.MaxEndpoints]
	}
	return out
}

// syncRoster fetches friends, groups and members, keeps them on disk for
// the next start, and pins the keys of everyone we may talk to. Syncs run
// one at a time, so an older answer never replaces a newer one.
func (sv *serverFeed) syncRoster(ctx context.Context) error {
	synced, err := sv.roster.Sync(ctx, sv.link, time.Now())
	if err != nil {
		return err
	}
	stored := synced.Stored
	contacts := sv.roster.Contacts()
	me := sv.session.self()

	if err := sv.db.SaveRoster(ctx, stored); err != nil {
		// The roster in memory is right; the next start applies an
		// older one until it syncs.
		sv.log.Warn("keep the roster on disk", "err", err)
	}

	for _, g := range synced.Groups {
		if err := sv.db.SetConversationName(ctx, history.Group(g.ID), "#"+g.Name); err != nil {
			sv.log.Warn("name group conversation", "group", g.Name, "err", err)
		}
	}
	// The keys of contacts already cached are known and pinned: any
	// change since would have come as key.changed (the cache is cleared
	// when the link comes back). The others' are fetched together.
	others := make([]string, 0, len(contacts))
	for _, u := range contacts {
		if u != me {
			others = append(others, u)
		}
	}
	sv.keyring.prefetch(ctx, others)
	sv.messages.reexamineParked(ctx)
	want, eager := synced.Avatars, synced.Eager
	if p := sv.session.profile(); p.Username != "" {
		want[p.Username], eager[p.Username] = p.Avatar, true
	}
	sv.avatars.refreshAvatars(ctx, want, eager)
	return nil
}

// handleServerEvent acts on one event the server pushed.
func (sv *serverFeed) handleServerEvent(ctx context.Context, f *wire.Frame) {
	switch f.Op {
	case wire.EvRelay:
		var ev wire.RelayBatchEvent
		if decodeEvent(sv.log, f, &ev) {
			sv.messages.receiveRelayed(ctx, ev.Envelopes)
		}
	case wire.EvRelayDropped:
		var ev wire.RelayDroppedEvent
		if decodeEvent(sv.log, f, &ev) {
			sv.messages.relayDropped(ctx, ev)
		}
	case wire.EvPresence:
		var p wire.Presence
		if !decodeEvent(sv.log, f, &p) {
			return
		}
		sv.roster.SetPresence(p)
		sv.notify(api.Event{Type: api.EventPresence, Presence: &api.PeerStatus{User: p.Username, Presence: presenceOf(p)}})
		if p.Status != wire.StatusOffline {
			// Something new is known of them: dial again at once.
			sv.peers.forgetFailure(p.Username)
			sv.kickPathOpened()
		}
	case wire.EvFriendRequest, wire.EvFriendAccepted, wire.EvFriendRemoved:
		var fe wire.FriendEvent
		if !decodeEvent(sv.log, f, &fe) {
			return
		}
		sv.friendEvent(ctx, f.Op, fe)
	case wire.EvProfile:
		var pe wire.ProfileEvent
		if decodeEvent(sv.log, f, &pe) {
			sv.avatars.profileEvent(ctx, pe)
		}
	case wire.EvGroup:
		var ge wire.GroupEvent
		if !decodeEvent(sv.log, f, &ge) {
			return
		}
		sv.groupEvent(ctx, ge)
	case wire.EvKeyChanged:
		var kc wire.KeyChangedEvent
		if !decodeEvent(sv.log, f, &kc) {
			return
		}
		sv.keyring.keysChanged(ctx, kc) // a new login publishes a new prekey too
	case wire.EvSignedOut:
		var so wire.SignedOutEvent
		decodeEvent(sv.log, f, &so)
		sv.session.signOut(so.Reason)
		sv.notify(api.Event{Type: api.EventSignedOut, Text: so.Reason})
	case wire.EvShutdown:
		sv.log.Info("server is shutting down; will reconnect")
	}
}

func decodeEvent(log *slog.Logger, f *wire.Frame, v any) bool {
	if err := wire.DecodeBody(f.Body, v); err != nil {
		log.Warn("malformed server event", "op", f.Op, "err", err)
		return false
	}
	return true
}

func (sv *serverFeed) friendEvent(ctx context.Context, op string, fe wire.FriendEvent) {
	note := &api.FriendNote{User: fe.Username, DisplayName: fe.DisplayName}
	switch op {
	case wire.EvFriendRequest:
		sv.notify(api.Event{Type: api.EventFriendRequest, Friend: note})
	case wire.EvFriendAccepted:
		sv.notify(api.Event{Type: api.EventFriendAccepted, Friend: note})
	case wire.EvFriendRemoved:
		sv.notify(api.Event{Type: api.EventFriendRemoved, Friend: note})
	}
	if err := sv.syncRoster(ctx); err != nil {
		sv.log.Warn("sync after friend change", "err", err)
	}
	if op == wire.EvFriendRemoved {
		if !sv.roster.Related(fe.Username) {
			sv.peers.close(fe.Username)
		}
	}
	sv.outbox.Kick()
}

// groupEvent asks for a roster sync, with the other changes of a burst
// (syncLoop), and tells the clients once it has run: what they read then
// shows the change.
func (sv *serverFeed) groupEvent(ctx context.Context, ge wire.GroupEvent) {
	sv.syncs.note(api.Event{Type: api.EventGroup, Group: &api.GroupNote{
		Change: ge.Change, Group: groupOf(ge.Group), User: ge.Username, By: ge.By, OldName: ge.OldName,
	}})
	sv.syncSoon()
}

func presenceOf(p wire.Presence) api.Presence {
	return api.Presence{Status: p.Status, LastSeen: p.LastSeen}
}

func groupOf(g wire.Group) api.Group {
	return api.Group{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: g.Members, Created: g.Created, Room: g.Room, Topic: g.Topic}
}
