package store

import "github.com/lanchat/lanchat/internal/sqlitedb"

// migrations are the schema steps, applied in order by sqlitedb.Open;
// PRAGMA user_version counts the steps applied. Never edit a step that
// has shipped; append a new one.
var migrations = []sqlitedb.Migration{
	// 1: initial schema.
	{SQL: []string{
		`CREATE TABLE users (
			name           TEXT PRIMARY KEY,
			display_name   TEXT NOT NULL DEFAULT '',
			display_key    TEXT NOT NULL DEFAULT '', -- lower-cased display_name, for search
			email          TEXT NOT NULL DEFAULT '',
			phone          TEXT NOT NULL DEFAULT '',
			password_hash  TEXT NOT NULL DEFAULT '',
			identity_key   BLOB,
			prekey_public  BLOB,
			prekey_created INTEGER NOT NULL DEFAULT 0, -- Unix seconds
			prekey_expires INTEGER NOT NULL DEFAULT 0, -- Unix seconds
			prekey_sig     BLOB,
			disabled       INTEGER NOT NULL DEFAULT 0,
			disabled_at    INTEGER,
			created        INTEGER,
			last_seen      INTEGER
		) STRICT`,
		`CREATE INDEX users_display_key ON users (display_key)`,
		`CREATE INDEX users_disabled_at ON users (disabled_at) WHERE disabled_at IS NOT NULL`,

		`CREATE TABLE sessions (
			token_hash BLOB PRIMARY KEY,
			user       TEXT NOT NULL,
			created    INTEGER,
			expires    INTEGER
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX sessions_user ON sessions (user)`,
		`CREATE INDEX sessions_expires ON sessions (expires)`,

		`CREATE TABLE friend_requests (
			from_user TEXT NOT NULL,
			to_user   TEXT NOT NULL,
			at        INTEGER,
			PRIMARY KEY (from_user, to_user)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX friend_requests_to ON friend_requests (to_user, from_user)`,

		// One row per pair, a < b.
		`CREATE TABLE friendships (
			a     TEXT NOT NULL,
			b     TEXT NOT NULL,
			since INTEGER,
			PRIMARY KEY (a, b),
			CHECK (a < b)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX friendships_b ON friendships (b, a)`,

		`CREATE TABLE chat_groups (
			id      TEXT PRIMARY KEY,
			name    TEXT NOT NULL UNIQUE,
			owner   TEXT NOT NULL,
			created INTEGER
		) STRICT`,
		`CREATE TABLE group_members (
			group_id TEXT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user     TEXT NOT NULL,
			joined   INTEGER,
			PRIMARY KEY (group_id, user)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX group_members_user ON group_members (user, group_id)`,
		`CREATE TABLE group_invites (
			group_id TEXT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user     TEXT NOT NULL,
			by_user  TEXT NOT NULL,
			at       INTEGER,
			PRIMARY KEY (group_id, user)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX group_invites_user ON group_invites (user, at)`,

		`CREATE TABLE relay (
			seq       INTEGER PRIMARY KEY AUTOINCREMENT,
			recipient TEXT NOT NULL,
			msg_id    TEXT NOT NULL,
			sender    TEXT NOT NULL,
			envelope  BLOB,
			size      INTEGER NOT NULL,
			created   INTEGER,
			UNIQUE (recipient, msg_id)
		) STRICT`,
		`CREATE INDEX relay_recipient_seq ON relay (recipient, seq)`,
		`CREATE INDEX relay_created ON relay (created)`,
		// Running totals per recipient, kept by triggers, so the quota check
		// costs one lookup however much is waiting.
		`CREATE TABLE relay_totals (
			recipient TEXT PRIMARY KEY,
			count     INTEGER NOT NULL,
			bytes     INTEGER NOT NULL
		) STRICT, WITHOUT ROWID`,
		`CREATE TRIGGER relay_totals_insert AFTER INSERT ON relay BEGIN
			INSERT INTO relay_totals (recipient, count, bytes) VALUES (NEW.recipient, 1, NEW.size)
			ON CONFLICT (recipient) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes;
		END`,
		`CREATE TRIGGER relay_totals_delete AFTER DELETE ON relay BEGIN
			UPDATE relay_totals SET count = count - 1, bytes = bytes - OLD.size
			WHERE recipient = OLD.recipient;
			DELETE FROM relay_totals WHERE recipient = OLD.recipient AND count <= 0;
		END`,
	}},
	// 2: an identity key belongs to one account.
	{SQL: []string{
		`CREATE UNIQUE INDEX users_identity_key ON users (identity_key)`,
	}},

	// 3: a relayed message is identified by (recipient, sender, id); what
	// one sender has waiting for one recipient is counted; the relay keeps
	// notices of what it dropped for good until their senders take them.
	{SQL: []string{
		`CREATE TABLE relay_sender_totals (
			recipient TEXT NOT NULL,
			sender    TEXT NOT NULL,
			count     INTEGER NOT NULL,
			bytes     INTEGER NOT NULL,
			PRIMARY KEY (recipient, sender)
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE relay_new (
			seq       INTEGER PRIMARY KEY AUTOINCREMENT,
			recipient TEXT NOT NULL,
			msg_id    TEXT NOT NULL,
			sender    TEXT NOT NULL,
			envelope  BLOB,
			size      INTEGER NOT NULL,
			created   INTEGER,
			UNIQUE (recipient, sender, msg_id)
		) STRICT`,
		`INSERT INTO relay_new (seq, recipient, msg_id, sender, envelope, size, created)
			SELECT seq, recipient, msg_id, sender, envelope, size, created FROM relay`,
		`DROP TABLE relay`,
		`ALTER TABLE relay_new RENAME TO relay`,
		`CREATE INDEX relay_recipient_seq ON relay (recipient, seq)`,
		`CREATE INDEX relay_created ON relay (created)`,
		`CREATE TRIGGER relay_totals_insert AFTER INSERT ON relay BEGIN
			INSERT INTO relay_totals (recipient, count, bytes) VALUES (NEW.recipient, 1, NEW.size)
			ON CONFLICT (recipient) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes;
			INSERT INTO relay_sender_totals (recipient, sender, count, bytes) VALUES (NEW.recipient, NEW.sender, 1, NEW.size)
			ON CONFLICT (recipient, sender) DO UPDATE SET count = count + 1, bytes = bytes + excluded.bytes;
		END`,
		`CREATE TRIGGER relay_totals_delete AFTER DELETE ON relay BEGIN
			UPDATE relay_totals SET count = count - 1, bytes = bytes - OLD.size
			WHERE recipient = OLD.recipient;
			DELETE FROM relay_totals WHERE recipient = OLD.recipient AND count <= 0;
			UPDATE relay_sender_totals SET count = count - 1, bytes = bytes - OLD.size
			WHERE recipient = OLD.recipient AND sender = OLD.sender;
			DELETE FROM relay_sender_totals WHERE recipient = OLD.recipient AND sender = OLD.sender AND count <= 0;
		END`,
		`INSERT INTO relay_sender_totals (recipient, sender, count, bytes)
			SELECT recipient, sender, count(*), sum(size) FROM relay GROUP BY recipient, sender`,
		// Drop notices, pushed to the sender until acknowledged.
		`CREATE TABLE relay_dropped (
			seq       INTEGER PRIMARY KEY AUTOINCREMENT,
			sender    TEXT NOT NULL,
			recipient TEXT NOT NULL,
			msg_id    TEXT NOT NULL,
			reason    TEXT NOT NULL,
			at        INTEGER NOT NULL,
			UNIQUE (sender, recipient, msg_id)
		) STRICT`,
		`CREATE INDEX relay_dropped_sender ON relay_dropped (sender, seq)`,
		`CREATE INDEX relay_dropped_at ON relay_dropped (at)`,
	}},

	// 4: rooms — groups anyone may find and join — with their topic,
	// admins and bans; at most one room is the lobby.
	{SQL: []string{
		`CREATE TABLE rooms (
			group_id TEXT PRIMARY KEY REFERENCES chat_groups (id) ON DELETE CASCADE,
			topic    TEXT NOT NULL DEFAULT '',
			lobby    INTEGER NOT NULL DEFAULT 0
		) STRICT, WITHOUT ROWID`,
		`CREATE UNIQUE INDEX rooms_lobby ON rooms (lobby) WHERE lobby = 1`,
		`CREATE TABLE room_admins (
			group_id TEXT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user     TEXT NOT NULL,
			PRIMARY KEY (group_id, user)
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE room_bans (
			group_id TEXT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
			user     TEXT NOT NULL,
			by_user  TEXT NOT NULL,
			at       INTEGER,
			PRIMARY KEY (group_id, user)
		) STRICT, WITHOUT ROWID`,
	}},
	// 5: avatars, kept with the profile; avatar_id is wire.AvatarID of
	// avatar, "" when there is none.
	{SQL: []string{
		`ALTER TABLE users ADD COLUMN avatar BLOB CHECK (avatar IS NULL OR length(avatar) < 65536)`,
		`ALTER TABLE users ADD COLUMN avatar_id TEXT NOT NULL DEFAULT ''`,
	}},
}

// schemaVersion is the version this code writes.
var schemaVersion = len(migrations)
