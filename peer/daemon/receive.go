package daemon

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// errTransient marks a failure to open a relayed envelope that may pass
// (the server or the database could not answer), as opposed to an
// envelope that will never open.
var errTransient = errors.New("temporary failure")

// kindReceipt is the envelope kind of a relayed receipt: its body is a
// Receipt in JSON. Receipts are not stored in history.
const kindReceipt = "receipt"

// incoming is a message that arrived, directly or through the relay, with
// its sender already authenticated.
type incoming struct {
	ID    string
	From  string
	Group string
	Sent  time.Time
	Kind  string
	Body  string
	Via   history.Via
}

// receive checks and stores one incoming message. It returns nil once the
// message is durably in history (new or a redelivery), which is when the
// sender may be told it was delivered.
func (d *Daemon) receive(ctx context.Context, m incoming) *wire.Error {
	if werr := wire.CheckMessageID("id", m.ID); werr != nil {
		return werr
	}
	if m.Kind == "" {
		m.Kind = history.KindText
	}
	if m.Sent.IsZero() {
		return wire.Invalid("sent", "the message has no time")
	}
	if m.Kind != history.KindText {
		return wire.Invalid("kind", "unknown message kind %q", m.Kind)
	}
	if len(m.Body) > MaxText || !utf8.ValidString(m.Body) {
		return wire.Invalid("body", "text must be valid UTF-8 of at most %d bytes", MaxText)
	}
	if held, err := d.db.Held(ctx, m.From); err != nil {
		return wire.Errorf(wire.CodeInternal, "internal error")
	} else if held {
		// Nothing from a contact whose key changed is taken until the
		// user trusts the new key; the sender keeps it meanwhile.
		return wire.Errorf(wire.CodeForbidden, "your identity key changed; waiting for the recipient to trust it")
	}
	conv := history.Direct(m.From)
	if m.Group != "" {
		if werr := wire.CheckMessageID("group", m.Group); werr != nil {
			return werr
		}
		d.mu.Lock()
		g, known := d.roster.groupByID(m.Group)
		member := known && slices.Contains(d.roster.members[g.Name], m.From)
		d.mu.Unlock()
		if !member {
			return wire.Errorf(wire.CodeForbidden, "not a member of that group")
		}
		conv = history.Group(m.Group)
		if known {
			if err := d.db.SetConversationName(ctx, conv, "#"+g.Name); err != nil {
				d.log.Warn("name group conversation", "err", err)
			}
		}
	} else {
		d.mu.Lock()
		ok, synced := d.roster.related(m.From), d.roster.synced
		d.mu.Unlock()
		if !ok && !synced {
			// Maybe a friend since the roster kept on disk: decide
			// after the sync.
			return wire.Errorf(wire.CodeForbidden, "the recipient has not reached the server yet; try again later")
		}
		if !ok {
			return wire.Errorf(wire.CodeNotFriends, "you are not a contact of the recipient")
		}
	}
	msg := history.Message{
		ID: m.ID, Conversation: conv, From: m.From, Kind: m.Kind, Body: m.Body,
		Sent: m.Sent, Received: time.Now(), Via: m.Via,
	}
	inserted, err := d.db.AddIncoming(ctx, msg)
	if errors.Is(err, history.ErrConflict) {
		return wire.Errorf(wire.CodeConflict, "message id already used")
	}
	if err != nil {
		d.log.Error("store incoming message", "err", err)
		return wire.Errorf(wire.CodeInternal, "internal error")
	}
	if inserted {
		msg.State = history.StateReceived
		d.notify(api.Event{Type: api.EventMessage, Message: d.apiMessage(msg)})
	}
	return nil
}

// receipt records that peer from committed messages we sent.
func (d *Daemon) receipt(ctx context.Context, from string, ids []string) *wire.Error {
	if len(ids) > maxReceiptIDs {
		return wire.Invalid("ids", "at most %d ids", maxReceiptIDs)
	}
	for _, id := range ids {
		if werr := wire.CheckMessageID("ids", id); werr != nil {
			return werr
		}
		err := d.db.Delivered(ctx, id, from)
		if errors.Is(err, history.ErrNotFound) {
			continue
		}
		if err != nil {
			return wire.Errorf(wire.CodeInternal, "internal error")
		}
		d.messageState(ctx, id)
	}
	return nil
}

// messageState tells local clients where an outgoing message stands now.
func (d *Daemon) messageState(ctx context.Context, id string) {
	m, err := d.db.Message(ctx, id)
	if err != nil {
		return
	}
	d.notify(api.Event{Type: api.EventMessageState, Message: d.apiMessage(m)})
}

