package history

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

// MaxAddrs is how many addresses RememberAddr keeps per contact.
const MaxAddrs = 8

// Contact is someone whose identity key this peer has pinned.
type Contact struct {
	Username    string
	DisplayName string
	// IdentityKey is the pinned Ed25519 public key: the only key this
	// peer accepts for the contact, on a QUIC connection or on a relayed
	// envelope's signature.
	IdentityKey []byte
	// Pinned is when IdentityKey was pinned, at first sight or by Trust.
	Pinned time.Time
	// Verified is set by the user after comparing safety numbers out of
	// band. A key change clears it.
	Verified bool
	// PendingKey is a different key the contact was seen with, awaiting
	// the user's Trust; nil if none. While it is set the contact is held.
	PendingKey []byte
	// SameKey names the other contacts pinned with the same IdentityKey.
	// A key belongs to one account: while the list is not empty the
	// contact is held, and so are those it names, since a connection or
	// a signature proving the key cannot say which of them it is.
	SameKey []string
	// KeyChangedAt is when the latest different key was first seen; zero
	// if the key never changed.
	KeyChangedAt time.Time
	// Addrs are the last addresses that reached the contact, most recent
	// first, at most MaxAddrs.
	Addrs []string
}

// Held reports whether nothing may be exchanged with c now: a changed key
// awaits the user's Trust, or the pinned key is also another contact's.
func (c Contact) Held() bool {
	return c.PendingKey != nil || len(c.SameKey) > 0
}

// heldSQL is true for a held row c of contacts (see Contact.Held).
const heldSQL = `(c.pending_key IS NOT NULL OR EXISTS (SELECT 1 FROM contacts o
	WHERE o.identity_key = c.identity_key AND o.username != c.username))`

// PinResult says what PinKey did with the key it was shown.
type PinResult int

// The results of PinKey.
const (
	// PinNew: first sight of the contact; the key is now pinned.
	PinNew PinResult = iota + 1
	// PinSame: the key is the pinned one.
	PinSame
	// PinChanged: the key differs from the pinned one and from any
	// pending one. It is now the pending key, Verified is cleared and the
	// contact is held: raise the alarm.
	PinChanged
	// PinPending: the key is the one already pending; the contact stays
	// held, the alarm was raised before.
	PinPending
	// PinRestored: the key is the pinned one again while another was
	// pending (the contact logged in elsewhere, then back): the pending
	// key is dropped and the contact is no longer held for it. Verified
	// stays cleared.
	PinRestored
)

// String returns the result's name.
func (r PinResult) String() string {
	switch r {
	case PinNew:
		return "new"
	case PinSame:
		return "same"
	case PinChanged:
		return "changed"
	case PinPending:
		return "pending"
	case PinRestored:
		return "restored"
	}
	return fmt.Sprintf("PinResult(%d)", int(r))
}

// PinKey records that the server's directory (a lookup or a key.changed
// event) now gives key as user's identity key. The first key seen for a
// user is pinned; a later different key never replaces it here: it is
// kept as the pending key (the latest one only), the contact loses
// Verified and is held until the user calls Trust with that key. When the
// directory gives the pinned key again, the pending one is dropped: there
// is nothing left to trust (PinRestored).
//
// Keys a peer proves on a connection are never shown here: a machine of
// the contact's that still holds the old key must not end a hold.
func (s *Store) PinKey(ctx context.Context, user string, key []byte) (PinResult, error) {
	if err := checkUser(user); err != nil {
		return 0, fmt.Errorf("pin key of %q: %w", user, err)
	}
	if len(key) != ed25519.PublicKeySize {
		return 0, fmt.Errorf("pin key of %s: %w", user, invalid("identity key must be %d bytes", ed25519.PublicKeySize))
	}
	now := time.Now().UnixNano()
	var res PinResult
	defer s.contacts.forget()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var pinned, pending []byte
		err := tx.QueryRowContext(ctx, `SELECT identity_key, pending_key FROM contacts WHERE username = ?`,
			user).Scan(&pinned, &pending)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res = PinNew
			_, err = tx.ExecContext(ctx, `INSERT INTO contacts (username, identity_key, pinned_at) VALUES (?, ?, ?)`,
				user, key, now)
			return err
		case err != nil:
			return err
		case bytes.Equal(key, pinned) && pending == nil:
			res = PinSame
			return nil
		case bytes.Equal(key, pinned):
			res = PinRestored
			_, err = tx.ExecContext(ctx, `UPDATE contacts SET pending_key = NULL WHERE username = ?`, user)
			return err
		case bytes.Equal(key, pending):
			res = PinPending
			return nil
		}
		res = PinChanged
		_, err = tx.ExecContext(ctx, `UPDATE contacts SET pending_key = ?, key_changed_at = ?, verified = 0
			WHERE username = ?`, key, now, user)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pin key of %s: %w", user, err)
	}
	return res, nil
}

