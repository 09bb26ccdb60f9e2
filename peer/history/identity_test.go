package history

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// TestMessageIdentityIsSenderAndID: a group member who reuses another
// member's message id first suppresses nothing; each sender's redelivery
// is still stored once.
func TestMessageIdentityIsSenderAndID(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	g := Group("0123456789abcdef0123456789abcdef")
	forged := Message{ID: id(7), Conversation: g, From: "mallory", Body: "first with the id", Sent: at(0), Received: at(0), Via: ViaRelay}
	real := Message{ID: id(7), Conversation: g, From: "alice", Body: "the real one", Sent: at(1), Received: at(1), Via: ViaRelay}
	addIn(t, s, forged)
	addIn(t, s, real)
	if ok, err := s.AddIncoming(ctx, real); err != nil || ok {
		t.Fatalf("redelivery of alice's message: inserted %v, %v; want stored once", ok, err)
	}
	// An outgoing message may carry an id another user used too.
	mine := out(7, g, "mine", 2)
	if ok, err := s.AddOutgoing(ctx, mine, []string{"alice"}); err != nil || !ok {
		t.Fatalf("outgoing with the same id: inserted %v, %v", ok, err)
	}
	h, err := s.History(ctx, g, 10, "")
	mustNil(t, err)
	if len(h) != 3 || h[0].From != "mallory" || h[1].From != "alice" || h[2].From != "self" {
		t.Fatalf("history = %+v, want mallory's, alice's and mine", h)
	}
}

// A database from before (sender, id) identity keeps its messages, their
// copies and its search index through the rebuild of messages and
// deliveries, and then takes another sender's id.
func TestMigrateToSenderScopedIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{Migrations: migrations[:2]})
	mustNil(t, err)
	for _, stmt := range []string{
		`INSERT INTO conversations (id) VALUES ('u:alice')`,
		`INSERT INTO messages (seq, id, conversation, sender, kind, body, sent, received, outgoing, state)
			VALUES (1, '` + id(1) + `', 'u:alice', 'alice', 'text', 'lunch at noon', 1, 1, 0, 'received')`,
		`INSERT INTO messages (seq, id, conversation, sender, kind, body, sent, received, outgoing, state)
			VALUES (2, '` + id(2) + `', 'u:alice', 'self', 'text', 'see you there', 2, 2, 1, 'queued')`,
		`INSERT INTO deliveries (message, recipient, state) VALUES (2, 'alice', 'queued')`,
	} {
		_, err := db.Writer().ExecContext(ctx, stmt)
		mustNil(t, err)
	}
	mustNil(t, db.Close())

	s, err := Open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	if got := pending(t, s, "alice"); len(got) != 1 || got[0] != id(2) {
		t.Fatalf("outbox after migration = %v", got)
	}
	found, err := s.Search(ctx, "lunch", "", 10)
	mustNil(t, err)
	if len(found) != 1 || found[0].ID != id(1) {
		t.Fatalf("search after migration = %+v", found)
	}
	addIn(t, s, in(1, "bob", "another sender, the same id", time.Second))
	mustNil(t, s.Failed(ctx, id(2), "alice", "gone"))
	m, err := s.Message(ctx, "self", id(2))
	mustNil(t, err)
	if m.State != StateFailed {
		t.Fatalf("state = %s", m.State)
	}
	var fk int
	mustNil(t, s.w.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fk))
	if fk != 0 {
		t.Errorf("%d foreign key violations", fk)
	}
	var ref string
	mustNil(t, s.w.QueryRowContext(ctx, `SELECT "table" FROM pragma_foreign_key_list('deliveries')`).Scan(&ref))
	if ref != "messages" {
		t.Errorf("deliveries refer to %q", ref)
	}
}
