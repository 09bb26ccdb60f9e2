package history

import "github.com/lanchat/lanchat/internal/sqlitedb"

// migrations are the schema steps, applied in order by sqlitedb.Open;
// PRAGMA user_version counts the steps applied. Never edit a step that
// has shipped; append a new one.
//
// Times are Unix nanoseconds (NULL for "never"). Usernames are in their
// canonical lower-case form.
var migrations = []sqlitedb.Migration{
	// 1: initial schema.
	{SQL: []string{
		// A contact is pinned on first sight: identity_key is never NULL.
		// A later, different key waits in pending_key until trusted.
		`CREATE TABLE contacts (
			username       TEXT PRIMARY KEY,
			display_name   TEXT NOT NULL DEFAULT '',
			identity_key   BLOB NOT NULL,
			pinned_at      INTEGER,
			verified       INTEGER NOT NULL DEFAULT 0,
			pending_key    BLOB,
			key_changed_at INTEGER
		) STRICT`,
		// Addresses that reached a contact; a larger seq is more recent.
		`CREATE TABLE contact_addrs (
			username TEXT NOT NULL REFERENCES contacts (username) ON DELETE CASCADE,
			addr     TEXT NOT NULL,
			seq      INTEGER NOT NULL,
			PRIMARY KEY (username, addr)
		) STRICT, WITHOUT ROWID`,

		// id is "u:<username>" or "g:<group id>". unread counts incoming
		// messages since the last MarkRead.
		`CREATE TABLE conversations (
			id            TEXT PRIMARY KEY,
			name          TEXT NOT NULL DEFAULT '',
			last_activity INTEGER NOT NULL DEFAULT 0,
			unread        INTEGER NOT NULL DEFAULT 0
		) STRICT`,
		`CREATE INDEX conversations_activity ON conversations (last_activity, id)`,

		// seq is the local arrival order and the full-text index's rowid;
		// id is the client-made message id, unique: exactly-once history.
		`CREATE TABLE messages (
			seq          INTEGER PRIMARY KEY,
			id           TEXT NOT NULL UNIQUE,
			conversation TEXT NOT NULL REFERENCES conversations (id),
			sender       TEXT NOT NULL,
			kind         TEXT NOT NULL,
			body         TEXT NOT NULL,
			sent         INTEGER NOT NULL,
			received     INTEGER NOT NULL,
			outgoing     INTEGER NOT NULL,
			state        TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'received')),
			via          TEXT NOT NULL DEFAULT '' CHECK (via IN ('', 'direct', 'relay'))
		) STRICT`,
		`CREATE INDEX messages_conversation ON messages (conversation, sent, seq)`,

		// The trigram tokenizer matches any substring of three or more
		// characters, whatever the script: words inside longer words,
		// emoji, CJK text without spaces. Folded to lower case, diacritics
		// removed. External content: the text lives once, in messages.
		`CREATE VIRTUAL TABLE messages_fts USING fts5 (
			body,
			content = 'messages',
			content_rowid = 'seq',
			tokenize = 'trigram remove_diacritics 1'
		)`,
		`CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
			INSERT INTO messages_fts (rowid, body) VALUES (NEW.seq, NEW.body);
		END`,
		`CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
			INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.seq, OLD.body);
		END`,
		`CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
			INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.seq, OLD.body);
			INSERT INTO messages_fts (rowid, body) VALUES (NEW.seq, NEW.body);
		END`,

		// One row per recipient of an outgoing message. The rows still
		// queued are the outbox.
		`CREATE TABLE deliveries (
			message      INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
			recipient    TEXT NOT NULL,
			state        TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered')),
			via          TEXT NOT NULL DEFAULT '' CHECK (via IN ('', 'direct', 'relay')),
			attempts     INTEGER NOT NULL DEFAULT 0,
			next_attempt INTEGER,
			PRIMARY KEY (message, recipient)
		) STRICT, WITHOUT ROWID`,
		`CREATE INDEX outbox ON deliveries (recipient, message) WHERE state = 'queued'`,

		// Secret halves of this user's prekeys.
		`CREATE TABLE prekeys (
			id      TEXT PRIMARY KEY,
			secret  BLOB NOT NULL,
			created INTEGER NOT NULL,
			expires INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX prekeys_expires ON prekeys (expires)`,
	}},

	// 2: file transfers and the receiver's resume state.
	{SQL: []string{
		// The daemon's list of transfers both ways. The offered paths
		// live in transfer_paths, so that the progress update every
		// second rewrites one small row. Ties in created keep the order
		// of insertion (rowid).
		`CREATE TABLE transfers (
			id           TEXT PRIMARY KEY,
			outgoing     INTEGER NOT NULL,
			peer         TEXT NOT NULL,
			grp          TEXT NOT NULL DEFAULT '',
			state        TEXT NOT NULL CHECK (state IN ('queued', 'offered', 'active', 'waiting',
				'done', 'failed', 'cancelled', 'rejected')),
			dir          TEXT NOT NULL DEFAULT '',
			name         TEXT NOT NULL DEFAULT '',
			files        INTEGER NOT NULL DEFAULT 0,
			total        INTEGER NOT NULL DEFAULT 0,
			done         INTEGER NOT NULL DEFAULT 0,
			error        TEXT NOT NULL DEFAULT '',
			created      INTEGER NOT NULL,
			updated      INTEGER NOT NULL,
			next_attempt INTEGER,
			attempts     INTEGER NOT NULL DEFAULT 0
		) STRICT`,
		`CREATE INDEX transfers_created ON transfers (created)`,
		`CREATE INDEX transfers_resumable ON transfers (created)
			WHERE outgoing = 1 AND state IN ('queued', 'waiting', 'active')`,
		`CREATE INDEX transfers_offers ON transfers (created) WHERE outgoing = 0 AND state = 'offered'`,
		// Paths may be 4 KiB long: a rowid table, not WITHOUT ROWID.
		`CREATE TABLE transfer_paths (
			transfer TEXT NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
			seq      INTEGER NOT NULL,
			path     TEXT NOT NULL,
			PRIMARY KEY (transfer, seq)
		) STRICT`,

		// checkpoint.Transfer: one row per transfer and one per entry, so
		// that a flush of progress rewrites only the entries that moved.
		// Not tied to transfers: the transfer package keeps it on its own
		// terms, and a record outlives its checkpoint.
		`CREATE TABLE checkpoints (
			transfer TEXT PRIMARY KEY,
			peer     TEXT NOT NULL,
			dir      TEXT NOT NULL
		) STRICT`,
		`CREATE TABLE checkpoint_entries (
			transfer TEXT NOT NULL REFERENCES checkpoints (transfer) ON DELETE CASCADE,
			entry    INTEGER NOT NULL,
			offered  TEXT NOT NULL,
			path     TEXT NOT NULL,
			size     INTEGER NOT NULL,
			mtime    INTEGER NOT NULL,
			is_dir   INTEGER NOT NULL,
			verified INTEGER NOT NULL,
			done     INTEGER NOT NULL,
			PRIMARY KEY (transfer, entry)
		) STRICT, WITHOUT ROWID`,
	}},

	// 3: the roster kept between runs, and contacts found by key.
	{SQL: []string{
		// The friends, groups and members the server last gave (see
		// roster.go); one row in roster once a sync was saved.
		`CREATE TABLE roster (
			id     INTEGER PRIMARY KEY CHECK (id = 1),
			synced INTEGER NOT NULL
		) STRICT`,
		`CREATE TABLE roster_friends (
			username     TEXT PRIMARY KEY,
			display_name TEXT NOT NULL DEFAULT ''
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE roster_groups (
			id      TEXT PRIMARY KEY,
			name    TEXT NOT NULL,
			owner   TEXT NOT NULL DEFAULT '',
			created INTEGER
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE roster_members (
			grp      TEXT NOT NULL REFERENCES roster_groups (id) ON DELETE CASCADE,
			username TEXT NOT NULL,
			PRIMARY KEY (grp, username)
		) STRICT, WITHOUT ROWID`,
		// A key pinned for two contacts holds both (Contact.SameKey).
		`CREATE INDEX contacts_identity_key ON contacts (identity_key)`,
	}},

	// 4: a sender's cancel notice owed to the receiver of a transfer it
	// cancelled (Transfer.NoticeOwed).
	{SQL: []string{
		`ALTER TABLE transfers ADD COLUMN notice_owed INTEGER NOT NULL DEFAULT 0`,
		`CREATE INDEX transfers_notices ON transfers (created) WHERE notice_owed = 1`,
	}},

	// 5: a message is identified by (sender, id), so nobody can pre-empt
	// another sender's id; conversations are ordered by arrival; a copy
	// may end failed, with the reason; a message keeps the send time its
	// sender claimed when it was clamped; envelopes the daemon cannot act
	// on yet wait in parked. messages and deliveries are rebuilt (SQLite
	// cannot drop a constraint): deliveries first, so that dropping the
	// old messages table cascades into nothing.
	{SQL: []string{
		`CREATE TABLE messages_new (
			seq          INTEGER PRIMARY KEY,
			id           TEXT NOT NULL,
			conversation TEXT NOT NULL REFERENCES conversations (id),
			sender       TEXT NOT NULL,
			kind         TEXT NOT NULL,
			body         TEXT NOT NULL,
			sent         INTEGER NOT NULL,
			claimed      INTEGER,
			received     INTEGER NOT NULL,
			outgoing     INTEGER NOT NULL,
			state        TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'failed', 'received')),
			via          TEXT NOT NULL DEFAULT '' CHECK (via IN ('', 'direct', 'relay')),
			error        TEXT NOT NULL DEFAULT '',
			UNIQUE (sender, id)
		) STRICT`,
		`INSERT INTO messages_new (seq, id, conversation, sender, kind, body, sent, received, outgoing, state, via)
			SELECT seq, id, conversation, sender, kind, body, sent, received, outgoing, state, via FROM messages`,
		`CREATE TABLE deliveries_new (
			message      INTEGER NOT NULL REFERENCES messages_new (seq) ON DELETE CASCADE,
			recipient    TEXT NOT NULL,
			state        TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'failed')),
			via          TEXT NOT NULL DEFAULT '' CHECK (via IN ('', 'direct', 'relay')),
			attempts     INTEGER NOT NULL DEFAULT 0,
			next_attempt INTEGER,
			error        TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (message, recipient)
		) STRICT, WITHOUT ROWID`,
		`INSERT INTO deliveries_new (message, recipient, state, via, attempts, next_attempt)
			SELECT message, recipient, state, via, attempts, next_attempt FROM deliveries`,
		`DROP TABLE deliveries`,
		`DROP TABLE messages`,
		`ALTER TABLE messages_new RENAME TO messages`,
		`ALTER TABLE deliveries_new RENAME TO deliveries`,
		`CREATE INDEX messages_conversation ON messages (conversation, seq)`,
		`CREATE INDEX messages_id ON messages (id)`,
		`CREATE INDEX outbox ON deliveries (recipient, message) WHERE state = 'queued'`,
		`CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
			INSERT INTO messages_fts (rowid, body) VALUES (NEW.seq, NEW.body);
		END`,
		`CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
			INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.seq, OLD.body);
		END`,
		`CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
			INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.seq, OLD.body);
			INSERT INTO messages_fts (rowid, body) VALUES (NEW.seq, NEW.body);
		END`,

		// Relayed envelopes taken off the server that cannot be acted on
		// yet: from a held contact (still sealed: nothing of theirs is
		// shown until trusted), for a group not known to have the sender
		// as a member, from someone not a contact now, or after a failure
		// that may pass. grp is the group the opened envelope named;
		// at is when the relay took it.
		`CREATE TABLE parked (
			seq      INTEGER PRIMARY KEY,
			sender   TEXT NOT NULL,
			id       TEXT NOT NULL,
			reason   TEXT NOT NULL CHECK (reason IN ('held', 'group', 'contact', 'retry')),
			grp      TEXT NOT NULL DEFAULT '',
			envelope BLOB NOT NULL,
			size     INTEGER NOT NULL,
			at       INTEGER NOT NULL,
			parked   INTEGER NOT NULL,
			UNIQUE (sender, id)
		) STRICT`,
		`CREATE INDEX parked_sender ON parked (sender, seq)`,
	}},

	// 6: rich conversations. messages.body stays the text a message
	// shows and search finds (the latest version of an edited one);
	// meta is the JSON body of a kind other than text (internal/content).
	// An edited message keeps every version in message_versions, a
	// recalled one keeps its text (anti-recall: the reader decides what
	// it shows). seen is when this user saw an incoming message, which
	// owes its sender a read receipt; messages already stored count as
	// seen. reads are the read receipts of outgoing messages, one per
	// reader; reactions keep, per reactor and emoji, the latest
	// reaction (active or taken back); mentions are the incoming messages
	// that mention this user.
	{SQL: []string{
		`ALTER TABLE messages ADD COLUMN meta TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE messages ADD COLUMN edited INTEGER`,
		`ALTER TABLE messages ADD COLUMN recalled INTEGER`,
		`ALTER TABLE messages ADD COLUMN seen INTEGER`,
		`UPDATE messages SET seen = received WHERE outgoing = 0`,
		`CREATE INDEX messages_unseen ON messages (conversation, seq) WHERE outgoing = 0 AND seen IS NULL`,
		// edit is the edit's own message id, '' for the original text.
		`CREATE TABLE message_versions (
			message  INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
			edit     TEXT NOT NULL,
			body     TEXT NOT NULL,
			sent     INTEGER NOT NULL,
			received INTEGER NOT NULL,
			PRIMARY KEY (message, edit)
		) STRICT`,
		`CREATE TABLE reactions (
			message INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
			reactor TEXT NOT NULL,
			emoji   TEXT NOT NULL,
			active  INTEGER NOT NULL,
			sent    INTEGER NOT NULL,
			id      TEXT NOT NULL,
			PRIMARY KEY (message, reactor, emoji)
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE reads (
			message INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
			reader  TEXT NOT NULL,
			at      INTEGER NOT NULL,
			PRIMARY KEY (message, reader)
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE mentions (
			message INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE
		) STRICT`,
		`ALTER TABLE conversations ADD COLUMN muted INTEGER NOT NULL DEFAULT 0`,
		`CREATE TABLE settings (
			name  TEXT PRIMARY KEY,
			value TEXT NOT NULL
		) STRICT`,
	}},
	// Avatars of the user and of contacts, as the server last gave them.
	{SQL: []string{
		`CREATE TABLE avatars (
			username TEXT PRIMARY KEY,
			id       TEXT NOT NULL,
			data     BLOB NOT NULL CHECK (length(data) < 65536)
		) STRICT`,
	}},

	// 8: shared file libraries (docs/protocol.md, "Library listings").
	// library is each group's listing as this member knows it, an item
	// named by (group, id); a withdrawn item keeps its row (removed set)
	// so that a late copy of its share does not bring it back.
	// library_holders are the members that said they serve an item,
	// with the send time of what they said last; bad marks a holder
	// whose copy failed this member's hash check. library_local is the
	// copy this user serves: the sharer's original where it is (never
	// copied), or a fetched copy, with the size and time it had when
	// verified.
	{SQL: []string{
		`CREATE TABLE library (
			grp     TEXT NOT NULL,
			id      TEXT NOT NULL,
			sharer  TEXT NOT NULL,
			path    TEXT NOT NULL,
			size    INTEGER NOT NULL,
			sha256  TEXT NOT NULL,
			shared  INTEGER NOT NULL,
			removed INTEGER,
			PRIMARY KEY (grp, id)
		) STRICT`,
		`CREATE TABLE library_holders (
			grp     TEXT NOT NULL,
			id      TEXT NOT NULL,
			holder  TEXT NOT NULL,
			serving INTEGER NOT NULL,
			at      INTEGER NOT NULL,
			bad     INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (grp, id, holder)
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE library_local (
			grp     TEXT NOT NULL,
			id      TEXT NOT NULL,
			path    TEXT NOT NULL,
			size    INTEGER NOT NULL,
			mtime   INTEGER NOT NULL,
			fetched INTEGER NOT NULL,
			sha256  TEXT NOT NULL,
			PRIMARY KEY (grp, id)
		) STRICT`,
		`CREATE INDEX library_local_sum ON library_local (sha256)`,
	}},

	// 9: the transfers that carry the full picture or recording of an
	// image or voice message (docs/protocol.md, "Media transfers"), on
	// both sides: transfer names the transfer, (sender, message) the
	// message, sha256 and size what it must deliver.
	{SQL: []string{
		`CREATE TABLE media_transfers (
			transfer TEXT PRIMARY KEY,
			sender   TEXT NOT NULL,
			message  TEXT NOT NULL,
			sha256   TEXT NOT NULL,
			size     INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX media_transfers_message ON media_transfers (sender, message)`,
	}},

	// 10: files in the timeline. A transfer's item in its conversation is
	// a message of kind file (AddFile); file_items links each transfer
	// to it (a group send: several transfers, one item). No reference to
	// transfers: the item outlives a transfer record.
	{SQL: []string{
		`CREATE TABLE file_items (
			transfer TEXT PRIMARY KEY,
			message  INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE
		) STRICT`,
		`CREATE INDEX file_items_message ON file_items (message)`,
	}},
}

// schemaVersion is the version this code writes.
var schemaVersion = len(migrations)
