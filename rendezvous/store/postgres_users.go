package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
)

// scanPgUser reads one row of userCols.
func scanPgUser(sc scanner) (User, error) {
	var (
		u                 User
		created, lastSeen *int64
	)
	err := sc.Scan(&u.Name, &u.DisplayName, &u.Email, &u.Phone, &u.PasswordHash, &u.IdentityKey,
		&u.Prekey.Public, &u.Prekey.Created, &u.Prekey.Expires, &u.Prekey.Signature,
		&u.Disabled, &created, &lastSeen, &u.AvatarID)
	if err != nil {
		return User{}, err
	}
	u.Created = pgTime(created)
	u.LastSeen = pgTime(lastSeen)
	return u, nil
}

// queryUsers runs a query selecting userCols.
func (s *Postgres) queryUsers(ctx context.Context, query string, args ...any) ([]User, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanAll(rows, scanPgUser)
}

// CreateUser adds an account; ErrExists if the name is taken, ErrKeyInUse
// if another account holds the identity key.
func (s *Postgres) CreateUser(ctx context.Context, u User) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO users (`+userCols+`, display_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		u.Name, u.DisplayName, u.Email, u.Phone, u.PasswordHash, u.IdentityKey,
		u.Prekey.Public, u.Prekey.Created, u.Prekey.Expires, u.Prekey.Signature,
		u.Disabled, pgNanos(u.Created), pgNanos(u.LastSeen), "", strings.ToLower(u.DisplayName))
	if err != nil {
		err = mapPgErr(err)
		if errors.Is(err, ErrKeyInUse) {
			// As in SQLite: a taken name is the answer callers expect first.
			if _, uerr := s.User(ctx, u.Name); uerr == nil {
				err = ErrExists
			}
		}
		return fmt.Errorf("create user %s: %w", u.Name, err)
	}
	return nil
}

// User returns an account; ErrNotFound if there is none.
func (s *Postgres) User(ctx context.Context, name string) (User, error) {
	u, err := scanPgUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE name = $1`, name))
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", name, mapPgErr(err))
	}
	return u, nil
}

// UserByIdentityKey returns the account holding an identity key;
// ErrNotFound if there is none.
func (s *Postgres) UserByIdentityKey(ctx context.Context, key []byte) (User, error) {
	u, err := scanPgUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE identity_key = $1`, key))
	if err != nil {
		return User{}, fmt.Errorf("user by identity key: %w", mapPgErr(err))
	}
	return u, nil
}

