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
	"github.com/lanchat/lanchat/peer/history"
)

// MaxText is the largest message text, in bytes.
const MaxText = 64 << 10

// Outbox tuning.
const (
	// flushBatch is how many copies for one recipient one round sends.
	flushBatch = 64
	// sendTimeout bounds how long Send waits for the first try.
	sendTimeout = 8 * time.Second
	// retryMin and retryMax bound the back-off between tries of a copy
	// that found no path.
	retryMin = 5 * time.Second
	retryMax = 5 * time.Minute
)

// errNoPath means a copy could not leave now: no direct connection and no
// relay (the server is away or refused it for a reason that may pass).
var errNoPath = errors.New("no path to the recipient now")

// Send writes a text message to a user or a #group, stores it with one
// outbox copy per recipient, and tries to deliver it at once.
func (d *Daemon) Send(ctx context.Context, req api.SendRequest) (api.SendResult, error) {
	me, err := d.requireLogin()
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
	conv, to, err := d.recipients(ctx, me, req.Target)
	if err != nil {
		return api.SendResult{}, err
	}
	id, err := newMessageID()
	if err != nil {
		return api.SendResult{}, err
	}
	if err := d.chargeRoom(ctx, req.Target, id); err != nil {
		return api.SendResult{}, err
	}
	m := history.Message{ID: id, Conversation: conv, From: me, Kind: history.KindText, Body: req.Text, Sent: time.Now()}
	if req.ReplyTo != "" {
		if m.Kind, m.Meta, err = d.replyTo(ctx, me, conv, req.ReplyTo, req.Text); err != nil {
			return api.SendResult{}, err
		}
	}
	if _, err := d.db.AddOutgoing(ctx, m, to); err != nil {
		return api.SendResult{}, fmt.Errorf("store message: %w", err)
	}
	stored, err := d.db.Message(ctx, me, id)
	if out := d.richMessages(ctx, []history.Message{stored}); err == nil && len(out) == 1 {
		d.notify(api.Event{Type: api.EventMessage, Message: &out[0]})
	}

	// Try each recipient now, in order behind what already waits for them.
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	res := api.SendResult{ID: id, Copies: make(map[string]string, len(to))}
	for _, u := range to {
		if held, err := d.db.Held(ctx, u); err == nil && held {
			res.Copies[u] = api.ViaHeld
			continue
		}
		via := d.flushRecipient(sctx, u, true)[id]
		if via == "" {
			// Not pending any more: a concurrent flush (another Send
			// to u, or the flush loop) took it out first.
			via = api.ViaQueued
			if m, err := d.db.Message(ctx, me, id); err == nil && m.State != history.StateQueued && m.Via != "" {
				via = string(m.Via)
			}
		}
		res.Copies[u] = via
	}
	for _, v := range res.Copies {
		switch {
		case res.Via == "":
			res.Via = v
		case res.Via != v:
			res.Via = api.ViaPartial
		}
	}
	if res.Via == "" {
		res.Via = api.ViaQueued
	}
	if len(to) == 1 && !strings.HasPrefix(req.Target, "#") {
		res.Copies = nil
	}
	return res, nil
}

// recipients resolves a target to its conversation and the users who get a
// copy. Sending to someone who is neither a friend nor a co-member fails
// at once, and nothing is queued.
func (d *Daemon) recipients(ctx context.Context, me, target string) (string, []string, error) {
	if name, ok := strings.CutPrefix(target, "#"); ok {
		d.mu.Lock()
		g, known := d.roster.groups[strings.ToLower(name)]
		members := append([]string(nil), d.roster.members[g.Name]...)
		d.mu.Unlock()
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
	d.mu.Lock()
	known, related := d.roster.known, d.roster.related(user)
	d.mu.Unlock()
	if known && !related {
		return "", nil, api.Errorf(api.CodeForbidden, "%s is not your friend and shares no group with you; send a request first: lanchat friend add %s", user, user)
	}
	if !known {
		// The server has not told us who our contacts are (it is away
		// since the daemon started): only pinned contacts qualify.
		if _, err := d.db.Contact(ctx, user); err != nil {
			return "", nil, api.Errorf(api.CodeUnavailable, "%s is not a known contact and the server is unreachable", user)
		}
	}
	return history.Direct(user), []string{user}, nil
}

// flushLoop sends outbox copies whenever a path may have opened: when
// kicked (a peer came online, the server link came up, a message was
// written) and every FlushInterval.
func (d *Daemon) flushLoop(ctx context.Context) {
	t := time.NewTicker(d.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-t.C:
		}
		d.flushAll(ctx)
	}
}

func (d *Daemon) flushAll(ctx context.Context) {
	force := d.pathOpened.Swap(false)
	users, err := d.db.PendingRecipients(ctx)
	if err != nil {
		d.log.Warn("list outbox", "err", err)
		return
	}
	for _, u := range users {
		if ctx.Err() != nil {
			return
		}
		d.flushRecipient(ctx, u, force)
	}
}

