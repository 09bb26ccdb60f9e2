package history

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/sqlitedb"
)

// grp is the test group's conversation.
var grp = Group(gid)

// inGroup makes an incoming group message from user, at t0+d.
func inGroup(n int, from, body string, d time.Duration) Message {
	return Message{ID: id(n), Conversation: grp, From: from, Body: body, Sent: at(d), Received: at(d), Via: ViaDirect}
}

func TestEditKeepsEveryVersion(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, in(1, "alice", "lunch at noon?", 0))

	edit := func(n int, body string, d time.Duration) Edit {
		return Edit{Conversation: Direct("alice"), From: "alice", ID: id(n), Target: id(1), Body: body, Sent: at(d), Received: at(d)}
	}
	// Two edits arriving in the wrong order: the later one shows.
	ok, err := s.AddEdit(ctx, edit(3, "lunch at 1:30?", 2*time.Minute))
	mustNil(t, err)
	if !ok {
		t.Fatal("edit not applied")
	}
	ok, err = s.AddEdit(ctx, edit(2, "lunch at 1?", time.Minute))
	mustNil(t, err)
	if !ok {
		t.Fatal("older edit not kept")
	}
	// A redelivered edit changes nothing.
	ok, err = s.AddEdit(ctx, edit(2, "lunch at 1?", time.Minute))
	mustNil(t, err)
	if ok {
		t.Fatal("redelivered edit applied twice")
	}
	m, err := s.Message(ctx, "alice", id(1))
	mustNil(t, err)
	if m.Body != "lunch at 1:30?" || !m.Edited.Equal(at(2*time.Minute)) {
		t.Fatalf("shows %q edited %v", m.Body, m.Edited)
	}
	vs, err := s.Versions(ctx, "alice", id(1))
	mustNil(t, err)
	var bodies []string
	for _, v := range vs {
		bodies = append(bodies, v.Body)
	}
	if want := []string{"lunch at noon?", "lunch at 1?", "lunch at 1:30?"}; !reflect.DeepEqual(bodies, want) {
		t.Fatalf("versions %q, want %q", bodies, want)
	}
	if vs[0].Edit != "" || vs[1].Edit != id(2) {
		t.Fatalf("version ids %q %q", vs[0].Edit, vs[1].Edit)
	}
	// Search finds the text that shows.
	found, err := s.Search(ctx, "1:30", "", 10)
	mustNil(t, err)
	if len(found) != 1 || found[0].ID != id(1) {
		t.Fatalf("search found %v", found)
	}
}

// TestEditOwnMessage edits and recalls a message this user sent, as the
// sender's daemon records its own edits.
func TestEditOwnMessage(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	_, err := s.AddOutgoing(ctx, out(1, grp, "typo", 0), []string{"alice"})
	mustNil(t, err)
	ok, err := s.AddEdit(ctx, Edit{Conversation: grp, From: "self", ID: id(2), Target: id(1), Body: "fixed", Sent: at(time.Minute)})
	mustNil(t, err)
	m, _ := s.Message(ctx, "self", id(1))
	if !ok || m.Body != "fixed" || !m.Outgoing || m.Edited.IsZero() {
		t.Fatalf("own edit: %v %+v", ok, m)
	}
	// Alice's edit naming the same id touches nothing of ours.
	_, err = s.AddEdit(ctx, Edit{Conversation: grp, From: "alice", ID: id(3), Target: id(1), Body: "mine now", Sent: at(time.Minute)})
	wantErr(t, err, ErrNotFound)
}