// receiveRelayed opens an envelope the server pushed, stores the message
// and acknowledges it to the server only after the commit. A message from
// a held contact is neither stored nor acknowledged: the server keeps it.
func (d *Daemon) receiveRelayed(ctx context.Context, ev wire.RelayEvent) {
	me := d.self()
	if me == "" {
		return
	}
	m, err := d.openEnvelope(ctx, me, ev.Envelope)
	if errors.Is(err, history.ErrHeld) {
		d.log.Info("relayed message held until the sender's new key is trusted", "from", ev.From)
		return
	}
	if errors.Is(err, errTransient) {
		// Not the envelope's fault: leave it on the server, which
		// pushes it again with the next session.
		d.log.Warn("cannot open a relayed message now; it stays on the server", "id", ev.ID, "from", ev.From, "err", err)
		return
	}
	if err != nil {
		// It will never open: drop it from the relay rather than have
		// it pushed again forever.
		d.log.Warn("dropping relayed envelope that does not open", "id", ev.ID, "from", ev.From, "err", err)
		d.ackRelay(ctx, ev.From, ev.ID)
		return
	}
	if m.ID != ev.ID {
		d.log.Warn("relayed envelope id mismatch", "id", ev.ID)
		d.ackRelay(ctx, ev.From, ev.ID)
		return
	}
	if m.Kind == kindReceipt {
		var r Receipt
		if err := json.Unmarshal(m.Body, &r); err == nil {
			d.receipt(ctx, m.From, r.IDs)
		}
		d.ackRelay(ctx, ev.From, ev.ID)
		return
	}
	werr := d.receive(ctx, incoming{
		ID: m.ID, From: m.From, Group: m.Group, Sent: m.Sent, Kind: m.Kind, Body: string(m.Body), Via: history.ViaRelay,
	})
	if werr != nil && werr.Code == wire.CodeInternal {
		return // not committed: let the server push it again
	}
	if werr != nil && werr.Code == wire.CodeForbidden {
		return // held or not yet known as a member: keep it on the server
	}
	d.ackRelay(ctx, ev.From, ev.ID)
	if werr == nil {
		d.sendReceipt(ctx, m.From, m.ID)
	}
}

// openEnvelope opens an envelope with the prekey it names, checking the
// signature against the sender's pinned key (pinning it at first sight).
func (d *Daemon) openEnvelope(ctx context.Context, me string, b []byte) (envelope.Message, error) {
	h, err := envelope.Peek(b)
	if err != nil {
		return envelope.Message{}, err
	}
	pk, err := d.db.Prekey(ctx, h.PrekeyID)
	if errors.Is(err, history.ErrNotFound) {
		// Sealed to a prekey this machine never had (another machine
		// of the account) or deleted after the relay's retention.
		return envelope.Message{}, fmt.Errorf("prekey %s: %w", h.PrekeyID, err)
	}
	if err != nil {
		return envelope.Message{}, fmt.Errorf("prekey %s: %w: %v", h.PrekeyID, errTransient, err)
	}
	secret, err := keys.KEM().NewPrivateKey(pk.Secret)
	if err != nil {
		return envelope.Message{}, fmt.Errorf("prekey %s: %w", h.PrekeyID, err)
	}
	return envelope.Open(b, me, secret, h.PrekeyID, func(user string) (ed25519.PublicKey, error) {
		return d.senderKey(ctx, user)
	})
}

// senderKey returns the pinned identity key of user, fetching and pinning
// it from the server's directory at first sight. A held contact gives
// history.ErrHeld.
func (d *Daemon) senderKey(ctx context.Context, user string) (ed25519.PublicKey, error) {
	c, err := d.db.Contact(ctx, user)
	if errors.Is(err, history.ErrNotFound) {
		if _, err := d.fetchKey(ctx, user); err != nil {
			var werr *wire.Error
			if errors.As(err, &werr) && werr.Code == wire.CodeNotFound {
				return nil, fmt.Errorf("key of %s: %w", user, err)
			}
			return nil, fmt.Errorf("key of %s: %w: %v", user, errTransient, err)
		}
		c, err = d.db.Contact(ctx, user)
	}
	if err != nil {
		return nil, fmt.Errorf("key of %s: %w: %v", user, errTransient, err)
	}
	if c.Held() {
		return nil, history.ErrHeld
	}
	return ed25519.PublicKey(c.IdentityKey), nil
}

// ackRelay acknowledges a relayed message after its commit.
func (d *Daemon) ackRelay(ctx context.Context, from, id string) {
	if err := d.link.Call(ctx, wire.OpRelayAck, wire.RelayAckRequest{Acks: []wire.RelayRef{{From: from, ID: id}}}, nil); err != nil {
		d.log.Warn("acknowledge relayed messages", "err", err)
	}
}

// sendReceipt tells the sender of a relayed message that it is in our
// history: directly if a connection is open, else through the relay. It is
// best effort: a lost receipt leaves the sender's copy at "sent".
func (d *Daemon) sendReceipt(ctx context.Context, to, id string) {
	if c := d.peers.get(to); c != nil {
		if err := d.exchange(ctx, c, opReceipt, Receipt{IDs: []string{id}}); err == nil {
			return
		}
	}
	body, _ := json.Marshal(Receipt{IDs: []string{id}})
	rid, err := newMessageID()
	if err != nil {
		return
	}
	if err := d.relay(ctx, to, envelope.Message{ID: rid, Kind: kindReceipt, Body: body}); err != nil {
		d.log.Debug("relay receipt", "to", to, "err", err)
	}
}
