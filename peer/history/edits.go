package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

// Edits and recalls, with anti-recall: nothing a sender does deletes what
// another user's history holds. An edit adds a version and shows the
// latest; a recall only marks the message, and Shown decides, by the
// reader's hide-recalled setting, whether its text still shows.

// Bounds of edits.
const (
	// MaxEditAge is how long after a message (by send times) its sender
	// may edit or recall it.
	MaxEditAge = 24 * time.Hour
	// MaxVersions bounds the versions kept of one message, the original
	// included; a later edit is refused.
	MaxVersions = 64
)

// ErrTooLate means an edit or recall came more than MaxEditAge after the
// message.
var ErrTooLate = errors.New("too late to edit or recall")

// editable lists the kinds whose text an edit may replace.
var editable = map[string]bool{KindText: true, "reply": true}

// Edit is a new version of the text of one of its sender's messages.
type Edit struct {
	// Conversation is the conversation the edit came in; it must be the
	// message's.
	Conversation string
	// From is the edit's sender, which must be the message's: a message
	// is named by (From, Target), so nobody can name someone else's.
	From string
	// ID is the edit's own message id; a redelivered edit is applied
	// once.
	ID string
	// Target is the id of the edited message.
	Target string
	// Body is the new text, UTF-8.
	Body string
	// Sent is the edit's send time (clamped like a message's); the
	// version with the latest Sent shows.
	Sent time.Time
	// Received is when this store took it; zero means now.
	Received time.Time
}

// Version is one version of an edited message.
type Version struct {
	// Edit is the id of the edit that made it; "" for the original.
	Edit     string
	Body     string
	Sent     time.Time
	Received time.Time
}

// target is the message an edit, recall, reaction or read names.
type target struct {
	seq      int64
	conv     string
	kind     string
	sent     time.Time
	recalled bool
	outgoing bool
}