func TestEditAndRecallOnlyBySenderInTime(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, inGroup(1, "alice", "the plan", 0))
	addIn(t, s, in(2, "bob", "hello", 0))
	mustNil(t, s.SetSetting(ctx, SettingHideRecalled, "false"))

	// Mallory names alice's message id: (mallory, id) is no message.
	_, err := s.AddEdit(ctx, Edit{Conversation: grp, From: "mallory", ID: id(10), Target: id(1), Body: "hacked", Sent: at(time.Minute)})
	wantErr(t, err, ErrNotFound)
	_, err = s.Recall(ctx, grp, "mallory", id(1), at(time.Minute))
	wantErr(t, err, ErrNotFound)
	// Alice cannot edit from another conversation.
	_, err = s.AddEdit(ctx, Edit{Conversation: Direct("alice"), From: "alice", ID: id(11), Target: id(1), Body: "x", Sent: at(time.Minute)})
	wantErr(t, err, ErrInvalid)
	// Nor after 24 hours.
	_, err = s.AddEdit(ctx, Edit{Conversation: grp, From: "alice", ID: id(12), Target: id(1), Body: "x", Sent: at(25 * time.Hour)})
	wantErr(t, err, ErrTooLate)
	_, err = s.Recall(ctx, grp, "alice", id(1), at(25*time.Hour))
	wantErr(t, err, ErrTooLate)

	m, _ := s.Message(ctx, "alice", id(1))
	if m.Body != "the plan" || !m.Recalled.IsZero() {
		t.Fatalf("refused edits changed the message: %+v", m)
	}

	// Alice recalls in time: the text stays (anti-recall).
	ok, err := s.Recall(ctx, grp, "alice", id(1), at(time.Hour))
	mustNil(t, err)
	if !ok {
		t.Fatal("recall not applied")
	}
	ok, err = s.Recall(ctx, grp, "alice", id(1), at(2*time.Hour))
	mustNil(t, err)
	if ok {
		t.Fatal("second recall applied")
	}
	m, _ = s.Message(ctx, "alice", id(1))
	if m.Body != "the plan" || !m.Recalled.Equal(at(time.Hour)) {
		t.Fatalf("recalled message: %+v", m)
	}
	if m.Shown(false) != "the plan" || m.Shown(true) != "" {
		t.Fatalf("shown: %q / %q", m.Shown(false), m.Shown(true))
	}
	// A recalled message is not edited any more.
	_, err = s.AddEdit(ctx, Edit{Conversation: grp, From: "alice", ID: id(13), Target: id(1), Body: "x", Sent: at(time.Hour)})
	wantErr(t, err, ErrInvalid)
	// History returns it with its mark.
	h, err := s.History(ctx, grp, 10, "")
	mustNil(t, err)
	if len(h) != 1 || h[0].Recalled.IsZero() || h[0].Body != "the plan" {
		t.Fatalf("history: %+v", h)
	}
}

func TestEditBounds(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, in(1, "alice", "v0", 0))
	img := in(2, "alice", "photo.jpg", 0)
	img.Kind, img.Meta = "image", `{"name":"photo.jpg"}`
	addIn(t, s, img)
	_, err := s.AddEdit(ctx, Edit{Conversation: Direct("alice"), From: "alice", ID: id(100), Target: id(2), Body: "x", Sent: at(0)})
	wantErr(t, err, ErrInvalid)
	got, _ := s.Message(ctx, "alice", id(2))
	if got.Meta != img.Meta || got.Kind != "image" {
		t.Fatalf("meta not kept: %+v", got)
	}
	for i := 1; i < MaxVersions; i++ {
		_, err := s.AddEdit(ctx, Edit{Conversation: Direct("alice"), From: "alice", ID: id(100 + i), Target: id(1), Body: "v", Sent: at(time.Duration(i))})
		mustNil(t, err)
	}
	_, err = s.AddEdit(ctx, Edit{Conversation: Direct("alice"), From: "alice", ID: id(999), Target: id(1), Body: "v", Sent: at(time.Hour)})
	wantErr(t, err, ErrInvalid)
}