// Users lists all accounts, by name.
func (s *Postgres) Users(ctx context.Context) ([]User, error) {
	users, err := s.queryUsers(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// SearchUsers is SQLite's SearchUsers: a literal prefix, compared in lower
// case, as a range on the indexed columns.
func (s *Postgres) SearchUsers(ctx context.Context, prefix string, limit int) ([]User, error) {
	if limit <= 0 {
		return nil, nil
	}
	p := strings.ToLower(prefix)
	if !utf8.ValidString(p) || strings.ContainsRune(p, 0) {
		return nil, nil // stored names are text; nothing can start with this
	}
	var (
		users []User
		err   error
	)
	const sel = `SELECT ` + userCols + ` FROM users WHERE NOT disabled`
	switch end, ok := prefixEnd(p); {
	case p == "":
		users, err = s.queryUsers(ctx, sel+` ORDER BY name LIMIT $1`, limit)
	case ok:
		users, err = s.queryUsers(ctx, sel+` AND (
			(name >= $1 AND name < $2) OR (display_key >= $1 AND display_key < $2)
		) ORDER BY name LIMIT $3`, p, end, limit)
	default:
		users, err = s.queryUsers(ctx, sel+` AND (name >= $1 OR display_key >= $1)
			ORDER BY name LIMIT $2`, p, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return users, nil
}

// SetPassword replaces the password hash; ErrNotFound if there is no such
// user.
func (s *Postgres) SetPassword(ctx context.Context, name, hash string) error {
	if err := pgExecOne(ctx, s.pool, `UPDATE users SET password_hash = $1 WHERE name = $2`, hash, name); err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// SetProfile replaces the profile fields; ErrNotFound if there is no such
// user.
func (s *Postgres) SetProfile(ctx context.Context, name string, p Profile) error {
	if len(p.Avatar) >= MaxAvatar {
		return fmt.Errorf("set profile of %s: avatar of %d bytes: %w", name, len(p.Avatar), ErrQuota)
	}
	var avatar []byte // NULL when there is none
	if len(p.Avatar) > 0 {
		avatar = p.Avatar
	}
	err := pgExecOne(ctx, s.pool, `UPDATE users SET display_name = $1, display_key = $2, email = $3, phone = $4,
		avatar = $5, avatar_id = $6 WHERE name = $7`, p.DisplayName, strings.ToLower(p.DisplayName), p.Email, p.Phone,
		avatar, wire.AvatarID(avatar), name)
	if err != nil {
		return fmt.Errorf("set profile of %s: %w", name, err)
	}
	return nil
}

// SetIdentity replaces the identity key and prekey together; ErrNotFound
// if there is no such user, ErrKeyInUse if another account holds the key.
func (s *Postgres) SetIdentity(ctx context.Context, name string, identity []byte, prekey keys.SignedPrekey) error {
	err := pgExecOne(ctx, s.pool, `UPDATE users SET identity_key = $1,
		prekey_public = $2, prekey_created = $3, prekey_expires = $4, prekey_sig = $5
		WHERE name = $6`, identity, prekey.Public, prekey.Created, prekey.Expires, prekey.Signature, name)
	if err != nil {
		return fmt.Errorf("set identity of %s: %w", name, err)
	}
	return nil
}

// SetPrekey replaces the prekey; ErrNotFound if there is no such user.
func (s *Postgres) SetPrekey(ctx context.Context, name string, prekey keys.SignedPrekey) error {
	err := pgExecOne(ctx, s.pool, `UPDATE users SET
		prekey_public = $1, prekey_created = $2, prekey_expires = $3, prekey_sig = $4
		WHERE name = $5`, prekey.Public, prekey.Created, prekey.Expires, prekey.Signature, name)
	if err != nil {
		return fmt.Errorf("set prekey of %s: %w", name, err)
	}
	return nil
}

// SetDisabled disables or enables an account. Disabling records at (see
// DisabledSince) and deletes the user's sessions in the same transaction.
// ErrNotFound if there is no such user.
func (s *Postgres) SetDisabled(ctx context.Context, name string, disabled bool, at time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		var since *int64 // NULL when enabled
		if disabled {
			since = pgNanos(at)
		}
		err := pgExecOne(ctx, tx, `UPDATE users SET disabled = $1, disabled_at = $2 WHERE name = $3`,
			disabled, since, name)
		if err != nil || !disabled {
			return err
		}
		_, err = pgExecN(ctx, tx, `DELETE FROM sessions WHERE user_name = $1`, name)
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
func (s *Postgres) DisabledSince(ctx context.Context, t time.Time) ([]string, error) {
	var names []string
	var err error
	if t.IsZero() {
		names, err = pgStrings(s.pool.Query(ctx, `SELECT name FROM users WHERE disabled ORDER BY name`))
	} else {
		names, err = pgStrings(s.pool.Query(ctx,
			`SELECT name FROM users WHERE disabled_at >= $1 AND disabled`, t.UnixNano()))
		slices.Sort(names)
	}
	if err != nil {
		return nil, fmt.Errorf("list disabled users: %w", err)
	}
	return names, nil
}

// SetLastSeen records when the user was last online; ErrNotFound if there
// is no such user.
func (s *Postgres) SetLastSeen(ctx context.Context, name string, at time.Time) error {
	if err := pgExecOne(ctx, s.pool, `UPDATE users SET last_seen = $1 WHERE name = $2`, pgNanos(at), name); err != nil {
		return fmt.Errorf("set last seen of %s: %w", name, err)
	}
	return nil
}

// CreateSession stores a new session; ErrExists if the token hash is
// already stored.
func (s *Postgres) CreateSession(ctx context.Context, sess Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_name, created, expires)
		VALUES ($1, $2, $3, $4)`, sess.TokenHash, sess.User, pgNanos(sess.Created), pgNanos(sess.Expires))
	if err != nil {
		return fmt.Errorf("create session for %s: %w", sess.User, mapPgErr(err))
	}
	return nil
}

// Session looks a session up by token hash; ErrNotFound if unknown.
func (s *Postgres) Session(ctx context.Context, tokenHash []byte) (Session, error) {
	var (
		sess             Session
		created, expires *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT token_hash, user_name, created, expires FROM sessions
		WHERE token_hash = $1`, tokenHash).Scan(&sess.TokenHash, &sess.User, &created, &expires)
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", mapPgErr(err))
	}
	sess.Created = pgTime(created)
	sess.Expires = pgTime(expires)
	return sess, nil
}

// DeleteSession revokes one session (no error if already gone).
func (s *Postgres) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := pgExecN(ctx, s.pool, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessions revokes all of a user's sessions except keep (which may be
// nil) and returns how many it removed.
func (s *Postgres) DeleteSessions(ctx context.Context, user string, keep []byte) (int, error) {
	n, err := pgExecN(ctx, s.pool, `DELETE FROM sessions WHERE user_name = $1 AND token_hash IS DISTINCT FROM $2`, user, keep)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of %s: %w", user, err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions expired before now (a session
// with a zero Expires counts as expired) and returns how many.
func (s *Postgres) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	if now.IsZero() {
		return 0, nil
	}
	n, err := pgExecN(ctx, s.pool, `DELETE FROM sessions WHERE expires < $1 OR expires IS NULL`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// Avatar returns a user's avatar; ErrNotFound if there is no such user or
// the user has none.
func (s *Postgres) Avatar(ctx context.Context, name string) ([]byte, error) {
	var avatar []byte
	err := s.pool.QueryRow(ctx, `SELECT avatar FROM users WHERE name = $1`, name).Scan(&avatar)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && len(avatar) == 0 {
		return nil, fmt.Errorf("avatar of %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("avatar of %s: %w", name, err)
	}
	return avatar, nil
}
