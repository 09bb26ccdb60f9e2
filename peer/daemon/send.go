package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
	"github.com/lanchat/lanchat/peer/history"
)

// MaxText is the largest message text, in bytes.
const MaxText = 64 << 10

// sendTimeout bounds how long Send waits for the first try.
const sendTimeout = 8 * time.Second

// errNoPath means a copy could not leave now.
var errNoPath = outbox.ErrNoPath

// Send writes a text message to a user or a #group, stores it with one
// outbox copy per recipient, and tries to deliver it at once.
func (ms *messages) Send(ctx context.Context, req api.SendRequest) (api.SendResult, error) {
	me, err := ms.session.requireLogin()
	if err != nil {
		return api.SendResult{}, err
	}
	if !utf8.ValidString(req.Text) {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "the text is not valid UTF-8")
	}
	if strings.TrimSpace(req.Text) == "" {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "the text is empty")
	}
	if len(req.Text) > MaxText {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "the text is %d bytes; the most is %d", len(req.Text), MaxText)
	}
	conv, to, err := ms.recipients(ctx, me, req.Target)
	if err != nil {
		return api.SendResult{}, err
	}
	id, err := newMessageID()
	if err != nil {
		return api.SendResult{}, err
	}
	if err := ms.chargeRoom(ctx, req.Target, id); err != nil {
		return api.SendResult{}, err
	}
	now := time.Now()
	m := history.Message{ID: id, Conversation: conv, From: me, Kind: history.KindText, Body: req.Text, Sent: now, Received: now}
	if req.ReplyTo != "" {
		if m.Kind, m.Meta, err = ms.replyTo(ctx, me, conv, req.ReplyTo, req.Text); err != nil {
			return api.SendResult{}, err
		}
	}
	if _, err := ms.db.AddOutgoing(ctx, m, to); err != nil {
		return api.SendResult{}, fmt.Errorf("store message: %w", err)
	}
	// What the store now holds, without reading it back: a new message
	// (its id is fresh), queued.
	stored := m
	stored.Outgoing, stored.State, stored.Via = true, history.StateQueued, history.ViaNone
	if out := ms.newMessages(ctx, []history.Message{stored}); len(out) == 1 {
		ms.notify(api.Event{Type: api.EventMessage, Message: &out[0]})
	}

	// Try each recipient now, in order behind what already waits for them.
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	res := api.SendResult{ID: id, Copies: ms.outbox.Submit(sctx, me, id, to)}
	res.Via = outbox.Summary(res.Copies)
	if len(to) == 1 && !strings.HasPrefix(req.Target, "#") {
		res.Copies = nil
	}
	return res, nil
}

// recipients resolves a target to its conversation and the users who get a
// copy. Sending to someone who is neither a friend nor a co-member fails
// at once, and nothing is queued.
func (ms *messages) recipients(ctx context.Context, me, target string) (string, []string, error) {
	if name, ok := strings.CutPrefix(target, "#"); ok {
		if ms.rosterSettled != nil {
			// A member who joined a moment ago is in the roster once the
			// sync that change asked for has run.
			ms.rosterSettled(ctx)
		}
		g, members, known := ms.roster.Group(name)
		if !known {
			return "", nil, api.Errorf(api.CodeNotFound, "you are not a member of a group #%s", name)
		}
		var to []string
		for _, u := range members {
			if u != me {
				to = append(to, u)
			}
		}
		if len(to) == 0 {
			return "", nil, api.Errorf(api.CodeInvalid, "#%s has no other member yet", g.Name)
		}
		return history.Group(g.ID), to, nil
	}
	user, werr := wire.NormalizeUsername("target", target)
	if werr != nil {
		return "", nil, api.Errorf(api.CodeInvalid, "%q is neither a username nor a #group", target)
	}
	if user == me {
		return "", nil, api.Errorf(api.CodeInvalid, "you cannot send a message to yourself")
	}
	known, related := ms.roster.Known(), ms.roster.Related(user)
	if known && !related {
		return "", nil, api.Errorf(api.CodeForbidden, "%s is not your friend and shares no group with you; send a request first: lanchat friend add %s", user, user)
	}
	if !known {
		// The server has not told us who our contacts are (it is away
		// since the daemon started): only pinned contacts qualify.
		if _, err := ms.db.Contact(ctx, user); err != nil {
			return "", nil, api.Errorf(api.CodeUnavailable, "%s is not a known contact and the server is unreachable", user)
		}
	}
	return history.Direct(user), []string{user}, nil
}

