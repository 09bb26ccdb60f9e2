package history

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLibrary lists, holds, withdraws and re-shares library items.
func TestLibrary(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	const g, id = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"
	now := time.Now()
	it := LibraryItem{Group: g, ID: id, Sharer: "alice", Path: "a.txt", Size: 3, SHA256: "ab", Shared: now}
	if ins, err := s.AddShare(ctx, it); err != nil || !ins {
		t.Fatalf("add: %v %v", ins, err)
	}
	if ins, err := s.AddShare(ctx, it); err != nil || ins {
		t.Fatalf("add again: %v %v", ins, err)
	}
	other := it
	other.Sharer = "mallory"
	if _, err := s.AddShare(ctx, other); !errors.Is(err, ErrConflict) {
		t.Fatalf("another sharer's id: %v, want ErrConflict", err)
	}
	if err := s.SetHolder(ctx, g, id, "bob", true, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetHolder(ctx, g, id, "bob", false, now); err != nil { // older: ignored
		t.Fatal(err)
	}
	if err := s.MarkBad(ctx, g, id, "alice"); err != nil {
		t.Fatal(err)
	}
	got, err := s.LibraryItem(ctx, g, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Holders) != 2 || got.Holders[0] != (Holder{User: "alice", Bad: true}) || got.Holders[1] != (Holder{User: "bob"}) {
		t.Fatalf("holders %+v", got.Holders)
	}
	if err := s.SetLocal(ctx, LocalCopy{Group: g, ID: id, Path: "/x/a.txt", Size: 3, ModTime: now, SHA256: "ab"}); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.LocalCopies(ctx, "ab", false); err != nil || len(cs) != 1 || cs[0].Path != "/x/a.txt" {
		t.Fatalf("local copies %+v %v", cs, err)
	}
	if cs, err := s.FetchedCopies(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("fetched copies of an original: %+v %v", cs, err)
	}
	if err := s.SetLocal(ctx, LocalCopy{Group: g, ID: id, Path: "/y/a.txt", Size: 3, ModTime: now, SHA256: "ab", Fetched: true}); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.LocalCopies(ctx, "ab", false); err != nil || len(cs) != 0 {
		t.Fatalf("originals only, with a fetched copy: %+v %v", cs, err)
	}
	if cs, err := s.FetchedCopies(ctx); err != nil || len(cs) != 1 || cs[0].Path != "/y/a.txt" {
		t.Fatalf("fetched copies %+v %v", cs, err)
	}
	if err := s.RemoveShare(ctx, g, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LibraryItem(ctx, g, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("withdrawn item: %v", err)
	}
	if ins, err := s.AddShare(ctx, it); err != nil || ins {
		t.Fatalf("a late share brought the item back: %v %v", ins, err)
	}
	if err := s.SetHolder(ctx, g, id, "bob", true, now.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("holder of a withdrawn item: %v", err)
	}
	if cs, _ := s.LocalCopies(ctx, "ab", true); len(cs) != 0 {
		t.Fatalf("withdrawn item still served: %+v", cs)
	}
	if items, err := s.Library(ctx, g); err != nil || len(items) != 0 {
		t.Fatalf("library %+v %v", items, err)
	}
}
