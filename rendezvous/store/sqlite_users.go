package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const userCols = `name, display_name, email, phone, password_hash, identity_key,
	prekey_public, prekey_created, prekey_expires, prekey_sig,
	disabled, created, last_seen, avatar_id`

// scanUser reads one row of userCols.
func scanUser(sc scanner) (User, error) {
	var (
		u                 User
		disabled          int64
		created, lastSeen sql.NullInt64
	)
	err := sc.Scan(&u.Name, &u.DisplayName, &u.Email, &u.Phone, &u.PasswordHash, &u.IdentityKey,
		&u.Prekey.Public, &u.Prekey.Created, &u.Prekey.Expires, &u.Prekey.Signature,
		&disabled, &created, &lastSeen, &u.AvatarID)
	if err != nil {
		return User{}, err
	}
	u.Disabled = disabled != 0
	u.Created = timeOf(created)
	u.LastSeen = timeOf(lastSeen)
	return u, nil
}

// queryUsers runs a query selecting userCols.
func (s *SQLite) queryUsers(ctx context.Context, query string, args ...any) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanAll(rows, scanUser)
}

// CreateUser adds an account; ErrExists if the name is taken.
func (s *SQLite) CreateUser(ctx context.Context, u User) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO users (`+userCols+`, display_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Name, u.DisplayName, u.Email, u.Phone, u.PasswordHash, u.IdentityKey,
		u.Prekey.Public, u.Prekey.Created, u.Prekey.Expires, u.Prekey.Signature,
		boolInt(u.Disabled), nsOf(u.Created), nsOf(u.LastSeen), "", strings.ToLower(u.DisplayName))
	if err != nil {
		err = mapKeyErr(err)
		if errors.Is(err, ErrKeyInUse) {
			// Both may clash; a taken name is the answer callers expect
			// first, as register checks the name first.
			if _, uerr := s.User(ctx, u.Name); uerr == nil {
				err = ErrExists
			}
		}
		return fmt.Errorf("create user %s: %w", u.Name, err)
	}
	return nil
}

// mapKeyErr is mapErr, except that a clash on the identity key (one
// account per key, the index users_identity_key) is ErrKeyInUse.
func mapKeyErr(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "users.identity_key") {
		return ErrKeyInUse
	}
	return mapErr(err)
}

// User returns an account; ErrNotFound if there is none.
func (s *SQLite) User(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.rs.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE name = ?`, name))
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", name, mapErr(err))
	}
	return u, nil
}

// UserByIdentityKey returns the account holding an identity key;
// ErrNotFound if there is none.
func (s *SQLite) UserByIdentityKey(ctx context.Context, key []byte) (User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE identity_key = ?`, key))
	if err != nil {
		return User{}, fmt.Errorf("user by identity key: %w", mapErr(err))
	}
	return u, nil
}