func TestReactions(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, inGroup(1, "alice", "cake in the kitchen", 0))
	react := func(n int, who, emoji string, on bool, d time.Duration) bool {
		t.Helper()
		changed, err := s.React(ctx, Reaction{Conversation: grp, Reactor: who, ID: id(n), TargetFrom: "alice", Target: id(1),
			Emoji: emoji, On: on, Sent: at(d)})
		mustNil(t, err)
		return changed
	}
	if !react(10, "bob", "👍", true, 1) {
		t.Fatal("first reaction did not change anything")
	}
	react(11, "carol", "🎉", true, 2)
	react(12, "carol", "👍", true, 3)
	if react(12, "carol", "👍", true, 3) {
		t.Fatal("redelivered reaction changed something")
	}
	// Bob takes his back; an older add arriving late does not bring it
	// back.
	if !react(13, "bob", "👍", false, 10) {
		t.Fatal("take-back did not change anything")
	}
	if react(14, "bob", "👍", true, 5) {
		t.Fatal("an older reaction won over a newer one")
	}
	got, err := s.Reactions(ctx, "alice", id(1))
	mustNil(t, err)
	want := []ReactionCount{{Emoji: "🎉", Users: []string{"carol"}}, {Emoji: "👍", Users: []string{"carol"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reactions %+v, want %+v", got, want)
	}
	// A reaction to a message not in the conversation, or unknown.
	_, err = s.React(ctx, Reaction{Conversation: Direct("alice"), Reactor: "alice", ID: id(20), TargetFrom: "alice", Target: id(1), Emoji: "👍", On: true, Sent: at(0)})
	wantErr(t, err, ErrInvalid)
	_, err = s.React(ctx, Reaction{Conversation: grp, Reactor: "bob", ID: id(21), TargetFrom: "alice", Target: id(99), Emoji: "👍", On: true, Sent: at(0)})
	wantErr(t, err, ErrNotFound)
	// One user has at most MaxReactionsPerUser emoji on a message.
	emoji := []rune("😀😁😂😃😄😅😆😇😈😉😊😋😌😍😎😏😐")
	for i, e := range emoji {
		_, err := s.React(ctx, Reaction{Conversation: grp, Reactor: "dave", ID: id(30 + i), TargetFrom: "alice", Target: id(1), Emoji: string(e), On: true, Sent: at(0)})
		if i < MaxReactionsPerUser {
			mustNil(t, err)
		} else {
			wantErr(t, err, ErrInvalid)
		}
	}
}

func TestReadReceipts(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	members := []string{"alice", "bob", "carol", "dave", "erin"}
	_, err := s.AddOutgoing(ctx, out(1, grp, "meeting moved to 3", 0), members)
	mustNil(t, err)
	_, err = s.AddOutgoing(ctx, out(2, Direct("alice"), "hi", 0), []string{"alice"})
	mustNil(t, err)

	n, err := s.MarkReadBy(ctx, grp, "alice", []string{id(1)}, at(time.Minute))
	mustNil(t, err)
	if n != 1 {
		t.Fatalf("marked %d", n)
	}
	s.MarkReadBy(ctx, grp, "bob", []string{id(1)}, at(2*time.Minute))
	s.MarkReadBy(ctx, grp, "carol", []string{id(1)}, at(3*time.Minute))
	// Redelivered, someone not a recipient, the wrong conversation, an
	// unknown id: all ignored.
	for _, tc := range []struct {
		conv, who string
		ids       []string
	}{
		{grp, "alice", []string{id(1)}},
		{grp, "mallory", []string{id(1)}},
		{Direct("alice"), "alice", []string{id(1)}},
		{grp, "alice", []string{id(77)}},
	} {
		n, err := s.MarkReadBy(ctx, tc.conv, tc.who, tc.ids, at(time.Hour))
		mustNil(t, err)
		if n != 0 {
			t.Fatalf("%+v marked %d", tc, n)
		}
	}
	readers, of, err := s.ReadBy(ctx, id(1))
	mustNil(t, err)
	if !reflect.DeepEqual(readers, []string{"alice", "bob", "carol"}) || of != 5 {
		t.Fatalf("read by %v of %d", readers, of)
	}
	// A read copy is delivered too: the direct message becomes delivered.
	mustNil(t, s.Done(ctx, id(2), "alice", ViaRelay))
	_, err = s.MarkReadBy(ctx, Direct("alice"), "alice", []string{id(2)}, at(time.Minute))
	mustNil(t, err)
	m, _ := s.Message(ctx, "self", id(2))
	if m.State != StateDelivered {
		t.Fatalf("read direct message is %s", m.State)
	}
	_, err = s.MarkReadBy(ctx, grp, "alice", make([]string, MaxReadIDs+1), at(0))
	wantErr(t, err, ErrInvalid)
}

func TestMarkSeen(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, inGroup(1, "alice", "one", 0))
	addIn(t, s, inGroup(2, "bob", "two", 1))
	addIn(t, s, inGroup(3, "alice", "three", 2))
	_, err := s.AddOutgoing(ctx, out(4, grp, "mine", 3), []string{"alice"})
	mustNil(t, err)
	seen, err := s.MarkSeen(ctx, grp, at(time.Minute))
	mustNil(t, err)
	want := map[string][]string{"alice": {id(1), id(3)}, "bob": {id(2)}}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("seen %v, want %v", seen, want)
	}
	again, err := s.MarkSeen(ctx, grp, at(2*time.Minute))
	mustNil(t, err)
	if len(again) != 0 {
		t.Fatalf("seen twice: %v", again)
	}
	recent, _ := s.Recent(ctx, 10)
	if recent[0].Unread != 0 {
		t.Fatalf("unread %d after MarkSeen", recent[0].Unread)
	}
}

