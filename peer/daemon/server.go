package daemon

import (
	"context"
	"crypto/ed25519"
	"net"
	"net/netip"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

// syncTimeout bounds one resynchronisation with the server.
const syncTimeout = 30 * time.Second

// serverLoop handles what the server link reports, in order. Relayed
// envelopes that are already waiting are taken together (relayGather at
// most), so that a backlog costs one commit and one acknowledgement per
// batch rather than per envelope.
func (d *Daemon) serverLoop(ctx context.Context) {
	var next *link.Event
	for {
		var ev link.Event
		if next != nil {
			ev, next = *next, nil
		} else {
			select {
			case <-ctx.Done():
				return
			case <-d.messages.reexamineKick:
				d.messages.reexamineParked(ctx)
				continue
			case e, ok := <-d.link.Events():
				if !ok {
					return
				}
				ev = e
			}
		}
		rev, ok := d.relayEvent(ev)
		if !ok {
			d.handleLink(ctx, ev)
			continue
		}
		batch := []wire.RelayEvent{rev}
	gather:
		for len(batch) < relayGather {
			select {
			case e, ok := <-d.link.Events():
				if !ok {
					break gather
				}
				if rev, ok := d.relayEvent(e); ok {
					batch = append(batch, rev)
				} else {
					next = &e
					break gather
				}
			default:
				break gather
			}
		}
		d.messages.receiveRelayed(ctx, batch)
	}
}

// relayEvent decodes ev if it is a relayed envelope.
func (d *Daemon) relayEvent(ev link.Event) (wire.RelayEvent, bool) {
	var rev wire.RelayEvent
	if ev.Kind != link.EventServer || ev.Frame == nil || ev.Frame.Op != wire.EvRelay {
		return rev, false
	}
	return rev, decodeEvent(d, ev.Frame, &rev)
}

func (d *Daemon) handleLink(ctx context.Context, ev link.Event) {
	switch ev.Kind {
	case link.EventUp:
		d.notify(api.Event{Type: api.EventServer, Connection: &api.Connection{Up: true, Addr: d.link.Addr()}})
		if ev.Session != nil {
			d.session.resumed(ev.Session.Profile)
			d.online(ctx)
		}
	case link.EventDown:
		d.notify(api.Event{Type: api.EventServer, Connection: &api.Connection{Up: false, Addr: d.link.Addr()}})
	case link.EventServer:
		if ev.Frame != nil {
			d.handleServerEvent(ctx, ev.Frame)
		}
	}
}

// online runs after every login or resume: it tells the server where this
// daemon takes direct connections, refreshes the roster and the contacts'
// keys, and starts the outbox.
func (d *Daemon) online(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := d.publishPresence(ctx); err != nil {
		d.log.Warn("publish presence", "err", err)
	}
	if err := d.syncRoster(ctx); err != nil {
		d.log.Warn("sync friends and groups", "err", err)
	}
	d.session.rotatePrekey(ctx)
	d.kickPathOpened()
}

// publishPresence reports this daemon as online with its direct endpoints.
func (d *Daemon) publishPresence(ctx context.Context) error {
	req := wire.PresenceSetRequest{Status: wire.StatusOnline}
	if t := d.currentTransport(); t != nil {
		req.Endpoints = endpoints(t.LocalAddr())
	}
	return d.link.Call(ctx, wire.OpPresenceSet, req, nil)
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
func (d *Daemon) syncRoster(ctx context.Context) error {
	synced, err := d.roster.Sync(ctx, d.link, time.Now())
	if err != nil {
		return err
	}
	stored := synced.Stored
	contacts := d.roster.Contacts()
	me := d.session.self()

	if err := d.db.SaveRoster(ctx, stored); err != nil {
		// The roster in memory is right; the next start applies an
		// older one until it syncs.
		d.log.Warn("keep the roster on disk", "err", err)
	}

	for _, g := range synced.Groups {
		if err := d.db.SetConversationName(ctx, history.Group(g.ID), "#"+g.Name); err != nil {
			d.log.Warn("name group conversation", "group", g.Name, "err", err)
		}
	}
	for _, u := range contacts {
		if u == me {
			continue
		}
		if _, err := d.keyring.fetchKey(ctx, u); err != nil {
			d.log.Warn("fetch key", "user", u, "err", err)
		}
	}
	d.messages.reexamineParked(ctx)
	return nil
}

// handleServerEvent acts on one event the server pushed.
func (d *Daemon) handleServerEvent(ctx context.Context, f *wire.Frame) {
	switch f.Op {
	case wire.EvRelay:
		var ev wire.RelayEvent
		if decodeEvent(d, f, &ev) {
			d.messages.receiveRelayed(ctx, []wire.RelayEvent{ev})
		}
	case wire.EvRelayDropped:
		var ev wire.RelayDroppedEvent
		if decodeEvent(d, f, &ev) {
			d.messages.relayDropped(ctx, ev)
		}
	case wire.EvPresence:
		var p wire.Presence
		if !decodeEvent(d, f, &p) {
			return
		}
		d.roster.SetPresence(p)
		d.notify(api.Event{Type: api.EventPresence, Presence: &api.PeerStatus{User: p.Username, Presence: presenceOf(p)}})
		if p.Status != wire.StatusOffline {
			// Something new is known of them: dial again at once.
			d.peers.forgetFailure(p.Username)
			d.kickPathOpened()
		}
	case wire.EvFriendRequest, wire.EvFriendAccepted, wire.EvFriendRemoved:
		var fe wire.FriendEvent
		if !decodeEvent(d, f, &fe) {
			return
		}
		d.friendEvent(ctx, f.Op, fe)
	case wire.EvGroup:
		var ge wire.GroupEvent
		if !decodeEvent(d, f, &ge) {
			return
		}
		d.groupEvent(ctx, ge)
	case wire.EvKeyChanged:
		var kc wire.KeyChangedEvent
		if !decodeEvent(d, f, &kc) {
			return
		}
		d.keyring.dropCached(kc.Username) // a new login publishes a new prekey too
		if len(kc.IdentityKey) == ed25519.PublicKeySize {
			d.keyring.pinKey(ctx, kc.Username, kc.IdentityKey)
		}
	case wire.EvSignedOut:
		var so wire.SignedOutEvent
		decodeEvent(d, f, &so)
		d.session.signOut(so.Reason)
		d.notify(api.Event{Type: api.EventSignedOut, Text: so.Reason})
	case wire.EvShutdown:
		d.log.Info("server is shutting down; will reconnect")
	}
}

func decodeEvent(d *Daemon, f *wire.Frame, v any) bool {
	if err := wire.DecodeBody(f.Body, v); err != nil {
		d.log.Warn("malformed server event", "op", f.Op, "err", err)
		return false
	}
	return true
}

func (d *Daemon) friendEvent(ctx context.Context, op string, fe wire.FriendEvent) {
	note := &api.FriendNote{User: fe.Username, DisplayName: fe.DisplayName}
	switch op {
	case wire.EvFriendRequest:
		d.notify(api.Event{Type: api.EventFriendRequest, Friend: note})
	case wire.EvFriendAccepted:
		d.notify(api.Event{Type: api.EventFriendAccepted, Friend: note})
	case wire.EvFriendRemoved:
		d.notify(api.Event{Type: api.EventFriendRemoved, Friend: note})
	}
	if err := d.syncRoster(ctx); err != nil {
		d.log.Warn("sync after friend change", "err", err)
	}
	if op == wire.EvFriendRemoved {
		if !d.roster.Related(fe.Username) {
			d.peers.close(fe.Username)
		}
	}
	d.outbox.Kick()
}

func (d *Daemon) groupEvent(ctx context.Context, ge wire.GroupEvent) {
	d.notify(api.Event{Type: api.EventGroup, Group: &api.GroupNote{
		Change: ge.Change, Group: groupOf(ge.Group), User: ge.Username, By: ge.By, OldName: ge.OldName,
	}})
	if err := d.syncRoster(ctx); err != nil {
		d.log.Warn("sync after group change", "err", err)
	}
	d.outbox.Kick()
}

func presenceOf(p wire.Presence) api.Presence {
	return api.Presence{Status: p.Status, LastSeen: p.LastSeen}
}

func groupOf(g wire.Group) api.Group {
	return api.Group{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: g.Members, Created: g.Created, Room: g.Room, Topic: g.Topic}
}