// directPath delivers outbox copies over contacts' direct connections.
type directPath struct{ ms *messages }

func (p directPath) Deliver(ctx context.Context, to string, m history.Message) error {
	c := p.ms.peers.connect(ctx, to, false)
	if c == nil {
		return errors.New("no direct connection")
	}
	err := p.ms.sendDirect(ctx, c, p.ms.outgoing(to, m))
	var werr *wire.Error
	if err != nil && !errors.As(err, &werr) && !errors.Is(err, envelope.ErrInvalid) && !errors.Is(err, envelope.ErrTooLarge) {
		// Not a refusal but a broken path: drop the connection so the
		// next try dials afresh instead of waiting on it again.
		p.ms.peers.drop(to, c)
	}
	return err
}

// relayPath delivers outbox copies sealed through the server's relay.
type relayPath struct{ ms *messages }

func (p relayPath) Deliver(ctx context.Context, to string, m history.Message) error {
	return p.ms.relay(ctx, p.ms.outgoing(to, m))
}

// outgoing is the one value a stored message travels as to one
// recipient, whichever path takes it: as it is over a direct connection
// (sendDirect), or sealed through the relay (seal).
func (ms *messages) outgoing(to string, m history.Message) envelope.Message {
	return envelope.Message{
		ID: m.ID, From: ms.session.self(), To: to, Group: groupOfConversation(m.Conversation),
		Sent: m.Sent, Kind: m.Kind, Body: []byte(wireBody(m)),
	}
}

// wireBody is what a message carries on the wire: the JSON body of a
// kind kept beside its text (a reply, an image), else the body itself.
func wireBody(m history.Message) string {
	if m.Meta != "" {
		return m.Meta
	}
	return m.Body
}

// groupOfConversation is the group id of a group conversation, else "".
func groupOfConversation(conv string) string {
	id, _ := strings.CutPrefix(conv, "g:")
	if id == conv {
		return ""
	}
	return id
}

// relay seals m to its recipient's current prekey, checked against the
// recipient's pinned identity key, and stores it on the server; it
// returns once the server has committed it.
func (ms *messages) relay(ctx context.Context, m envelope.Message) error {
	env, err := ms.seal(ctx, m)
	if err != nil {
		return err
	}
	return ms.relayErr(m.To, ms.link.Relay(ctx, env))
}

// seal seals m, which this side's user wrote, to its recipient's current
// prekey, checked against the recipient's pinned identity key
// (keyring.sealKey), as a relay envelope.
func (ms *messages) seal(ctx context.Context, m envelope.Message) (wire.RelayEnvelope, error) {
	to := m.To
	me := ms.session.self()
	key := ms.session.key()
	if me == "" || m.From != me || key == nil || !ms.link.HasSession() {
		return wire.RelayEnvelope{}, errNoPath
	}
	prekey, err := ms.keyring.sealKey(ctx, to)
	if err != nil {
		return wire.RelayEnvelope{}, err
	}
	sealed, err := envelope.Seal(m, key, prekey)
	if err != nil {
		return wire.RelayEnvelope{}, fmt.Errorf("seal: %w", err)
	}
	return wire.RelayEnvelope{To: to, ID: m.ID, Envelope: sealed}, nil
}

// relayErr is the outcome of storing one envelope for to: nil, or
// errNoPath wrapping why it did not go.
func (ms *messages) relayErr(to string, err error) error {
	if err == nil {
		return nil
	}
	var werr *wire.Error
	if errors.As(err, &werr) && werr.Code == wire.CodeQuotaExceeded {
		// The recipient's relay quota, or this sender's share of it,
		// is full: the copy waits and is tried again.
		ms.log.Warn("the server's relay takes no more for now", "to", to, "why", werr.Message)
	}
	return fmt.Errorf("%w: relay: %v", errNoPath, err)
}

// newMessageID makes a random 128-bit message id.
func newMessageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
