package daemon

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/content"
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

// kindReceipt is the kind of a receipt message: its body is a Receipt in
// JSON. Receipts are not stored in history.
const kindReceipt = "receipt"

// arrival is a message as one of the two paths hands it over: decoded
// from a direct connection (envelope.Decode) or opened from the relay
// (envelope.Open, which checked the sender's signature).
type arrival struct {
	envelope.Message
	// Sender is who the path says sent it: the user whose key the
	// direct connection proved, or the sender the relay named. The
	// message must name the same.
	Sender string
	// Me is this side's user: the message must be addressed to it.
	Me  string
	Via history.Via
	// Arrived is when it reached this side: the relay's time for a
	// relayed message, zero (now) for a direct one.
	Arrived time.Time
}

// recipient is the user messages that arrive here must be addressed to:
// the session's, or when there is none (the server pushes what waits
// right after its login reply, which the link may hand over before Login
// has recorded the session; the session is gone) this directory's
// account's, the only one it serves.
func (ms *messages) recipient() string {
	if me := ms.session.self(); me != "" {
		return me
	}
	me, _ := ms.home.Account()
	return me
}

// incoming is a message that arrived, directly or through the relay, with
// its sender already authenticated: what admit, take and the kinds'
// receivers work on.
type incoming struct {
	ID    string
	From  string
	Group string
	Sent  time.Time // as the sender claims it
	Kind  string
	Body  string
	Via   history.Via
	// Arrived is when it reached this side: the relay's time for a
	// relayed message, zero (now) for a direct one. The claimed send time
	// is clamped around it.
	Arrived time.Time
}

// receive is the one way in for a message, whichever path it came by. It
// checks the message against what its path vouches for, records a
// receipt, and admits and takes anything else. It returns nil and "" once
// the message is durably here (new or a redelivery), which is when the
// sender may be told it was delivered; a reason when it cannot be taken
// now but may be later (the relay parks it, a direct sender keeps it);
// or an error when it is refused (wire.CodeInternal: this side failed).
func (ms *messages) receive(ctx context.Context, a arrival) (history.ParkReason, *wire.Error) {
	if a.From != a.Sender {
		return "", wire.Errorf(wire.CodeForbidden, "the message names %s as its sender, not %s", a.From, a.Sender)
	}
	if a.To != a.Me {
		return "", wire.Errorf(wire.CodeForbidden, "the message is addressed to %s, not %s", a.To, a.Me)
	}
	if a.Kind == kindReceipt {
		var r Receipt
		if err := wire.DecodeBody(a.Body, &r); err != nil {
			return "", wire.Errorf(wire.CodeMalformed, "receipt: %v", err)
		}
		if werr := ms.receipt(ctx, a.From, r.IDs); werr != nil && werr.Code == wire.CodeInternal {
			return history.ParkRetry, nil
		} else if werr != nil {
			return "", werr
		}
		return "", nil
	}
	in := incoming{
		ID: a.ID, From: a.From, Group: a.Group, Sent: a.Sent, Kind: a.Kind, Body: string(a.Body),
		Via: a.Via, Arrived: a.Arrived,
	}
	conv, park, werr := ms.admit(ctx, &in)
	if werr != nil || park != "" {
		return park, werr
	}
	return "", ms.take(ctx, in, conv)
}

// take hands an admitted message, direct or relayed, to what its kind
// belongs to: the library, the rich-conversation rules, or the timeline.
func (ms *messages) take(ctx context.Context, m incoming, conv string) *wire.Error {
	switch {
	case isLibraryKind(m.Kind):
		return ms.library.receiveLibrary(ctx, m) // library.go
	case isRichKind(m.Kind):
		return ms.receiveRich(ctx, m, conv) // rich.go
	}
	return ms.store(ctx, m, conv)
}

// admit decides what may be done with an incoming message now. It returns
// the conversation it belongs in; or, when it cannot be taken now but may
// be later (the sender is held, not known as a member of the group, not a
// contact; the database failed), why it must wait; or an error when it is
// refused for good.
//
// The message's form (ids, names, time, kind and body sizes) was checked
// by package envelope as it was decoded; admit checks what it means here.
func (ms *messages) admit(ctx context.Context, m *incoming) (string, history.ParkReason, *wire.Error) {
	if m.Kind != history.KindText && !isLibraryKind(m.Kind) && !isRichKind(m.Kind) {
		return "", "", wire.Invalid("kind", "unknown message kind %q", m.Kind)
	}
	if max := maxBody(m.Kind); len(m.Body) > max || !utf8.ValidString(m.Body) {
		return "", "", wire.Invalid("body", "must be valid UTF-8 of at most %d bytes", max)
	}
	if held, err := ms.db.Held(ctx, m.From); err != nil {
		return "", history.ParkRetry, nil
	} else if held {
		return "", history.ParkHeld, nil
	}
	if m.Group != "" {
		if !ms.roster.Member(m.Group, m.From) {
			return "", history.ParkGroup, nil
		}
		return history.Group(m.Group), "", nil
	}
	if !ms.roster.Related(m.From) {
		// Not a contact now, or maybe one since the roster kept on disk:
		// decided after the sync.
		return "", history.ParkContact, nil
	}
	return history.Direct(m.From), "", nil
}

// store commits an admitted message to history, with its claimed send
// time clamped around its arrival.
func (ms *messages) store(ctx context.Context, m incoming, conv string) *wire.Error {
	return ms.storeMeta(ctx, m, conv, "")
}

