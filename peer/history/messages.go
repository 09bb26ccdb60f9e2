package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

// State is where a message stands. An outgoing message moves only
// forward: queued, then sent, then failed or delivered. An incoming one is
// received.
type State string

// The message states.
const (
	// StateQueued: a copy for at least one recipient still waits in the
	// outbox.
	StateQueued State = "queued"
	// StateSent: every copy has left this peer, each acknowledged either
	// by its recipient's peer or by the server's relay after its commit.
	StateSent State = "sent"
	// StateDelivered: every recipient's peer has acknowledged committing
	// the message to its own history (directly, or in a later receipt).
	StateDelivered State = "delivered"
	// StateFailed: the relay dropped a copy for good (its retention
	// passed, or the recipient could not open it); Message.Error says
	// which and why. A later receipt still makes the copy delivered.
	StateFailed State = "failed"
	// StateReceived: an incoming message.
	StateReceived State = "received"
)

// rank orders the outgoing states; a state may only move to a higher rank.
func (st State) rank() int {
	switch st {
	case StateQueued:
		return 1
	case StateSent:
		return 2
	case StateFailed:
		return 3
	case StateDelivered:
		return 4
	}
	return 0
}

// Via is the path a message took.
type Via string

// The paths.
const (
	ViaNone   Via = ""       // not sent yet (or unknown)
	ViaDirect Via = "direct" // QUIC, peer to peer
	ViaRelay  Via = "relay"  // sealed, through the server's relay
)

func (v Via) valid() bool { return v == ViaNone || v == ViaDirect || v == ViaRelay }

// KindText is the kind of an ordinary text message, and the default.
const KindText = "text"

// maxKind bounds a kind's length, as the envelope format does.
const maxKind = 32

// Message is one message of a conversation.
type Message struct {
	// ID is the client-made 128-bit id, 32 lower-case hex digits. A
	// message's identity is (From, ID): unique in the store, and nobody
	// can pre-empt another sender's id.
	ID string
	// Conversation is Direct(user) or Group(id).
	Conversation string
	// From is the sender's username (this user's, for outgoing messages).
	From string
	// Kind says what Body holds; "" means KindText. 1–32 printable ASCII
	// characters without spaces.
	Kind string
	// Body is the message text, UTF-8.
	Body string
	// Sent is the sender's clock when the message was written, clamped
	// near its arrival for an incoming message (ClampSent). History is
	// ordered by arrival, not by it.
	Sent time.Time
	// Claimed is the send time the sender claimed when it was clamped
	// (so differs from Sent); zero otherwise.
	Claimed time.Time
	// Received is when this store took the message (when it was written,
	// for an outgoing one); it drives the conversation's last activity.
	// Zero means now.
	Received time.Time
	// Outgoing is true for messages this user wrote.
	Outgoing bool
	// State is filled in by the store.
	State State
	// Via is how an incoming message came; for an outgoing one, how the
	// latest copy left (for a direct conversation, the only copy).
	Via Via
	// Error says why an outgoing message is failed; filled in by the
	// store.
	Error string
	// Meta is the JSON body of a kind other than text (see
	// internal/content), at most MaxMeta bytes; Body is then the text it
	// shows and search finds (a caption, a file name, a reply's text).
	Meta string
	// Edited is the send time of the edit that made the current Body;
	// zero if never edited (see AddEdit). Filled in by the store.
	Edited time.Time
	// Recalled is when its sender recalled it; zero if not. Body keeps
	// the text: see Shown. Filled in by the store.
	Recalled time.Time
}

// MaxMeta bounds Message.Meta, as a message body is bounded on the wire.
const MaxMeta = 256 << 10

// Bounds of a claimed send time around a message's arrival (ClampSent).
const (
	maxSentBefore = 24 * time.Hour
	maxSentAfter  = 2 * time.Minute
)

// ClampSent clamps a sender's claimed send time into [arrival − 24 h,
// arrival + 2 min] and returns the time to show and order by (sent) and,
// when it had to clamp, the claimed time (else zero). A sender's clock
// may be wrong, or lie; arrival is this side's (or the relay's) clock.
func ClampSent(claimed, arrival time.Time) (sent, orig time.Time) {
	lo, hi := arrival.Add(-maxSentBefore), arrival.Add(maxSentAfter)
	switch {
	case claimed.Before(lo):
		return lo, claimed
	case claimed.After(hi):
		return hi, claimed
	}
	return claimed, time.Time{}
}

// msgCols are the columns scanMessage reads, in order.
const msgCols = `m.id, m.conversation, m.sender, m.kind, m.body, m.sent, m.claimed, m.received, m.outgoing, m.state, m.via, m.error,
	m.meta, m.edited, m.recalled`

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanMessage reads the msgCols columns, then any extra ones into extra.
func scanMessage(r rowScanner, extra ...any) (Message, error) {
	var (
		m              Message
		sent, received int64
		claimed        sql.NullInt64
		edited         sql.NullInt64
		recalled       sql.NullInt64
	)
	dest := append([]any{&m.ID, &m.Conversation, &m.From, &m.Kind, &m.Body, &sent, &claimed, &received,
		&m.Outgoing, &m.State, &m.Via, &m.Error, &m.Meta, &edited, &recalled}, extra...)
	if err := r.Scan(dest...); err != nil {
		return Message{}, err
	}
	m.Sent = time.Unix(0, sent).UTC()
	m.Claimed = timeOf(claimed)
	m.Edited = timeOf(edited)
	m.Recalled = timeOf(recalled)
	m.Received = time.Unix(0, received).UTC()
	return m, nil
}