// Users lists all accounts, by name.
func (s *SQLite) Users(ctx context.Context) ([]User, error) {
	users, err := s.queryUsers(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// SearchUsers returns enabled users whose name or display name starts with
// prefix, compared in lower case (Unicode), by name, at most limit. The
// prefix is matched literally: no character in it is a wildcard. A limit
// of zero or less returns nothing.
func (s *SQLite) SearchUsers(ctx context.Context, prefix string, limit int) ([]User, error) {
	if limit <= 0 {
		return nil, nil
	}
	p := strings.ToLower(prefix)
	if !utf8.ValidString(p) {
		return nil, nil // stored names are text; nothing can start with this
	}
	var (
		users []User
		err   error
	)
	const sel = `SELECT ` + userCols + ` FROM users WHERE disabled = 0`
	// A prefix match is a range [p, end) on the indexed columns, where end
	// is the least string greater than every string that starts with p.
	switch end, ok := prefixEnd(p); {
	case p == "":
		users, err = s.queryUsers(ctx, sel+` ORDER BY name LIMIT ?`, limit)
	case ok:
		users, err = s.queryUsers(ctx, sel+` AND (
			(name >= ?1 AND name < ?2) OR (display_key >= ?1 AND display_key < ?2)
		) ORDER BY name LIMIT ?3`, p, end, limit)
	default:
		users, err = s.queryUsers(ctx, sel+` AND (name >= ?1 OR display_key >= ?1)
			ORDER BY name LIMIT ?2`, p, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return users, nil
}

// prefixEnd returns the least string greater than all strings that start
// with p, in SQLite's byte-wise (so code point) order; false if there is
// none (p is all U+10FFFF).
func prefixEnd(p string) (string, bool) {
	rs := []rune(p)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i] + 1
		if r == 0xD800 { // skip the surrogates, which UTF-8 cannot hold
			r = 0xE000
		}
		if r <= unicode.MaxRune {
			rs[i] = r
			return string(rs[:i+1]), true
		}
	}
	return "", false
}

// SetPassword replaces the password hash; ErrNotFound if there is no such
// user.
func (s *SQLite) SetPassword(ctx context.Context, name, hash string) error {
	if err := execOne(ctx, s.w, `UPDATE users SET password_hash = ? WHERE name = ?`, hash, name); err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// SetProfile replaces the profile fields; ErrNotFound if there is no such
// user.
func (s *SQLite) SetProfile(ctx context.Context, name string, p Profile) error {
	if len(p.Avatar) >= MaxAvatar {
		return fmt.Errorf("set profile of %s: avatar of %d bytes: %w", name, len(p.Avatar), ErrQuota)
	}
	var avatar []byte // NULL when there is none
	if len(p.Avatar) > 0 {
		avatar = p.Avatar
	}
	err := execOne(ctx, s.w, `UPDATE users SET display_name = ?, display_key = ?, email = ?, phone = ?,
		avatar = ?, avatar_id = ? WHERE name = ?`, p.DisplayName, strings.ToLower(p.DisplayName), p.Email, p.Phone,
		avatar, wire.AvatarID(avatar), name)
	if err != nil {
		return fmt.Errorf("set profile of %s: %w", name, err)
	}
	return nil
}

// SetIdentity replaces the identity key and prekey together; ErrNotFound
// if there is no such user, ErrKeyInUse if another account holds the key.
func (s *SQLite) SetIdentity(ctx context.Context, name string, identity []byte, prekey keys.SignedPrekey) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET identity_key = ?,
		prekey_public = ?, prekey_created = ?, prekey_expires = ?, prekey_sig = ?
		WHERE name = ?`, identity, prekey.Public, prekey.Created, prekey.Expires, prekey.Signature, name)
	if err != nil {
		return fmt.Errorf("set identity of %s: %w", name, mapKeyErr(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set identity of %s: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("set identity of %s: %w", name, ErrNotFound)
	}
	return nil
}

// SetPrekey replaces the prekey; ErrNotFound if there is no such user.
func (s *SQLite) SetPrekey(ctx context.Context, name string, prekey keys.SignedPrekey) error {
	err := execOne(ctx, s.w, `UPDATE users SET
		prekey_public = ?, prekey_created = ?, prekey_expires = ?, prekey_sig = ?
		WHERE name = ?`, prekey.Public, prekey.Created, prekey.Expires, prekey.Signature, name)
	if err != nil {
		return fmt.Errorf("set prekey of %s: %w", name, err)
	}
	return nil
}

// SetDisabled disables or enables an account. Disabling records at (see
// DisabledSince) and deletes the user's sessions in the same transaction.
// ErrNotFound if there is no such user.
func (s *SQLite) SetDisabled(ctx context.Context, name string, disabled bool, at time.Time) error {
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var since any // NULL when enabled
		if disabled {
			since = nsOf(at)
		}
		err := execOne(ctx, tx, `UPDATE users SET disabled = ?, disabled_at = ? WHERE name = ?`,
			boolInt(disabled), since, name)
		if err != nil || !disabled {
			return err
		}
		_, err = execN(ctx, tx, `DELETE FROM sessions WHERE user = ?`, name)
		return err
	})
	if err != nil {
		verb := "enable"
		if disabled {
			verb = "disable"
		}
		return fmt.Errorf("%s user %s: %w", verb, name, err)
	}
	return nil
}

// DisabledSince lists, by name, the users that are disabled and were
// disabled at or after t. A zero t lists every disabled user.
func (s *SQLite) DisabledSince(ctx context.Context, t time.Time) ([]string, error) {
	var names []string
	var err error
	if t.IsZero() {
		names, err = collectStrings(s.r.QueryContext(ctx,
			`SELECT name FROM users WHERE disabled = 1 ORDER BY name`))
	} else {
		names, err = collectStrings(s.r.QueryContext(ctx,
			`SELECT name FROM users WHERE disabled_at >= ? AND disabled = 1`, t.UnixNano()))
		// Sorted here rather than by ORDER BY, which would tempt the
		// planner to scan users by name instead of the disabled_at index;
		// this runs every second and usually finds nothing.
		slices.Sort(names)
	}
	if err != nil {
		return nil, fmt.Errorf("list disabled users: %w", err)
	}
	return names, nil
}

// SetLastSeen records when the user was last online; ErrNotFound if there
// is no such user.
func (s *SQLite) SetLastSeen(ctx context.Context, name string, at time.Time) error {
	if err := execOne(ctx, s.w, `UPDATE users SET last_seen = ? WHERE name = ?`, nsOf(at), name); err != nil {
		return fmt.Errorf("set last seen of %s: %w", name, err)
	}
	return nil
}

// CreateSession stores a new session; ErrExists if the token hash is
// already stored.
func (s *SQLite) CreateSession(ctx context.Context, sess Session) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, user, created, expires)
		VALUES (?, ?, ?, ?)`, sess.TokenHash, sess.User, nsOf(sess.Created), nsOf(sess.Expires))
	if err != nil {
		return fmt.Errorf("create session for %s: %w", sess.User, mapErr(err))
	}
	return nil
}

// Session looks a session up by token hash; ErrNotFound if unknown.
func (s *SQLite) Session(ctx context.Context, tokenHash []byte) (Session, error) {
	var (
		sess             Session
		created, expires sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, user, created, expires FROM sessions
		WHERE token_hash = ?`, tokenHash).Scan(&sess.TokenHash, &sess.User, &created, &expires)
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", mapErr(err))
	}
	sess.Created = timeOf(created)
	sess.Expires = timeOf(expires)
	return sess, nil
}

// DeleteSession revokes one session (no error if already gone).
func (s *SQLite) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := execN(ctx, s.w, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessions revokes all of a user's sessions except keep (which may be
// nil) and returns how many it removed.
func (s *SQLite) DeleteSessions(ctx context.Context, user string, keep []byte) (int, error) {
	// With keep nil the condition is "token_hash IS NOT NULL": every row.
	n, err := execN(ctx, s.w, `DELETE FROM sessions WHERE user = ? AND token_hash IS NOT ?`, user, keep)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %s: %w", user, err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions expired before now (a session
// with a zero Expires counts as expired) and returns how many.
func (s *SQLite) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if now.IsZero() {
		return 0, nil
	}
	n, err := execN(ctx, s.w, `DELETE FROM sessions WHERE expires < ? OR expires IS NULL`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// Avatar returns a user's avatar; ErrNotFound if there is no such user or
// the user has none.
func (s *SQLite) Avatar(ctx context.Context, name string) ([]byte, error) {
	var avatar []byte
	err := s.r.QueryRowContext(ctx, `SELECT avatar FROM users WHERE name = ?`, name).Scan(&avatar)
	if errors.Is(err, sql.ErrNoRows) || err == nil && len(avatar) == 0 {
		return nil, fmt.Errorf("avatar of %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("avatar of %s: %w", name, err)
	}
	return avatar, nil
}
