// Package rich applies what is done to messages once they are sent —
// replies, reactions, edits and recalls — on both sides: it checks an
// incoming one against history (the signed sender may only edit or
// recall their own messages, within content.MaxEditAge, in the same
// conversation) and builds the body of an outgoing one. It declares the
// little of history it needs, so the daemon wires it to its store.
package rich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/peer/history"
)

// Store is what rich needs of the history store.
type Store interface {
	Message(ctx context.Context, sender, id string) (history.Message, error)
	AddEdit(ctx context.Context, e history.Edit) (bool, error)
	Recall(ctx context.Context, conv, sender, id string, sent time.Time) (bool, error)
	React(ctx context.Context, r history.Reaction) (bool, error)
	MarkReadBy(ctx context.Context, conv, reader string, ids []string, at time.Time) (int, error)
}

// ErrRefused wraps every reason an incoming item is dropped for good: it
// does not decode, or names a message its sender may not touch. The
// receiver logs it and acknowledges the message all the same.
var ErrRefused = errors.New("refused")

// ErrNotSender means someone tried to edit or recall a message that is
// not theirs.
var ErrNotSender = fmt.Errorf("%w: only its sender may edit or recall a message", ErrRefused)

// IsTimeline reports whether kind is stored as a message of its own in
// the timeline (a reply); IsAction whether it acts on another message
// (reaction, edit, recall) and is not shown itself.
func IsTimeline(kind string) bool {
	return kind == content.KindReply || kind == content.KindImage || kind == content.KindVoice
}

// IsAction reports whether kind acts on another message.
func IsAction(kind string) bool {
	return kind == content.KindReaction || kind == content.KindEdit || kind == content.KindRecall || kind == content.KindRead
}

// Read records an incoming read receipt: in.From read those of this
// user's messages of the conversation it names that in.From was sent.
// It returns the ids named (the store ignores the others).
func Read(ctx context.Context, s Store, in Incoming) ([]string, error) {
	it, err := content.Decode(in.Kind, []byte(in.Body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	r, ok := it.(content.Read)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a read receipt", ErrRefused, in.Kind)
	}
	if _, err := s.MarkReadBy(ctx, in.Conversation, in.From, r.IDs, in.Sent); err != nil {
		if errors.Is(err, history.ErrInvalid) {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		return nil, err
	}
	return r.IDs, nil
}

// Incoming is an authenticated incoming message: From is its signed
// sender, Conversation the one it was admitted to, Sent its send time
// already clamped around its arrival.
type Incoming struct {
	ID           string
	From         string
	Conversation string
	Kind         string
	Body         string
	Sent         time.Time
}

// Target names the message an action changed.
type Target struct {
	From string
	ID   string
}

// Reply checks an incoming reply and returns the text it shows and the
// JSON to keep beside it. The quoted message, if this history holds it,
// must be in the same conversation; it may be missing (the reply carries
// its excerpt).
func Reply(ctx context.Context, s Store, in Incoming) (text, meta string, err error) {
	it, err := content.Decode(in.Kind, []byte(in.Body))
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrRefused, err)
	}
	r := it.(content.Reply)
	q, err := s.Message(ctx, r.Quote.From, r.Quote.ID)
	switch {
	case errors.Is(err, history.ErrNotFound):
	case err != nil:
		return "", "", fmt.Errorf("reply %s: %w", in.ID, err)
	case q.Conversation != in.Conversation:
		return "", "", fmt.Errorf("%w: reply %s quotes a message of another conversation", ErrRefused, in.ID)
	}
	return r.Text, in.Body, nil
}

// Apply applies an incoming reaction, edit or recall to the message it
// names, as its signed sender in.From. It returns the message changed
// and whether anything changed (false for a redelivery). An error
// wrapping ErrRefused is final; any other may pass (the database).
func Apply(ctx context.Context, s Store, in Incoming) (Target, bool, error) {
	it, err := content.Decode(in.Kind, []byte(in.Body))
	if err != nil {
		return Target{}, false, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	var (
		t       Target
		changed bool
	)
	switch v := it.(type) {
	case content.Reaction:
		t = Target{From: v.To.From, ID: v.To.ID}
		changed, err = s.React(ctx, history.Reaction{Conversation: in.Conversation, Reactor: in.From, ID: in.ID,
			TargetFrom: v.To.From, Target: v.To.ID, Emoji: v.Emoji, On: v.On, Sent: in.Sent})
	case content.Edit:
		// Named by (in.From, v.To): only the sender's own message.
		t = Target{From: in.From, ID: v.To}
		changed, err = s.AddEdit(ctx, history.Edit{Conversation: in.Conversation, From: in.From, ID: in.ID,
			Target: v.To, Body: v.Text, Sent: in.Sent})
	case content.Recall:
		t = Target{From: in.From, ID: v.To}
		changed, err = s.Recall(ctx, in.Conversation, in.From, v.To, in.Sent)
	default:
		return Target{}, false, fmt.Errorf("%w: %s does not act on a message", ErrRefused, in.Kind)
	}
	if errors.Is(err, history.ErrNotFound) || errors.Is(err, history.ErrInvalid) || errors.Is(err, history.ErrTooLate) {
		return t, false, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	return t, changed, err
}

// Own checks that the user me may edit or recall m at now: their own,
// not recalled, within content.MaxEditAge. The receivers check the same.
func Own(me string, m history.Message, now time.Time) error {
	switch {
	case m.From != me || !m.Outgoing:
		return ErrNotSender
	case !m.Recalled.IsZero():
		return fmt.Errorf("%w: the message was recalled", ErrRefused)
	case now.Sub(m.Sent) > content.MaxEditAge:
		return fmt.Errorf("%w: a message may be edited or recalled only within %v of sending it", ErrRefused, content.MaxEditAge)
	}
	return nil
}

// Encode validates it and returns its kind and body as a message carries
// them; an error wrapping ErrRefused if it breaks a bound.
func Encode(it content.Item) (kind, body string, err error) {
	k, b, err := content.Encode(it)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrRefused, err)
	}
	return k, string(b), nil
}

// QuoteOf makes the quote a reply to m carries.
func QuoteOf(m history.Message) content.Quote {
	kind := m.Kind
	if kind == "" {
		kind = content.KindText
	}
	return content.Quote{Ref: content.Ref{From: m.From, ID: m.ID}, Kind: kind, Excerpt: content.Excerpt(m.Body)}
}

// ParseQuote reads the quote kept with a stored reply; ok is false if
// meta holds none.
func ParseQuote(meta string) (content.Quote, bool) {
	var r content.Reply
	if meta == "" || json.Unmarshal([]byte(meta), &r) != nil || r.Quote.ID == "" {
		return content.Quote{}, false
	}
	return r.Quote, true
}
