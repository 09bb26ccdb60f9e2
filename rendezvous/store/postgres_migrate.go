package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// pgMigrations are the PostgreSQL schema steps, applied in order; the
// table schema_version holds how many are applied. Never edit a step
// that has shipped; append a new one. The schema is the SQLite one's
// (see migrations) as it stands after all of its steps, in PostgreSQL's
// types; "user" is reserved there, so those columns are user_name.
var pgMigrations = [][]string{
	// 1: the schema of SQLite's steps 1 to 3.
	{
		`CREATE TABLE users (
			name           TEXT COLLATE "C" PRIMARY KEY,
			display_name   TEXT NOT NULL DEFAULT '',
			display_key    TEXT COLLATE "C" NOT NULL DEFAULT '',
			email          TEXT NOT NULL DEFAULT '',
			phone          TEXT NOT NULL DEFAULT '',
			password_hash  TEXT NOT NULL DEFAULT '',
			identity_key   BYTEA,
			prekey_public  BYTEA,
			prekey_created BIGINT NOT NULL DEFAULT 0,
			prekey_expires BIGINT NOT NULL DEFAULT 0,
			prekey_sig     BYTEA,
			disabled       BOOLEAN NOT NULL DEFAULT false,
			disabled_at    BIGINT,
			created        BIGINT,
			last_seen      BIGINT
		)`,
		`CREATE INDEX users_display_key ON users (display_key)`,
		`CREATE INDEX users_disabled_at ON users (disabled_at) WHERE disabled_at IS NOT NULL`,
		`CREATE UNIQUE INDEX users_identity_key ON users (identity_key)`,

		`CREATE TABLE sessions (
			token_hash BYTEA PRIMARY KEY,
			user_name  TEXT COLLATE "C" NOT NULL,
			created    BIGINT,
			expires    BIGINT
		)`,
		`CREATE INDEX sessions_user ON sessions (user_name)`,
		`CREATE INDEX sessions_expires ON sessions (expires)`,

		`CREATE TABLE friend_requests (
			from_user TEXT COLLATE "C" NOT NULL,
			to_user   TEXT COLLATE "C" NOT NULL,
			at        BIGINT,
			PRIMARY KEY (from_user, to_user)
		)`,
		`CREATE INDEX friend_requests_to ON friend_requests (to_user, from_user)`,

		// One row per pair, a < b.
		`CREATE TABLE friendships (
			a     TEXT COLLATE "C" NOT NULL,
			b     TEXT COLLATE "C" NOT NULL,
			since BIGINT,
			PRIMARY KEY (a, b),
			CHECK (a < b)
		)`,
		`CREATE INDEX friendships_b ON friendships (b, a)`,

		`CREATE TABLE chat_groups (
			id      TEXT COLLATE "C" PRIMARY KEY,
			name    TEXT COLLATE "C" NOT NULL UNIQUE,
			owner   TEXT COLLATE "C" NOT NULL,
			created BIGINT
		)`,
		`CREATE TABLE group_members (
			group_id  TEXT COLLATE "C" NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user_name TEXT COLLATE "C" NOT NULL,
			joined    BIGINT,
			PRIMARY KEY (group_id, user_name)
		)`,
		`CREATE INDEX group_members_user ON group_members (user_name, group_id)`,
		`CREATE TABLE group_invites (
			group_id  TEXT COLLATE "C" NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user_name TEXT COLLATE "C" NOT NULL,
			by_user   TEXT COLLATE "C" NOT NULL,
			at        BIGINT,
			PRIMARY KEY (group_id, user_name)
		)`,
		`CREATE INDEX group_invites_user ON group_invites (user_name, at)`,

		`CREATE TABLE relay (
			seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			recipient TEXT COLLATE "C" NOT NULL,
			msg_id    TEXT COLLATE "C" NOT NULL,
			sender    TEXT COLLATE "C" NOT NULL,
			envelope  BYTEA,
			size      BIGINT NOT NULL,
			created   BIGINT,
			UNIQUE (recipient, sender, msg_id)
		)`,
		`CREATE INDEX relay_recipient_seq ON relay (recipient, seq)`,
		`CREATE INDEX relay_created ON relay (created)`,
		// Running totals per recipient and per (recipient, sender), kept
		// by triggers, so the quota check costs one lookup however much
		// is waiting.
		`CREATE TABLE relay_totals (
			recipient TEXT COLLATE "C" PRIMARY KEY,
			count     BIGINT NOT NULL,
			bytes     BIGINT NOT NULL
		)`,
		`CREATE TABLE relay_sender_totals (
			recipient TEXT COLLATE "C" NOT NULL,
			sender    TEXT COLLATE "C" NOT NULL,
			count     BIGINT NOT NULL,
			bytes     BIGINT NOT NULL,
			PRIMARY KEY (recipient, sender)
		)`,
		`CREATE FUNCTION relay_totals_insert() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO relay_totals (recipient, count, bytes) VALUES (NEW.recipient, 1, NEW.size)
			ON CONFLICT (recipient) DO UPDATE
				SET count = relay_totals.count + 1, bytes = relay_totals.bytes + excluded.bytes;
			INSERT INTO relay_sender_totals (recipient, sender, count, bytes) VALUES (NEW.recipient, NEW.sender, 1, NEW.size)
			ON CONFLICT (recipient, sender) DO UPDATE
				SET count = relay_sender_totals.count + 1, bytes = relay_sender_totals.bytes + excluded.bytes;
			RETURN NULL;
		END $$`,
		`CREATE FUNCTION relay_totals_delete() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			UPDATE relay_totals SET count = count - 1, bytes = bytes - OLD.size
			WHERE recipient = OLD.recipient;
			DELETE FROM relay_totals WHERE recipient = OLD.recipient AND count <= 0;
			UPDATE relay_sender_totals SET count = count - 1, bytes = bytes - OLD.size
			WHERE recipient = OLD.recipient AND sender = OLD.sender;
			DELETE FROM relay_sender_totals WHERE recipient = OLD.recipient AND sender = OLD.sender AND count <= 0;
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER relay_totals_insert AFTER INSERT ON relay
			FOR EACH ROW EXECUTE FUNCTION relay_totals_insert()`,
		`CREATE TRIGGER relay_totals_delete AFTER DELETE ON relay
			FOR EACH ROW EXECUTE FUNCTION relay_totals_delete()`,
		// Drop notices, pushed to the sender until acknowledged.
		`CREATE TABLE relay_dropped (
			seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			sender    TEXT COLLATE "C" NOT NULL,
			recipient TEXT COLLATE "C" NOT NULL,
			msg_id    TEXT COLLATE "C" NOT NULL,
			reason    TEXT NOT NULL,
			at        BIGINT NOT NULL,
			UNIQUE (sender, recipient, msg_id)
		)`,
		`CREATE INDEX relay_dropped_sender ON relay_dropped (sender, seq)`,
		`CREATE INDEX relay_dropped_at ON relay_dropped (at)`,
	},

	// 2: rooms (SQLite's step 4) — groups anyone may find and join —
	// with their topic, admins and bans; at most one room is the lobby.
	{
		`CREATE TABLE rooms (
			group_id TEXT COLLATE "C" PRIMARY KEY REFERENCES chat_groups (id) ON DELETE CASCADE,
			topic    TEXT NOT NULL DEFAULT '',
			lobby    BOOLEAN NOT NULL DEFAULT false
		)`,
		`CREATE UNIQUE INDEX rooms_lobby ON rooms (lobby) WHERE lobby`,
		`CREATE TABLE room_admins (
			group_id  TEXT COLLATE "C" NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user_name TEXT COLLATE "C" NOT NULL,
			PRIMARY KEY (group_id, user_name)
		)`,
		`CREATE TABLE room_bans (
			group_id  TEXT COLLATE "C" NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user_name TEXT COLLATE "C" NOT NULL,
			by_user   TEXT COLLATE "C" NOT NULL,
			at        BIGINT,
			PRIMARY KEY (group_id, user_name)
		)`,
	},
	// 3: avatars, kept with the profile (SQLite's step 5); avatar_id is
	// wire.AvatarID of avatar, '' when there is none.
	{
		`ALTER TABLE users ADD COLUMN avatar BYTEA CHECK (avatar IS NULL OR length(avatar) < 65536)`,
		`ALTER TABLE users ADD COLUMN avatar_id TEXT NOT NULL DEFAULT ''`,
	},
}

