package history

import (
	"context"
	"testing"
)

// A transfer's item is in its conversation's history, its preview and
// search; it is stored once per transfer, and its record changes.
func TestFileItem(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	tid, tid2 := id(901), id(902)
	m := out(1, Group(gid), "q3-report.pdf", 0)
	m.Outgoing, m.Meta = true, `{"state":"queued"}`
	got, ok, err := s.AddFile(ctx, m, []string{tid, tid2})
	mustNil(t, err)
	if !ok || got.ID != m.ID {
		t.Fatalf("AddFile = %+v, %v; want it inserted", got, ok)
	}
	// Again, through either transfer: the same item, nothing new.
	again := out(2, Group(gid), "q3-report.pdf", 0)
	again.Outgoing = true
	if got, ok, err := s.AddFile(ctx, again, []string{tid2}); err != nil || ok || got.ID != m.ID {
		t.Fatalf("AddFile again = %s, %v, %v; want the first item, not inserted", got.ID, ok, err)
	}

	item, ids, err := s.FileItem(ctx, tid2)
	mustNil(t, err)
	if item.ID != m.ID || item.Kind != KindFile || item.State != StateSent || len(ids) != 2 || ids[0] != tid || ids[1] != tid2 {
		t.Fatalf("FileItem = %+v %v", item, ids)
	}
	mustNil(t, s.SetFileMeta(ctx, "self", m.ID, `{"state":"done"}`))
	if item, _, _ := s.FileItem(ctx, tid); item.Meta != `{"state":"done"}` {
		t.Fatalf("meta = %q after SetFileMeta", item.Meta)
	}
	wantErr(t, s.SetFileMeta(ctx, "self", id(77), `{}`), ErrNotFound)
	if _, _, err := s.FileItem(ctx, id(903)); err == nil {
		t.Fatal("FileItem of an unknown transfer: no error")
	}

	hist, err := s.History(ctx, Group(gid), 10, "")
	mustNil(t, err)
	if len(hist) != 1 || hist[0].Kind != KindFile || hist[0].Body != "q3-report.pdf" {
		t.Fatalf("history = %+v", hist)
	}
	found, err := s.Search(ctx, "report", "", 10)
	mustNil(t, err)
	if len(found) != 1 || found[0].ID != m.ID {
		t.Fatalf("search = %+v", found)
	}
	recent, err := s.Recent(ctx, 10)
	mustNil(t, err)
	if len(recent) != 1 || recent[0].Preview != "q3-report.pdf" {
		t.Fatalf("recent = %+v", recent)
	}
}

// An incoming item counts as unread but is never named in a read
// receipt: the sender does not know its id.
func TestFileItemIncoming(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	m := in(1, "alice", "photo.jpg", 0)
	if _, ok, err := s.AddFile(ctx, m, []string{id(900)}); err != nil || !ok {
		t.Fatalf("AddFile: %v %v", ok, err)
	}
	recent, err := s.Recent(ctx, 10)
	mustNil(t, err)
	if len(recent) != 1 || recent[0].Unread != 1 {
		t.Fatalf("recent = %+v, want one unread", recent)
	}
	seen, err := s.MarkSeen(ctx, Direct("alice"), at(1))
	mustNil(t, err)
	if len(seen) != 0 {
		t.Fatalf("MarkSeen = %v, want no read receipt for a file item", seen)
	}
	// From someone else in alice's conversation: refused.
	bad := in(2, "bob", "x", 0)
	bad.Conversation = Direct("alice")
	if _, _, err := s.AddFile(ctx, bad, []string{id(904)}); err == nil {
		t.Fatal("a file from bob in alice's conversation was stored")
	}
	if _, _, err := s.AddFile(ctx, in(3, "alice", "x", 0), []string{"nothex"}); err == nil {
		t.Fatal("a malformed transfer id was stored")
	}
	if _, _, err := s.AddFile(ctx, in(4, "alice", "x", 0), nil); err == nil {
		t.Fatal("an item without a transfer was stored")
	}
}
