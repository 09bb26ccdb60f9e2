package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// byID returns the message id of u's history with target.
func (u *user) byID(t *testing.T, target, id string) api.Message {
	t.Helper()
	for _, m := range u.history(t, target) {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("%s has no message %s with %s", u.name, id, target)
	return api.Message{}
}

// waitShown waits until u's copy of message id with target satisfies ok.
func (u *user) waitShown(t *testing.T, target, id string, what string, ok func(api.Message) bool) api.Message {
	t.Helper()
	var m api.Message
	eventually(t, 15*time.Second, func() (bool, string) {
		for _, x := range u.history(t, target) {
			if x.ID == id {
				m = x
				return ok(m), fmt.Sprintf("%s's copy of %s is %+v, want %s", u.name, id, m, what)
			}
		}
		return false, fmt.Sprintf("%s has no message %s", u.name, id)
	})
	return m
}

// historyLine returns the line of `lanchat history TARGET --ids` for id.
func (u *user) historyLine(t *testing.T, target, id string) string {
	t.Helper()
	for _, l := range strings.Split(u.must(t, "history", target, "--ids"), "\n") {
		if strings.HasPrefix(l, id+" ") {
			return l
		}
	}
	t.Fatalf("%s: no history line for %s", u.name, id)
	return ""
}

func reactedBy(m api.Message, emoji string, users ...string) bool {
	for _, r := range m.Reactions {
		if r.Emoji == emoji {
			return r.Count == len(users) && strings.Join(r.Users, ",") == strings.Join(users, ",")
		}
	}
	return len(users) == 0
}

// TestRichReplyReactEditRecall has alice and bob reply, react, edit and
// recall through the CLI, directly and through the relay, and checks what
// each side shows; anti-recall keeps a recalled text until bob hides
// recalled messages; bob may not recall alice's message.
func TestRichReplyReactEditRecall(t *testing.T) {
	_, alice, bob := startFriends(t)

	var res api.SendResult
	alice.mustJSON(t, &res, "send", "bob", "lunch at noon?")
	orig := res.ID
	bob.waitMessage(t, "alice", "lunch at noon?", 10*time.Second)

	// Reply, with --reply-to after the target.
	bob.mustJSON(t, &res, "send", "alice", "--reply-to", orig, "sure")
	reply := res.ID
	got := alice.waitShown(t, "bob", reply, "a reply quoting "+orig, func(m api.Message) bool {
		return m.Kind == "reply" && m.Reply != nil && m.Reply.ID == orig && m.Reply.From == "alice" &&
			m.Reply.Excerpt == "lunch at noon?" && m.Text == "sure"
	})
	if got.From != "bob" {
		t.Fatalf("reply from %q", got.From)
	}
	if l := alice.historyLine(t, "bob", reply); !strings.Contains(l, "↪ alice: lunch at noon? | sure") {
		t.Fatalf("alice's history shows the reply as %q", l)
	}
	// A reply to a message of another conversation is refused.
	if e := bob.fails(t, "send", "--reply-to", strings.Repeat("ab", 16), "alice", "x"); !strings.Contains(e, "no message") {
		t.Fatalf("reply to an unknown message: %q", e)
	}

	// Reactions: both react, each sees two; bob's second react toggles his off.
	bob.must(t, "react", orig, "👍")
	alice.waitShown(t, "bob", orig, "👍 by bob", func(m api.Message) bool { return reactedBy(m, "👍", "bob") })
	alice.must(t, "react", orig, "👍")
	bob.waitShown(t, "alice", orig, "👍 by bob and alice", func(m api.Message) bool { return reactedBy(m, "👍", "bob", "alice") })
	if l := bob.historyLine(t, "alice", orig); !strings.Contains(l, "👍 2") {
		t.Fatalf("bob's history shows %q, want 👍 2", l)
	}
	bob.must(t, "react", orig, "👍")
	alice.waitShown(t, "bob", orig, "👍 by alice only", func(m api.Message) bool { return reactedBy(m, "👍", "alice") })
	if e := bob.fails(t, "react", orig, "nice"); !strings.Contains(e, "emoji") {
		t.Fatalf("a word as a reaction: %q", e)
	}

	// Edit: bob sees the new text, marked edited; only the sender edits.
	alice.must(t, "edit", orig, "lunch at one?")
	m := bob.waitShown(t, "alice", orig, "edited", func(m api.Message) bool { return m.Text == "lunch at one?" && !m.Edited.IsZero() })
	if !reactedBy(m, "👍", "alice") {
		t.Fatalf("the edit lost the reactions: %+v", m.Reactions)
	}
	if l := bob.historyLine(t, "alice", orig); !strings.Contains(l, "lunch at one?  (edited)") {
		t.Fatalf("bob's history shows %q", l)
	}
	if e := bob.fails(t, "edit", orig, "hijacked"); !strings.Contains(e, "only its sender") {
		t.Fatalf("bob editing alice's message: %q", e)
	}

	// Recall by someone who is not the sender is refused.
	if e := bob.fails(t, "recall", orig); !strings.Contains(e, "only its sender") {
		t.Fatalf("bob recalling alice's message: %q", e)
	}

	// Recall through the relay while bob is away; anti-recall keeps the text.
	alice.mustJSON(t, &res, "send", "bob", "the secret plan")
	secret := res.ID
	bob.waitMessage(t, "alice", "the secret plan", 10*time.Second)
	bob.stop(t)
	alice.must(t, "recall", secret)
	if m := alice.byID(t, "bob", secret); m.Recalled.IsZero() {
		t.Fatalf("alice's own copy is not marked recalled: %+v", m)
	}
	if e := alice.fails(t, "edit", secret, "too late"); !strings.Contains(e, "recalled") {
		t.Fatalf("editing a recalled message: %q", e)
	}
	bob.start(t)
	m = bob.waitShown(t, "alice", secret, "recalled", func(m api.Message) bool { return !m.Recalled.IsZero() })
	if m.Text != "the secret plan" {
		t.Fatalf("anti-recall: bob's copy shows %q, want the original text", m.Text)
	}
	if l := bob.historyLine(t, "alice", secret); !strings.Contains(l, "the secret plan  [recalled by the sender]") {
		t.Fatalf("bob's history shows %q", l)
	}
	if out := bob.must(t, "settings", "set", "hide-recalled", "true"); !strings.Contains(out, "hide-recalled       true") {
		t.Fatalf("settings set: %q", out)
	}
	if m := bob.byID(t, "alice", secret); m.Text != "" || m.Recalled.IsZero() {
		t.Fatalf("hide-recalled: bob's copy shows %+v", m)
	}
	if l := bob.historyLine(t, "alice", secret); strings.Contains(l, "secret") || !strings.Contains(l, "[recalled by the sender; hidden]") {
		t.Fatalf("bob's history with hide-recalled shows %q", l)
	}
	bob.must(t, "settings", "set", "hide-recalled", "false")
	if m := bob.byID(t, "alice", secret); m.Text != "the secret plan" {
		t.Fatalf("nothing is deleted: after showing recalled again bob's copy shows %q", m.Text)
	}
}

// TestRichForgedRecallDropped has mallory, a crafted client that is
// bob's friend, relay a recall, an edit and a reaction naming alice's
// message in bob's history: the recall and the edit name mallory's own
// (absent) message and change nothing; the reaction names a message of
// another conversation and is dropped. Each is acknowledged (the relay
// does not stall), and mallory's next text arrives.
func TestRichForgedRecallDropped(t *testing.T) {
	srv, alice, bob := startFriends(t)
	mallory := newPeer(t, "mallory")
	mallory.register(t, srv)
	mallory.call(t, wire.OpFriendRequest, wire.UserRequest{Username: "bob"}, nil)
	bob.must(t, "friend", "accept", "mallory")

	var res api.SendResult
	alice.mustJSON(t, &res, "send", "bob", "keep this")
	orig := res.ID
	bob.waitMessage(t, "alice", "keep this", 10*time.Second)

	var kr wire.KeysResponse
	mallory.call(t, wire.OpKeysGet, wire.UserRequest{Username: "bob"}, &kr)
	send := func(kind, body string) string {
		var b [16]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		env, err := envelope.Seal(envelope.Message{ID: id, From: "mallory", To: "bob", Sent: time.Now(), Kind: kind, Body: []byte(body)},
			mallory.identity, kr.Prekey)
		if err != nil {
			t.Fatal(err)
		}
		var resp wire.RelaySendResponse
		mallory.call(t, wire.OpRelaySend, relayOne("bob", id, env), &resp)
		if relayStatus(resp) != "queued" && relayStatus(resp) != "delivered" {
			t.Fatalf("relay %s: %q", kind, relayStatus(resp))
		}
		return id
	}
	send("recall", `{"to":"`+orig+`"}`)
	send("edit", `{"to":"`+orig+`","text":"forged"}`)
	send("reaction", `{"to":{"from":"alice","id":"`+orig+`"},"emoji":"💩","on":true}`)
	send("reply", `{"text":"bad quote","quote":{"from":"alice","id":"`+orig+`","kind":"text"}}`)
	send("edit", `not json`)
	// mallory's own message, edited, reacted to and answered: relayed
	// actions are applied when they are allowed.
	own := send("text", "mallory's own")
	send("edit", `{"to":"`+own+`","text":"mallory's own, edited"}`)
	send("reaction", `{"to":{"from":"mallory","id":"`+own+`"},"emoji":"🎉","on":true}`)
	send("reply", `{"text":"good quote","quote":{"from":"mallory","id":"`+own+`","kind":"text","excerpt":"mallory's own"}}`)
	send("text", "after the forgeries")
	bob.waitMessage(t, "mallory", "after the forgeries", 20*time.Second)
	mine := bob.waitShown(t, "mallory", own, "edited and reacted to", func(m api.Message) bool {
		return m.Text == "mallory's own, edited" && !m.Edited.IsZero() && reactedBy(m, "🎉", "mallory")
	})
	if mine.Recalled.IsZero() != true {
		t.Fatalf("mallory's own message recalled: %+v", mine)
	}
	if ms := withText(bob.history(t, "mallory"), "good quote"); len(ms) != 1 || ms[0].Reply == nil || ms[0].Reply.ID != own {
		t.Fatalf("mallory's valid reply: %+v", ms)
	}
	m := bob.byID(t, "alice", orig)
	if m.Text != "keep this" || !m.Recalled.IsZero() || !m.Edited.IsZero() || len(m.Reactions) != 0 {
		t.Fatalf("forged actions changed alice's message: %+v", m)
	}
	if ms := withText(bob.history(t, "mallory"), "bad quote"); len(ms) != 0 {
		t.Fatalf("a reply quoting another conversation was kept: %+v", ms)
	}
}

// TestRichReadReceipts: bob reading the conversation turns alice's
// message from delivered to read; with send-read-receipts off bob's
// reading tells alice nothing (his later message, which leaves after any
// receipt would, arrives with hers still delivered).
func TestRichReadReceipts(t *testing.T) {
	_, alice, bob := startFriends(t)
	alice.must(t, "send", "bob", "are you there?")
	alice.waitState(t, "bob", "are you there?", "delivered", 10*time.Second)
	bob.waitMessage(t, "alice", "are you there?", 10*time.Second) // reads the history
	eventually(t, 15*time.Second, func() (bool, string) {
		ms := withText(alice.history(t, "bob"), "are you there?")
		return len(ms) == 1 && len(ms[0].ReadBy) == 1 && ms[0].ReadBy[0] == "bob" && ms[0].Recipients == 1,
			fmt.Sprintf("alice's message: %+v, want read by bob", ms)
	})
	if out := alice.must(t, "history", "bob"); !strings.Contains(out, "are you there?  (read)") {
		t.Fatalf("alice's history: %q", out)
	}
	// bob's read receipt travels as a message but is no preview of his.
	var cs []api.Conversation
	bob.mustJSON(t, &cs, "recent")
	if len(cs) != 1 || cs[0].Preview != "are you there?" {
		t.Fatalf("bob's recent after reading: %+v", cs)
	}

	bob.must(t, "settings", "set", "send-read-receipts", "false")
	alice.must(t, "send", "bob", "still there?")
	bob.waitMessage(t, "alice", "still there?", 10*time.Second)
	bob.must(t, "send", "alice", "yes")
	alice.waitMessage(t, "bob", "yes", 15*time.Second)
	if ms := withText(alice.history(t, "bob"), "still there?"); len(ms) != 1 || len(ms[0].ReadBy) != 0 || ms[0].State != "delivered" {
		t.Fatalf("with read receipts off alice sees %+v", ms)
	}
}

// TestRichMuteMentions: bob mutes alice (recent says so, unmute undoes
// it); a message that says @bob is listed by lanchat mentions, others not.
func TestRichMuteMentions(t *testing.T) {
	_, alice, bob := startFriends(t)
	alice.must(t, "send", "bob", "plain hello")
	bob.waitMessage(t, "alice", "plain hello", 10*time.Second)
	muted := func() bool {
		var cs []api.Conversation
		bob.mustJSON(t, &cs, "recent")
		for _, c := range cs {
			if c.Target == "alice" {
				return c.Muted
			}
		}
		t.Fatalf("bob has no conversation with alice: %+v", cs)
		return false
	}
	if out := bob.must(t, "mute", "alice"); !strings.Contains(out, "muted alice") || !muted() {
		t.Fatalf("mute: %q, muted %v", out, muted())
	}
	alice.must(t, "send", "bob", "hey @bob, look")
	bob.waitMessage(t, "alice", "hey @bob, look", 10*time.Second)
	var ms []api.Message
	bob.mustJSON(t, &ms, "mentions")
	if len(ms) != 1 || ms[0].Text != "hey @bob, look" || !ms[0].Mentioned {
		t.Fatalf("bob's mentions: %+v", ms)
	}
	if out := bob.must(t, "mentions"); !strings.Contains(out, "(alice) alice: hey @bob, look") {
		t.Fatalf("lanchat mentions: %q", out)
	}
	bob.must(t, "unmute", "alice")
	if muted() {
		t.Fatal("still muted after unmute")
	}
}

// TestRichImageInline: a small picture goes with its thumbnail; bob's
// history shows [image photo.jpg …] and lanchat open writes the same
// bytes alice's daemon sent; what is not a picture is refused.
func TestRichImageInline(t *testing.T) {
	_, alice, bob := startFriends(t)
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(photo, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "notes.jpg")
	os.WriteFile(notes, []byte("not a picture at all"), 0o600)
	if e := alice.fails(t, "send-image", "bob", notes); !strings.Contains(e, "not a picture") {
		t.Fatalf("a text file as a picture: %q", e)
	}

	out := alice.must(t, "send-image", "bob", photo)
	id := strings.Fields(out)[len(strings.Fields(out))-1]
	m := bob.waitShown(t, "alice", id, "an image with a thumbnail", func(m api.Message) bool {
		return m.Kind == "image" && m.Media != nil && len(m.Media.Thumb) > 0
	})
	if m.Media.Width != 400 || m.Media.Height != 300 || m.Media.Name != "photo.jpg" || m.Media.Type != "image/jpeg" {
		t.Fatalf("bob's image: %+v", m.Media)
	}
	if l := bob.historyLine(t, "alice", id); !strings.Contains(l, "[image photo.jpg ") {
		t.Fatalf("bob's history: %q", l)
	}
	path := strings.TrimSpace(bob.must(t, "open", id))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || int64(len(got)) != m.Media.Size {
		t.Fatalf("opened %d bytes, the message says %d", len(got), m.Media.Size)
	}
	if _, err := jpeg.Decode(bytes.NewReader(got)); err != nil {
		t.Fatalf("the opened picture does not decode: %v", err)
	}
}