// Trust accepts user's pending key: it becomes the pinned key, the pending
// key is cleared and the contact is no longer held. key must be the
// pending key (the one whose safety number the user was shown), so a key
// that changes again in the meantime is not trusted by mistake; otherwise
// Trust returns ErrNotPending. A key another contact is pinned with is
// refused (ErrKeyShared): a key belongs to one account. ErrNotFound if
// user is not a contact.
func (s *Store) Trust(ctx context.Context, user string, key []byte) error {
	defer s.contacts.forget()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var pending []byte
		err := tx.QueryRowContext(ctx, `SELECT pending_key FROM contacts WHERE username = ?`, user).Scan(&pending)
		if err != nil {
			return mapErr(err)
		}
		if pending == nil || !bytes.Equal(pending, key) {
			return ErrNotPending
		}
		var shared bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contacts
			WHERE identity_key = ? AND username != ?)`, key, user).Scan(&shared); err != nil {
			return err
		}
		if shared {
			return ErrKeyShared
		}
		_, err = tx.ExecContext(ctx, `UPDATE contacts SET identity_key = pending_key, pending_key = NULL,
			pinned_at = ?, verified = 0 WHERE username = ?`, time.Now().UnixNano(), user)
		return err
	})
	if err != nil {
		return fmt.Errorf("trust key of %s: %w", user, err)
	}
	return nil
}

// MarkVerified marks user's pinned key as verified by the user. key must
// be the pinned key (the one whose safety number the user compared);
// otherwise MarkVerified returns ErrNotPinned. A held contact cannot be
// marked verified (ErrHeld): the user must first decide about the pending
// key. ErrNotFound if user is not a contact.
func (s *Store) MarkVerified(ctx context.Context, user string, key []byte) error {
	defer s.contacts.forget()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var (
			pinned []byte
			held   bool
		)
		err := tx.QueryRowContext(ctx, `SELECT c.identity_key, `+heldSQL+` FROM contacts c WHERE c.username = ?`,
			user).Scan(&pinned, &held)
		if err != nil {
			return mapErr(err)
		}
		if held {
			return ErrHeld
		}
		if !bytes.Equal(pinned, key) {
			return ErrNotPinned
		}
		_, err = tx.ExecContext(ctx, `UPDATE contacts SET verified = 1 WHERE username = ?`, user)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark %s verified: %w", user, err)
	}
	return nil
}

// SetDisplayName records the name user goes by. ErrNotFound if user is not
// a contact.
func (s *Store) SetDisplayName(ctx context.Context, user, name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("set display name of %s: %w", user, invalid("display name must be UTF-8"))
	}
	defer s.contacts.forget()
	n, err := execN(ctx, s.w, `UPDATE contacts SET display_name = ? WHERE username = ?`, name, user)
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set display name of %s: %w", user, err)
	}
	return nil
}

// Held reports whether messages to and from user must wait: true while a
// changed identity key awaits the user's Trust, or while the pinned key
// is also another contact's (see Contact.Held). An unknown user is not
// held (nothing is pinned for them yet). The outbox enforces the outgoing
// half (see Pending); for the incoming half the daemon stores and
// acknowledges nothing from a held contact, so the sender's outbox or the
// relay keeps those messages until the user decides.
func (s *Store) Held(ctx context.Context, user string) (bool, error) {
	cl, err := s.contacts.get(ctx, s.readContacts)
	if err != nil {
		return false, fmt.Errorf("held %s: %w", user, err)
	}
	i, ok := cl.index[user]
	return ok && cl.list[i].Held(), nil
}

// RememberAddr records that addr reached user just now. Only the MaxAddrs
// most recent addresses are kept. ErrNotFound if user is not a contact.
func (s *Store) RememberAddr(ctx context.Context, user, addr string) error {
	if addr == "" || !utf8.ValidString(addr) {
		return fmt.Errorf("remember address of %s: %w", user, invalid("bad address"))
	}
	defer s.contacts.forget()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var ok bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE username = ?)`,
			user).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_addrs (username, addr, seq)
			VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM contact_addrs WHERE username = ?1))
			ON CONFLICT (username, addr) DO UPDATE SET seq = excluded.seq`, user, addr); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM contact_addrs WHERE username = ?1 AND addr NOT IN
			(SELECT addr FROM contact_addrs WHERE username = ?1 ORDER BY seq DESC LIMIT ?2)`, user, MaxAddrs)
		return err
	})
	if err != nil {
		return fmt.Errorf("remember address of %s: %w", user, err)
	}
	return nil
}