// pgSchemaVersion is the version this code writes.
var pgSchemaVersion = len(pgMigrations)

// migrateLock is the advisory lock key that serialises migrations of
// nodes starting at once ("lanchat" in ASCII).
const migrateLock = 0x6c616e63686174

// migratePostgres applies the steps the database lacks, each in its own
// transaction, holding an advisory lock so concurrent nodes take turns;
// a database with more steps than this program knows is refused with
// sqlitedb.ErrNewer, the same error the SQLite store gives.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	return migratePostgresSteps(ctx, pool, pgMigrations)
}

func migratePostgresSteps(ctx context.Context, pool *pgxpool.Pool, steps [][]string) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		one     BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
		version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for {
		done := false
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var v int
			err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
			if err != nil && err != pgx.ErrNoRows {
				return err
			}
			if v > len(steps) {
				return fmt.Errorf("%w: version %d, this program knows %d", sqlitedb.ErrNewer, v, len(steps))
			}
			if v == len(steps) {
				done = true
				return nil
			}
			for _, q := range steps[v] {
				if _, err := tx.Exec(ctx, q); err != nil {
					return fmt.Errorf("step %d: %w", v+1, err)
				}
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)
				ON CONFLICT (one) DO UPDATE SET version = excluded.version`, v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if done {
			return nil
		}
	}
}