func TestMentionsMuteAndSettings(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, inGroup(1, "alice", "@self look", 0))
	addIn(t, s, inGroup(2, "bob", "nothing", 1))
	addIn(t, s, in(3, "carol", "@self hi", 2))
	mustNil(t, s.MarkMentioned(ctx, "alice", id(1)))
	mustNil(t, s.MarkMentioned(ctx, "alice", id(1)))
	mustNil(t, s.MarkMentioned(ctx, "carol", id(3)))
	wantErr(t, s.MarkMentioned(ctx, "alice", id(9)), ErrNotFound)
	ms, err := s.Mentions(ctx, 10, "")
	mustNil(t, err)
	if len(ms) != 2 || ms[0].ID != id(1) || ms[1].ID != id(3) {
		t.Fatalf("mentions %+v", ms)
	}
	for _, c := range []struct {
		from string
		n    int
		want bool
	}{{"alice", 1, true}, {"bob", 2, false}, {"carol", 3, true}, {"bob", 1, false}} {
		if got, err := s.Mentioned(ctx, c.from, id(c.n)); err != nil || got != c.want {
			t.Errorf("Mentioned(%s, %s) = %v, %v; want %v", c.from, id(c.n), got, err, c.want)
		}
	}
	page, err := s.Mentions(ctx, 10, id(3))
	mustNil(t, err)
	if len(page) != 1 || page[0].ID != id(1) {
		t.Fatalf("page before %s: %+v", id(3), page)
	}

	mustNil(t, s.SetMuted(ctx, grp, true))
	if m, _ := s.Muted(ctx, grp); !m {
		t.Fatal("not muted")
	}
	if m, _ := s.Muted(ctx, Direct("carol")); m {
		t.Fatal("carol muted")
	}
	recent, _ := s.Recent(ctx, 10)
	for _, c := range recent {
		if c.Muted != (c.Conversation == grp) {
			t.Fatalf("%s muted %v", c.Conversation, c.Muted)
		}
		if c.Conversation == grp && c.Unread != 2 {
			t.Fatalf("muted group counts %d unread", c.Unread)
		}
	}
	mustNil(t, s.SetMuted(ctx, grp, false))
	if m, _ := s.Muted(ctx, grp); m {
		t.Fatal("still muted")
	}

	st, err := s.Settings(ctx)
	mustNil(t, err)
	if st != (Settings{HideRecalled: false, SendReadReceipts: true, ShareKeep: true}) {
		t.Fatalf("defaults %+v", st)
	}
	mustNil(t, s.SetSetting(ctx, SettingHideRecalled, "true"))
	mustNil(t, s.SetSetting(ctx, SettingSendReadReceipts, "false"))
	mustNil(t, s.SetSetting(ctx, SettingShareKeep, "false"))
	st, _ = s.Settings(ctx)
	if st != (Settings{HideRecalled: true, SendReadReceipts: false, ShareKeep: false}) {
		t.Fatalf("settings %+v", st)
	}
	wantErr(t, s.SetSetting(ctx, "colour", "blue"), ErrInvalid)
	wantErr(t, s.SetSetting(ctx, SettingHideRecalled, "yes"), ErrInvalid)
	wantErr(t, s.SetSetting(ctx, SettingHideRecalled, "1"), ErrInvalid)
}

// TestMigrateRich opens a history of schema 5 with messages in it: after
// the migration, the messages stored before count as seen (no flood of
// read receipts for old messages), and the rich columns are empty.
func TestMigrateRich(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v5.db")
	db, err := sqlitedb.Open(ctx, path, sqlitedb.Options{Migrations: migrations[:5]})
	mustNil(t, err)
	for _, stmt := range []string{
		`INSERT INTO conversations (id) VALUES ('u:alice')`,
		`INSERT INTO messages (seq, id, conversation, sender, kind, body, sent, received, outgoing, state)
			VALUES (1, '` + id(1) + `', 'u:alice', 'alice', 'text', 'old news', 1, 7, 0, 'received')`,
	} {
		_, err := db.Writer().ExecContext(ctx, stmt)
		mustNil(t, err)
	}
	mustNil(t, db.Close())
	s, err := Open(ctx, path)
	mustNil(t, err)
	defer s.Close()
	seen, err := s.MarkSeen(ctx, Direct("alice"), at(0))
	mustNil(t, err)
	if len(seen) != 0 {
		t.Fatalf("old message owes a read receipt: %v", seen)
	}
	m, err := s.Message(ctx, "alice", id(1))
	mustNil(t, err)
	if m.Meta != "" || !m.Edited.IsZero() || !m.Recalled.IsZero() || m.Body != "old news" {
		t.Fatalf("migrated message %+v", m)
	}
	addIn(t, s, in(2, "alice", "new", 0))
	seen, _ = s.MarkSeen(ctx, Direct("alice"), at(0))
	if !reflect.DeepEqual(seen, map[string][]string{"alice": {id(2)}}) {
		t.Fatalf("seen %v", seen)
	}
}