// check validates the fields a caller supplies and fills in the defaults.
func (m *Message) check() error {
	if werr := wire.CheckMessageID("id", m.ID); werr != nil {
		return invalid("message id %q must be 32 lower-case hex digits", m.ID)
	}
	if _, _, err := parseConversation(m.Conversation); err != nil {
		return err
	}
	if err := checkUser(m.From); err != nil {
		return err
	}
	if m.Kind == "" {
		m.Kind = KindText
	}
	if len(m.Kind) > maxKind {
		return invalid("kind longer than %d bytes", maxKind)
	}
	for i := 0; i < len(m.Kind); i++ {
		if c := m.Kind[i]; c <= ' ' || c > '~' {
			return invalid("kind %q must be printable ASCII without spaces", m.Kind)
		}
	}
	if !utf8.ValidString(m.Body) {
		return invalid("body must be UTF-8")
	}
	if len(m.Meta) > MaxMeta || !utf8.ValidString(m.Meta) {
		return invalid("meta must be UTF-8 of at most %d bytes", MaxMeta)
	}
	if m.Sent.IsZero() {
		return invalid("sent time missing")
	}
	if !m.Via.valid() {
		return invalid("via %q", m.Via)
	}
	if m.Received.IsZero() {
		m.Received = time.Now()
	}
	return nil
}

// AddIncoming stores a message received from another user. It is
// idempotent on (sender, id): if the same message is already stored it
// returns false and changes nothing, so a redelivery never duplicates
// history nor bumps the unread count. If the sender's id is stored for a
// different message (another conversation) it returns ErrConflict. A direct message must be in the sender's conversation,
// Direct(m.From). m.Outgoing and m.State are ignored.
//
// The caller acknowledges the message (to the peer or the relay) only
// after AddIncoming returns without error, true or false: the row is then
// durably committed.
func (s *Store) AddIncoming(ctx context.Context, m Message) (inserted bool, err error) {
	m.Outgoing, m.State = false, StateReceived
	if err := m.check(); err != nil {
		return false, fmt.Errorf("add message %s: %w", m.ID, err)
	}
	if kind, _, _ := parseConversation(m.Conversation); kind == 'u' && m.Conversation != Direct(m.From) {
		return false, fmt.Errorf("add message %s: %w", m.ID, invalid("direct message from %s in %s", m.From, m.Conversation))
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := ptx{tx, s.stmts}
		dup, err := duplicate(ctx, q, m)
		if err != nil || dup {
			return err
		}
		if _, err := q.ExecContext(ctx, sqlConvIn, m.Conversation, m.Received.UnixNano()); err != nil {
			return err
		}
		if _, err := insertMessage(ctx, q, m); err != nil {
			return err
		}
		inserted = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("add message %s: %w", m.ID, err)
	}
	return inserted, nil
}

// duplicate reports whether m's (sender, id) is already stored for this
// same message, and returns ErrConflict if it is stored for another one.
func duplicate(ctx context.Context, tx querier, m Message) (bool, error) {
	var (
		conv     string
		outgoing bool
	)
	err := tx.QueryRowContext(ctx, sqlDuplicate, m.From, m.ID).Scan(&conv, &outgoing)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if conv != m.Conversation || outgoing != m.Outgoing {
		return false, ErrConflict
	}
	return true, nil
}

// insertMessage adds m's row and returns its seq.
func insertMessage(ctx context.Context, tx querier, m Message) (int64, error) {
	res, err := tx.ExecContext(ctx, sqlInsertMessage,
		m.ID, m.Conversation, m.From, m.Kind, m.Body, m.Sent.UnixNano(), nsOf(m.Claimed), m.Received.UnixNano(),
		m.Outgoing, string(m.State), string(m.Via), m.Meta)
	if err != nil {
		return 0, mapErr(err)
	}
	return res.LastInsertId()
}

// Message returns sender's message id; ErrNotFound if there is none.
func (s *Store) Message(ctx context.Context, sender, id string) (Message, error) {
	m, err := scanMessage(s.rqueryRow(ctx, sqlMessage, sender, id))
	if err != nil {
		return Message{}, fmt.Errorf("message %s from %s: %w", id, sender, mapErr(err))
	}
	return m, nil
}

// History returns up to limit messages of conversation conv, oldest first,
// in the order they arrived here (so no sender's clock can reorder what
// others see). With before == "" they are the newest; otherwise they are
// the ones that arrived just before the message with id before (the
// latest with that id), which must be in conv (ErrNotFound if not), so the
// first id of one page is the cursor for the next. No messages if limit <= 0.
func (s *Store) History(ctx context.Context, conv string, limit int, before string) ([]Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []Message
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = nil
		// maxInt64 as the cursor seq puts every message before it.
		var seq int64 = 1<<63 - 1
		if before != "" {
			err := tx.QueryRowContext(ctx, `SELECT max(seq) FROM messages WHERE id = ? AND conversation = ?
				HAVING count(*) > 0`, before, conv).Scan(&seq)
			if err != nil {
				return mapErr(err)
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+msgCols+` FROM messages m
			WHERE m.conversation = ? AND m.seq < ?
			ORDER BY m.seq DESC LIMIT ?`, conv, seq, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", conv, err)
	}
	slices.Reverse(out)
	return out, nil
}
