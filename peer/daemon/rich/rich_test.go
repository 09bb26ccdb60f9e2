package rich_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/daemon/rich"
	"github.com/lanchat/lanchat/peer/history"
)

const (
	idA = "0123456789abcdef0123456789abcdef"
	idB = "fedcba9876543210fedcba9876543210"
	idX = "00000000000000000000000000000001"
	idY = "00000000000000000000000000000002"
)

func open(t *testing.T) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seed stores alice's idA in her conversation with this user and
// mallory's idB in his.
func seed(t *testing.T, s *history.Store) time.Time {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for _, m := range []history.Message{
		{ID: idA, Conversation: history.Direct("alice"), From: "alice", Body: "keep this", Sent: now},
		{ID: idB, Conversation: history.Direct("mallory"), From: "mallory", Body: "mine", Sent: now},
	} {
		if _, err := s.AddIncoming(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	return now
}

func TestApplyOnlyTheSenderEditsOrRecalls(t *testing.T) {
	s := open(t)
	now := seed(t, s)
	ctx := context.Background()
	for _, in := range []rich.Incoming{
		{ID: idX, From: "mallory", Conversation: history.Direct("mallory"), Kind: "recall", Body: `{"to":"` + idA + `"}`, Sent: now},
		{ID: idY, From: "mallory", Conversation: history.Direct("mallory"), Kind: "edit", Body: `{"to":"` + idA + `","text":"forged"}`, Sent: now},
		{ID: idX, From: "mallory", Conversation: history.Direct("mallory"), Kind: "reaction",
			Body: `{"to":{"from":"alice","id":"` + idA + `"},"emoji":"💩","on":true}`, Sent: now},
		{ID: idY, From: "alice", Conversation: history.Direct("alice"), Kind: "edit", Body: `not json`, Sent: now},
		{ID: idY, From: "alice", Conversation: history.Direct("alice"), Kind: "recall", Body: `{"to":"` + idA + `"}`, Sent: now.Add(25 * time.Hour)},
	} {
		if _, _, err := rich.Apply(ctx, s, in); !errors.Is(err, rich.ErrRefused) {
			t.Errorf("%s %s by %s: %v, want refused", in.Kind, in.Body, in.From, err)
		}
	}
	m, err := s.Message(ctx, "alice", idA)
	if err != nil {
		t.Fatal(err)
	}
	if m.Body != "keep this" || !m.Recalled.IsZero() || !m.Edited.IsZero() {
		t.Fatalf("refused actions changed the message: %+v", m)
	}
	if rs, _ := s.Reactions(ctx, "alice", idA); len(rs) != 0 {
		t.Fatalf("a reaction from another conversation was kept: %+v", rs)
	}

	// The sender's own recall applies, once; the text stays (anti-recall).
	in := rich.Incoming{ID: idX, From: "alice", Conversation: history.Direct("alice"), Kind: "recall", Body: `{"to":"` + idA + `"}`, Sent: now}
	tg, changed, err := rich.Apply(ctx, s, in)
	if err != nil || !changed || tg != (rich.Target{From: "alice", ID: idA}) {
		t.Fatalf("alice's recall: %v %v %v", tg, changed, err)
	}
	if _, changed, err := rich.Apply(ctx, s, in); err != nil || changed {
		t.Fatalf("redelivered recall: changed %v, %v", changed, err)
	}
	m, _ = s.Message(ctx, "alice", idA)
	if m.Recalled.IsZero() || m.Shown(false) != "keep this" || m.Shown(true) != "" {
		t.Fatalf("recalled message: %+v", m)
	}
}

func TestReplyQuotesOnlyItsConversation(t *testing.T) {
	s := open(t)
	seed(t, s)
	ctx := context.Background()
	bad := rich.Incoming{ID: idX, From: "mallory", Conversation: history.Direct("mallory"), Kind: "reply",
		Body: `{"text":"hi","quote":{"from":"alice","id":"` + idA + `","kind":"text"}}`}
	if _, _, err := rich.Reply(ctx, s, bad); !errors.Is(err, rich.ErrRefused) {
		t.Fatalf("reply quoting another conversation: %v", err)
	}
	// A quote of a message this history lacks is kept, with its excerpt.
	gone := rich.Incoming{ID: idX, From: "alice", Conversation: history.Direct("alice"), Kind: "reply",
		Body: `{"text":"hi","quote":{"from":"alice","id":"` + idY + `","kind":"text","excerpt":"long gone"}}`}
	text, meta, err := rich.Reply(ctx, s, gone)
	if err != nil || text != "hi" {
		t.Fatalf("reply to a missing message: %q %v", text, err)
	}
	if q, ok := rich.ParseQuote(meta); !ok || q.ID != idY || q.Excerpt != "long gone" {
		t.Fatalf("quote kept: %+v %v", q, ok)
	}
}

func TestOwn(t *testing.T) {
	now := time.Now()
	mine := history.Message{From: "alice", Outgoing: true, Sent: now.Add(-time.Hour)}
	if err := rich.Own("alice", mine, now); err != nil {
		t.Fatal(err)
	}
	theirs := history.Message{From: "bob", Sent: now}
	if err := rich.Own("alice", theirs, now); !errors.Is(err, rich.ErrNotSender) {
		t.Fatalf("someone else's: %v", err)
	}
	old := mine
	old.Sent = now.Add(-25 * time.Hour)
	if err := rich.Own("alice", old, now); err == nil || !strings.Contains(err.Error(), "within") {
		t.Fatalf("a day old: %v", err)
	}
}