// findTarget reads sender's message id; ErrNotFound if there is none,
// ErrInvalid if it is in another conversation than conv.
func findTarget(ctx context.Context, tx *sql.Tx, conv, sender, id string) (target, error) {
	var (
		t        target
		sent     int64
		recalled sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT seq, conversation, kind, sent, recalled, outgoing FROM messages
		WHERE sender = ? AND id = ?`, sender, id).Scan(&t.seq, &t.conv, &t.kind, &sent, &recalled, &t.outgoing)
	if err != nil {
		return t, mapErr(err)
	}
	if t.conv != conv {
		return t, invalid("message %s of %s is in another conversation", id, sender)
	}
	t.sent, t.recalled = time.Unix(0, sent).UTC(), recalled.Valid
	return t, nil
}

// checkRef checks the conversation, user and id an edit, recall,
// reaction or read names.
func checkRef(conv, user, id string) error {
	if _, _, err := parseConversation(conv); err != nil {
		return err
	}
	if err := checkUser(user); err != nil {
		return err
	}
	if werr := wire.CheckMessageID("id", id); werr != nil {
		return invalid("message id %q must be 32 lower-case hex digits", id)
	}
	return nil
}

// AddEdit stores a new version of e.From's message e.Target and shows it
// if it is the latest by send time. The original text is kept as the
// first version. It reports false, changing nothing, for a redelivered
// edit. It refuses, wrapping: ErrNotFound if e.From has no such message
// (nobody edits another's); ErrInvalid if it is in another conversation,
// of a kind that is not text, recalled, or has MaxVersions already;
// ErrTooLate if the edit was sent more than MaxEditAge after the message.
func (s *Store) AddEdit(ctx context.Context, e Edit) (applied bool, err error) {
	if err := checkRef(e.Conversation, e.From, e.Target); err != nil {
		return false, fmt.Errorf("edit %s: %w", e.Target, err)
	}
	if werr := wire.CheckMessageID("id", e.ID); werr != nil || !utf8.ValidString(e.Body) || e.Sent.IsZero() {
		return false, fmt.Errorf("edit %s: %w", e.Target, invalid("edit needs an id, a UTF-8 body and a send time"))
	}
	if e.Received.IsZero() {
		e.Received = time.Now()
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		t, err := findTarget(ctx, tx, e.Conversation, e.From, e.Target)
		if err != nil {
			return err
		}
		switch {
		case !editable[t.kind]:
			return invalid("a %s message cannot be edited", t.kind)
		case t.recalled:
			return invalid("the message was recalled")
		case e.Sent.Sub(t.sent) > MaxEditAge:
			return ErrTooLate
		}
		var n int
		var dup bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(max(edit = ?), 0) FROM message_versions WHERE message = ?`,
			e.ID, t.seq).Scan(&n, &dup); err != nil {
			return err
		}
		if dup {
			return nil
		}
		if n >= MaxVersions {
			return invalid("the message has %d versions already", n)
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO message_versions (message, edit, body, sent, received)
				SELECT seq, '', body, sent, received FROM messages WHERE seq = ?`, t.seq); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO message_versions (message, edit, body, sent, received)
			VALUES (?, ?, ?, ?, ?)`, t.seq, e.ID, e.Body, e.Sent.UnixNano(), e.Received.UnixNano()); err != nil {
			return err
		}
		// Show the latest version by send time, then edit id; the
		// original sorts first among equals.
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET (body, edited) = (
				SELECT v.body, CASE WHEN v.edit = '' THEN NULL ELSE v.sent END FROM message_versions v
				WHERE v.message = ?1 ORDER BY v.sent DESC, v.edit DESC LIMIT 1)
			WHERE seq = ?1`, t.seq); err != nil {
			return err
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("edit %s from %s: %w", e.Target, e.From, err)
	}
	return applied, nil
}

// Versions returns every version of sender's message id, oldest first by
// send time; none for a message never edited. ErrNotFound if there is no
// such message.
func (s *Store) Versions(ctx context.Context, sender, id string) ([]Version, error) {
	var out []Version
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = nil
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM messages WHERE sender = ? AND id = ?`, sender, id).Scan(&seq); err != nil {
			return mapErr(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT edit, body, sent, received FROM message_versions
			WHERE message = ? ORDER BY sent, edit`, seq)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				v              Version
				sent, received int64
			)
			if err := rows.Scan(&v.Edit, &v.Body, &sent, &received); err != nil {
				return err
			}
			v.Sent, v.Received = time.Unix(0, sent).UTC(), time.Unix(0, received).UTC()
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("versions of %s from %s: %w", id, sender, err)
	}
	return out, nil
}

// Recall marks sender's message id in conv as recalled at sent (the
// recall's send time). The text stays: Shown decides what the reader
// sees. It reports false for a message already recalled. It refuses like
// AddEdit: ErrNotFound, ErrInvalid (another conversation), ErrTooLate.
func (s *Store) Recall(ctx context.Context, conv, sender, id string, sent time.Time) (applied bool, err error) {
	if err := checkRef(conv, sender, id); err != nil {
		return false, fmt.Errorf("recall %s: %w", id, err)
	}
	if sent.IsZero() {
		return false, fmt.Errorf("recall %s: %w", id, invalid("no send time"))
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		t, err := findTarget(ctx, tx, conv, sender, id)
		if err != nil {
			return err
		}
		if t.recalled {
			return nil
		}
		if sent.Sub(t.sent) > MaxEditAge {
			return ErrTooLate
		}
		_, err = tx.ExecContext(ctx, `UPDATE messages SET recalled = ? WHERE seq = ?`, sent.UnixNano(), t.seq)
		applied = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("recall %s from %s: %w", id, sender, err)
	}
	return applied, nil
}

// Shown returns the text a message shows to a reader whose hide-recalled
// setting is hideRecalled: its Body, or "" for a recalled message when
// hidden. A recalled message shown anyway is marked so by whoever
// displays it ("recalled by the sender").
func (m Message) Shown(hideRecalled bool) string {
	if hideRecalled && !m.Recalled.IsZero() {
		return ""
	}
	return m.Body
}
