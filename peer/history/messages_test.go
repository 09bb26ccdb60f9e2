package history

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// count returns the number of rows in a table, read on the writer.
func count(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	mustNil(t, s.w.QueryRow("SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func TestAddIncomingConcurrentRedelivery(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	m := in(1, "alice", "only once", 0)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inserted int
		errs     []error
	)
	for range 50 {
		wg.Go(func() {
			ok, err := s.AddIncoming(ctx, m)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				inserted++
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if inserted != 1 {
		t.Errorf("%d goroutines inserted, want 1", inserted)
	}
	if n := count(t, s, "messages"); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
	r, err := s.Recent(ctx, 10)
	mustNil(t, err)
	if len(r) != 1 || r[0].Unread != 1 {
		t.Errorf("recent = %+v, want one conversation with 1 unread", r)
	}
}

func TestAddIncomingDuplicateChangesNothing(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, in(1, "alice", "original", 0))
	// The same id again, even with another body or time, is a redelivery.
	again := in(1, "alice", "tampered", time.Hour)
	ok, err := s.AddIncoming(ctx, again)
	mustNil(t, err)
	if ok {
		t.Fatal("duplicate inserted")
	}
	m, err := s.Message(ctx, "alice", id(1))
	mustNil(t, err)
	if m.Body != "original" || !m.Sent.Equal(at(0)) || m.State != StateReceived || m.Outgoing {
		t.Errorf("message = %+v", m)
	}
	r, err := s.Recent(ctx, 10)
	mustNil(t, err)
	if r[0].Unread != 1 || !r[0].LastActivity.Equal(at(0)) {
		t.Errorf("recent = %+v", r)
	}
	// The same sender's id in another conversation is a conflict, not a
	// duplicate. The same id from someone else, or sent by us, is another
	// message: a message is (sender, id).
	grp := in(1, "alice", "original", 0)
	grp.Conversation = Group(gid)
	_, err = s.AddIncoming(ctx, grp)
	wantErr(t, err, ErrConflict)
	addIn(t, s, in(1, "bob", "original", 0))
	addOut(t, s, out(1, Direct("alice"), "x", 0), "alice")
	if n := count(t, s, "messages"); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
}

func TestAddIncomingInvalid(t *testing.T) {
	s, _ := openTest(t)
	for name, mod := range map[string]func(*Message){
		"short id":        func(m *Message) { m.ID = "abc" },
		"upper-case id":   func(m *Message) { m.ID = strings.ToUpper(id(0xabc)) },
		"non-hex id":      func(m *Message) { m.ID = strings.Repeat("g", 32) },
		"no conversation": func(m *Message) { m.Conversation = "" },
		"bad prefix":      func(m *Message) { m.Conversation = "x:alice" },
		"bad group":       func(m *Message) { m.Conversation = "g:team" },
		"other's direct":  func(m *Message) { m.Conversation = Direct("bob") },
		"bad sender":      func(m *Message) { m.From = "Alice" },
		"no sent time":    func(m *Message) { m.Sent = time.Time{} },
		"bad kind":        func(m *Message) { m.Kind = "two words" },
		"long kind":       func(m *Message) { m.Kind = strings.Repeat("k", 33) },
		"bad utf-8":       func(m *Message) { m.Body = "\xff\xfe" },
		"bad via":         func(m *Message) { m.Via = "pigeon" },
	} {
		m := in(1, "alice", "hi", 0)
		mod(&m)
		if _, err := s.AddIncoming(context.Background(), m); err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if n := count(t, s, "messages"); n != 0 {
		t.Errorf("%d rows stored", n)
	}
	// Defaults: kind text, received now.
	m := in(1, "alice", "hi", 0)
	m.Received = time.Time{}
	before := time.Now()
	addIn(t, s, m)
	got, err := s.Message(context.Background(), "alice", id(1))
	mustNil(t, err)
	if got.Kind != KindText || got.Received.Before(before) {
		t.Errorf("message = %+v", got)
	}
}

func TestHistoryOrderAndPages(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	// Stored out of sent order: history follows the order of arrival, so
	// no sender's clock reorders it.
	addIn(t, s, in(3, "alice", "three", 3*time.Second))
	addIn(t, s, in(1, "alice", "one", time.Second))
	addOut(t, s, out(2, Direct("alice"), "two", 2*time.Second), "alice")
	addIn(t, s, in(4, "alice", "four", 3*time.Second))
	addIn(t, s, in(5, "alice", "five", 5*time.Second))
	addIn(t, s, in(9, "bob", "elsewhere", 4*time.Second))

	ids := func(ms []Message) string {
		var b strings.Builder
		for _, m := range ms {
			b.WriteString(strings.TrimLeft(m.ID, "0"))
		}
		return b.String()
	}
	h, err := s.History(ctx, Direct("alice"), 10, "")
	mustNil(t, err)
	if got := ids(h); got != "31245" {
		t.Fatalf("history = %s", got)
	}
	if !h[2].Outgoing || h[2].State != StateQueued || h[2].From != "self" {
		t.Errorf("outgoing = %+v", h[2])
	}
	// Pages of two, newest first, each oldest-first.
	var pages []string
	before := ""
	for {
		h, err := s.History(ctx, Direct("alice"), 2, before)
		mustNil(t, err)
		if len(h) == 0 {
			break
		}
		pages = append(pages, ids(h))
		before = h[0].ID
	}
	if got := strings.Join(pages, " "); got != "45 12 3" {
		t.Errorf("pages = %s", got)
	}
	_, err = s.History(ctx, Direct("alice"), 2, id(9)) // not in this conversation
	wantErr(t, err, ErrNotFound)
	if h, err := s.History(ctx, Direct("alice"), 0, ""); err != nil || h != nil {
		t.Errorf("limit 0: %v, %v", h, err)
	}
	if h, err := s.History(ctx, Direct("nobody"), 10, ""); err != nil || h != nil {
		t.Errorf("unknown conversation: %v, %v", h, err)
	}
}

func TestRecentAndMarkRead(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	pin(t, s, "alice", key(1), PinNew)
	mustNil(t, s.SetDisplayName(ctx, "alice", "Alice A."))
	pin(t, s, "bob", key(2), PinNew) // no display name
	mustNil(t, s.SetConversationName(ctx, Group(gid), "team"))

	addIn(t, s, in(1, "alice", "hi", time.Minute))
	addIn(t, s, in(2, "alice", "are you there?\n\n  lunch?", 2*time.Minute))
	addIn(t, s, in(3, "bob", "yo", 3*time.Minute))
	g := in(4, "carol", "team news", 4*time.Minute)
	g.Conversation = Group(gid)
	addIn(t, s, g)
	addOut(t, s, out(5, Direct("bob"), "hey bob", 5*time.Minute), "bob")
	// A message sent long ago but received now counts as activity now,
	// and it is the preview: the preview follows history's order, arrival.
	late := in(6, "alice", "old news", 0)
	late.Received = at(6 * time.Minute)
	addIn(t, s, late)

	r, err := s.Recent(ctx, 10)
	mustNil(t, err)
	want := []ConversationSummary{
		{Conversation: Direct("alice"), Name: "Alice A.", LastActivity: at(6 * time.Minute), Unread: 3, Preview: "old news", PreviewFrom: "alice"},
		{Conversation: Direct("bob"), Name: "bob", LastActivity: at(5 * time.Minute), Unread: 1, Preview: "hey bob", PreviewFrom: "self"},
		{Conversation: Group(gid), Name: "team", LastActivity: at(4 * time.Minute), Unread: 1, Preview: "team news", PreviewFrom: "carol"},
	}
	checkRecent(t, r, want)
	r, err = s.Recent(ctx, 2)
	mustNil(t, err)
	checkRecent(t, r, want[:2])

	mustNil(t, s.MarkRead(ctx, Direct("alice")))
	mustNil(t, s.MarkRead(ctx, Direct("nobody")))
	want[0].Unread = 0
	r, err = s.Recent(ctx, 10)
	mustNil(t, err)
	checkRecent(t, r, want)

	// New mail counts again; an outgoing message does not.
	addIn(t, s, in(7, "alice", "ping", 7*time.Minute))
	addOut(t, s, out(8, Direct("alice"), "pong", 8*time.Minute), "alice")
	want[0].Unread, want[0].LastActivity, want[0].Preview, want[0].PreviewFrom = 1, at(8*time.Minute), "pong", "self"
	r, err = s.Recent(ctx, 10)
	mustNil(t, err)
	checkRecent(t, r, want)
}

func checkRecent(t *testing.T, got, want []ConversationSummary) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("recent = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("recent[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPreview(t *testing.T) {
	long := strings.Repeat("abcdefghij", 10)
	emoji := strings.Repeat("🎉", 100)
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"hello", "hello"},
		{"  line one\n\nline\ttwo \r\n", "line one line two"},
		{"a\x00b\x1bc", "a b c"},
		{"\n\n\n", ""},
		{long[:80], long[:80]},
		{long[:81], long[:79] + "…"},
		{long, long[:79] + "…"},
		{strings.Repeat("word ", 40), strings.TrimSpace(strings.Repeat("word ", 16)) + "…"},
		{emoji, strings.Repeat("🎉", 79) + "…"},
		{"über " + strings.Repeat("ß", 100), "über " + strings.Repeat("ß", 74) + "…"},
	} {
		got := preview(c.in)
		if got != c.want {
			t.Errorf("preview(%q) = %q, want %q", c.in, got, c.want)
		}
		if n := len([]rune(got)); n > PreviewLen || strings.ContainsAny(got, "\n\r\t") {
			t.Errorf("preview(%q) = %q: %d characters", c.in, got, n)
		}
	}
}