// maxBody is the largest body of a message kind: a text's, or a JSON
// body's (content.MaxBody).
func maxBody(kind string) int {
	if kind == history.KindText {
		return MaxText
	}
	return content.MaxBody
}

// storeMeta is store with the JSON body of a kind other than text kept
// beside the text it shows (history.Message.Meta).
func (ms *messages) storeMeta(ctx context.Context, m incoming, conv, meta string) *wire.Error {
	msg := ms.incomingRow(ctx, m, conv, meta)
	inserted, err := ms.db.AddIncoming(ctx, msg)
	if werr := ms.storeErr(err); werr != nil {
		return werr
	}
	if inserted {
		ms.announce(ctx, msg)
	}
	return nil
}

// incomingRow is the history row of an admitted message, its claimed
// send time clamped around its arrival.
func (ms *messages) incomingRow(ctx context.Context, m incoming, conv, meta string) history.Message {
	now := time.Now()
	arrived := m.Arrived
	if arrived.IsZero() || arrived.After(now) {
		arrived = now
	}
	sent, claimed := history.ClampSent(m.Sent, arrived)
	if m.Group != "" {
		if g, known := ms.roster.GroupByID(m.Group); known {
			if err := ms.db.SetConversationName(ctx, conv, "#"+g.Name); err != nil {
				ms.log.Warn("name group conversation", "err", err)
			}
		}
	}
	return history.Message{
		ID: m.ID, Conversation: conv, From: m.From, Kind: m.Kind, Body: m.Body,
		Sent: sent, Claimed: claimed, Received: now, Via: m.Via, Meta: meta,
	}
}

// storeErr is the answer to the sender when storing failed; nil if it
// did not.
func (ms *messages) storeErr(err error) *wire.Error {
	if err == nil {
		return nil
	}
	if errors.Is(err, history.ErrConflict) {
		return wire.Errorf(wire.CodeConflict, "message id already used")
	}
	ms.log.Error("store incoming message", "err", err)
	return wire.Errorf(wire.CodeInternal, "internal error")
}

// announce tells local clients of a message just stored.
func (ms *messages) announce(ctx context.Context, msg history.Message) {
	msg.State = history.StateReceived
	mentioned := ms.markMention(ctx, msg) // rich.go
	if out := ms.newMessages(ctx, []history.Message{msg}); len(out) == 1 {
		out[0].Mentioned = mentioned
		ms.notify(api.Event{Type: api.EventMessage, Message: &out[0]})
	}
}

// receipt records that peer from committed messages we sent.
func (ms *messages) receipt(ctx context.Context, from string, ids []string) *wire.Error {
	if len(ids) > maxReceiptIDs {
		return wire.Invalid("ids", "at most %d ids", maxReceiptIDs)
	}
	for _, id := range ids {
		if werr := wire.CheckMessageID("ids", id); werr != nil {
			return werr
		}
	}
	errs := ms.db.DeliveredRun(ctx, ids, from) // one commit for all
	var failed bool
	for i, id := range ids {
		switch {
		case errors.Is(errs[i], history.ErrNotFound):
		case errs[i] != nil:
			failed = true
		default:
			ms.messageState(ctx, id)
		}
	}
	if failed {
		return wire.Errorf(wire.CodeInternal, "internal error")
	}
	return nil
}

// messageState tells local clients where an outgoing message stands now.
func (ms *messages) messageState(ctx context.Context, id string) {
	m, err := ms.db.Message(ctx, ms.session.self(), id)
	if err != nil {
		return
	}
	ms.notify(api.Event{Type: api.EventMessageState, Message: ms.apiMessage(m)})
}

// openEnvelope opens an envelope with the prekey it names, checking the
// signature against the sender's pinned key (pinning it at first sight).
func (ms *messages) openEnvelope(ctx context.Context, me string, b []byte) (envelope.Message, error) {
	h, err := envelope.Peek(b)
	if err != nil {
		return envelope.Message{}, err
	}
	pk, err := ms.db.Prekey(ctx, h.PrekeyID)
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
		return ms.keyring.senderKey(ctx, user)
	})
}

// sendReceipts tells the senders of relayed messages that they are in our
// history, one receipt per sender (of at most maxReceiptIDs ids): directly
// if a connection is open, else through the relay. It is best effort: a
// lost receipt leaves the sender's copy at "sent".
func (ms *messages) sendReceipts(ctx context.Context, refs []wire.RelayRef) {
	var order []string
	ids := map[string][]string{}
	for _, r := range refs {
		if _, ok := ids[r.From]; !ok {
			order = append(order, r.From)
		}
		ids[r.From] = append(ids[r.From], r.ID)
	}
	for _, to := range order {
		for rest := ids[to]; len(rest) > 0; {
			n := min(len(rest), maxReceiptIDs)
			ms.sendReceipt(ctx, to, rest[:n])
			rest = rest[n:]
		}
	}
}

// sendReceipt sends one receipt for ids to their sender, as a message of
// its own: directly if a connection is open, else through the relay.
func (ms *messages) sendReceipt(ctx context.Context, to string, ids []string) {
	body, err := json.Marshal(Receipt{IDs: ids})
	if err != nil {
		return
	}
	rid, err := newMessageID()
	if err != nil {
		return
	}
	m := envelope.Message{ID: rid, From: ms.session.self(), To: to, Sent: time.Now(), Kind: kindReceipt, Body: body}
	if c := ms.peers.get(to); c != nil {
		if err := ms.sendDirect(ctx, c, m); err == nil {
			return
		}
	}
	if err := ms.relay(ctx, m); err != nil {
		ms.log.Debug("relay receipt", "to", to, "err", err)
	}
}