// flushRecipient sends user's outbox copies in order until one cannot go,
// and returns how each sent copy went (message id → api.Via…). With force
// it tries even copies whose retry time has not come.
func (d *Daemon) flushRecipient(ctx context.Context, user string, force bool) map[string]string {
	unlock := d.sendLocks.Lock(user)
	defer unlock()
	out := make(map[string]string)
	items, err := d.db.Pending(ctx, user, flushBatch)
	if errors.Is(err, history.ErrHeld) {
		return out
	}
	if err != nil {
		d.log.Warn("read outbox", "user", user, "err", err)
		return out
	}
	now := time.Now()
	for i, it := range items {
		if i == 0 && !force && it.NextAttempt.After(now) {
			return out // the head waits, and so does the rest, in order
		}
		via, err := d.deliver(ctx, it)
		if err != nil {
			out[it.Message.ID] = api.ViaQueued
			d.retryLater(ctx, it, err)
			for _, rest := range items[i+1:] {
				out[rest.Message.ID] = api.ViaQueued
			}
			return out
		}
		out[it.Message.ID] = string(via)
		d.messageState(ctx, it.Message.ID)
	}
	return out
}

// retryLater records a failed try with a growing back-off.
func (d *Daemon) retryLater(ctx context.Context, it history.OutboxItem, why error) {
	wait := min(retryMin<<min(it.Attempts, 10), retryMax)
	if err := d.db.Attempted(ctx, it.Message.ID, it.To, time.Now().Add(wait)); err != nil {
		d.log.Warn("record send attempt", "err", err)
	}
	d.log.Debug("message waits in the outbox", "to", it.To, "id", it.Message.ID, "why", why)
}

// deliver sends one outbox copy: directly when the recipient's daemon can
// be reached, else sealed through the relay. It marks the copy done.
func (d *Daemon) deliver(ctx context.Context, it history.OutboxItem) (history.Via, error) {
	m := it.Message
	group := ""
	if id, ok := strings.CutPrefix(m.Conversation, "g:"); ok {
		group = id
	}
	if c := d.peers.connect(ctx, it.To, false); c != nil {
		err := d.exchange(ctx, c, opMessage, DirectMessage{ID: m.ID, Group: group, Sent: m.Sent, Kind: m.Kind, Body: wireBody(m)})
		if err == nil {
			if err := d.db.Done(ctx, m.ID, it.To, history.ViaDirect); err != nil {
				return "", fmt.Errorf("mark sent: %w", err)
			}
			return history.ViaDirect, nil
		}
		var werr *wire.Error
		if !errors.As(err, &werr) {
			// Not a refusal but a broken path: drop the connection so the
			// next try dials afresh instead of waiting on it again.
			d.peers.drop(it.To, c)
		}
		d.log.Debug("direct send failed; trying the relay", "to", it.To, "err", err)
	}
	err := d.relay(ctx, it.To, envelope.Message{ID: m.ID, Group: group, Sent: m.Sent, Kind: m.Kind, Body: []byte(wireBody(m))})
	if err != nil {
		return "", err
	}
	if err := d.db.Done(ctx, m.ID, it.To, history.ViaRelay); err != nil {
		return "", fmt.Errorf("mark sent: %w", err)
	}
	return history.ViaRelay, nil
}

// wireBody is what a message carries on the wire: the JSON body of a
// kind kept beside its text (a reply), else the body itself.
func wireBody(m history.Message) string {
	if m.Meta != "" {
		return m.Meta
	}
	return m.Body
}

// relay seals m to user's current prekey, checked against user's pinned
// identity key, and stores it on the server; it returns once the server
// has committed it.
func (d *Daemon) relay(ctx context.Context, to string, m envelope.Message) error {
	me := d.self()
	d.mu.Lock()
	key := d.identity
	d.mu.Unlock()
	if me == "" || key == nil || !d.link.HasSession() {
		return errNoPath
	}
	kr, err := d.relayKeys(ctx, to)
	if err != nil {
		return fmt.Errorf("%w: keys of %s: %v", errNoPath, to, err)
	}
	pinned, err := d.senderKey(ctx, to)
	if err != nil {
		return fmt.Errorf("key of %s: %w", to, err)
	}
	if err := kr.Prekey.Verify(pinned, to, time.Now()); err != nil {
		return fmt.Errorf("prekey of %s: %w", to, err)
	}
	m.From, m.To = me, to
	if m.Sent.IsZero() {
		m.Sent = time.Now()
	}
	if m.Kind == "" {
		m.Kind = history.KindText
	}
	sealed, err := envelope.Seal(m, key, kr.Prekey)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	if err := d.link.Relay(ctx, wire.RelayEnvelope{To: to, ID: m.ID, Envelope: sealed}); err != nil {
		var werr *wire.Error
		if errors.As(err, &werr) && werr.Code == wire.CodeQuotaExceeded {
			// The recipient's relay quota, or this sender's share of it,
			// is full: the copy waits and is tried again.
			d.log.Warn("the server's relay takes no more for now", "to", to, "why", werr.Message)
		}
		return fmt.Errorf("%w: relay: %v", errNoPath, err)
	}
	return nil
}

// newMessageID makes a random 128-bit message id.
func newMessageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