// Contact returns one contact; ErrNotFound if user is not a contact.
func (s *Store) Contact(ctx context.Context, user string) (Contact, error) {
	cl, err := s.contacts.get(ctx, s.readContacts)
	if err != nil {
		return Contact{}, fmt.Errorf("contact %s: %w", user, err)
	}
	i, ok := cl.index[user]
	if !ok {
		return Contact{}, fmt.Errorf("contact %s: %w", user, ErrNotFound)
	}
	return cl.list[i].clone(), nil
}

// Contacts lists all contacts by username.
func (s *Store) Contacts(ctx context.Context) ([]Contact, error) {
	cl, err := s.contacts.get(ctx, s.readContacts)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	out := make([]Contact, len(cl.list))
	for i, c := range cl.list {
		out[i] = c.clone()
	}
	return out, nil
}

// contactList is every contact, by username, as the store keeps it in
// memory (s.contacts): PinKey, Trust, MarkVerified, SetDisplayName and
// RememberAddr, the writers of contacts and contact_addrs, forget it.
type contactList struct {
	list  []Contact
	index map[string]int // list's position of each username
}

// clone returns a copy of c that shares no slice with it, so that a
// caller changing it changes nothing kept.
func (c Contact) clone() Contact {
	c.IdentityKey = bytes.Clone(c.IdentityKey)
	c.PendingKey = bytes.Clone(c.PendingKey)
	c.SameKey = slices.Clone(c.SameKey)
	c.Addrs = slices.Clone(c.Addrs)
	return c
}

// readContacts reads every contact from the database.
func (s *Store) readContacts(ctx context.Context) (contactList, error) {
	cs, err := s.queryContacts(ctx, "")
	if err != nil {
		return contactList{}, err
	}
	index := make(map[string]int, len(cs))
	for i, c := range cs {
		index[c.Username] = i
	}
	return contactList{list: cs, index: index}, nil
}

// contacts reads one contact (user != "") or all, with their addresses,
// from one snapshot.
func (s *Store) queryContacts(ctx context.Context, user string) ([]Contact, error) {
	var out []Contact
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		out = nil
		q := rtx{tx, s.rstmts}
		rows, err := q.QueryContext(ctx, sqlContacts, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		index := make(map[string]int)
		for rows.Next() {
			var (
				c               Contact
				pinned, changed sql.NullInt64
			)
			if err := rows.Scan(&c.Username, &c.DisplayName, &c.IdentityKey, &pinned, &c.Verified,
				&c.PendingKey, &changed); err != nil {
				return err
			}
			c.Pinned, c.KeyChangedAt = timeOf(pinned), timeOf(changed)
			index[c.Username] = len(out)
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(out) == 0 {
			return nil
		}
		same, err := q.QueryContext(ctx, sqlSameKey, user)
		if err != nil {
			return err
		}
		defer same.Close()
		for same.Next() {
			var u, other string
			if err := same.Scan(&u, &other); err != nil {
				return err
			}
			if i, ok := index[u]; ok {
				out[i].SameKey = append(out[i].SameKey, other)
			}
		}
		if err := same.Err(); err != nil {
			return err
		}
		same.Close()
		addrs, err := q.QueryContext(ctx, sqlContactAddrs, user)
		if err != nil {
			return err
		}
		defer addrs.Close()
		for addrs.Next() {
			var u, a string
			if err := addrs.Scan(&u, &a); err != nil {
				return err
			}
			if i, ok := index[u]; ok {
				out[i].Addrs = append(out[i].Addrs, a)
			}
		}
		return addrs.Err()
	})
	return out, err
}

// checkUser accepts a username in the protocol's canonical form.
func checkUser(user string) error {
	n, werr := wire.NormalizeUsername("username", user)
	if werr != nil || n != user {
		return invalid("username %q is not in canonical form", user)
	}
	return nil
}
