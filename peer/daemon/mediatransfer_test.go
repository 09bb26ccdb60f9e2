package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/rich"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// expectPicture makes bob's daemon expect the picture of a message from
// carol that follows as a transfer, and returns the transfer's id.
func expectPicture(t *testing.T, u *unitDaemon, data []byte) string {
	t.Helper()
	sum := sha256.Sum256(data)
	x := transfer.NewID()
	_, meta, err := rich.Encode(content.Image{Name: "big.jpg", Type: "image/jpeg", Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Width: 10, Height: 10, Thumb: []byte{0xff, 0xd8}, ThumbWidth: 10, ThumbHeight: 10, Transfer: x})
	if err != nil {
		t.Fatal(err)
	}
	msg := transfer.NewID()
	if _, err := u.db.AddIncoming(context.Background(), history.Message{ID: msg, Conversation: history.Direct("carol"), From: "carol",
		Kind: content.KindImage, Body: "big.jpg", Meta: meta, Sent: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := u.transfers.expectMedia(context.Background(), "carol", msg, history.Direct("carol"), content.KindImage, meta); err != nil {
		t.Fatal(err)
	}
	return rich.MediaTransferID(x, "bob")
}

// offerOf offers a file holding data under transfer id.
func offerOf(t *testing.T, peer, id string, data []byte) *transfer.Request {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := transfer.NewOffer(p)
	if err != nil {
		t.Fatal(err)
	}
	o.ID = id
	return &transfer.Request{Peer: peer, Offer: o}
}

// TestMediaOfferRules: the offer of an expected picture is taken into
// the media staging folder without asking, even with --ask-files; an
// offer of another size, of two files, or from someone else is refused.
func TestMediaOfferRules(t *testing.T) {
	u := newUnitDaemon(t)
	u.transfers.askFiles = true
	ctx := context.Background()
	pic := []byte(strings.Repeat("picture ", 1000))

	id := expectPicture(t, u, pic)
	if rec, err := u.db.Transfer(ctx, id); err != nil || rec.Outgoing || rec.Peer != "carol" || rec.State != history.TransferWaiting {
		t.Fatalf("expected transfer: %+v, %v", rec, err)
	}
	if dec := u.transfers.decide(ctx, offerOf(t, "dave", id, pic)); dec.Accept {
		t.Error("someone else's offer of the picture was accepted")
	}
	dec := u.transfers.decide(ctx, offerOf(t, "carol", id, pic))
	if !dec.Accept || dec.Dir != mediaStaging(u.home, id) {
		t.Fatalf("the expected picture: %+v", dec)
	}

	id = expectPicture(t, u, pic)
	if dec := u.transfers.decide(ctx, offerOf(t, "carol", id, append(pic, 'x'))); dec.Accept {
		t.Error("an offer of another size was accepted")
	}
	if rec, _ := u.db.Transfer(ctx, id); rec.State != history.TransferFailed {
		t.Errorf("after a wrong offer the transfer is %s", rec.State)
	}
	id = expectPicture(t, u, pic)
	two := offerOf(t, "carol", id, pic)
	if o, err := transfer.NewOffer(filepath.Dir(sample(t))); err == nil {
		two.Offer.Entries = append(two.Offer.Entries, o.Entries...)
	}
	if dec := u.transfers.decide(ctx, two); dec.Accept {
		t.Error("an offer of more than the picture was accepted")
	}
}

// TestKeepReceivedMedia: a received picture enters the media store only
// if its bytes match the message's sha256.
func TestKeepReceivedMedia(t *testing.T) {
	u := newUnitDaemon(t)
	pic := []byte(strings.Repeat("picture ", 1000))
	sum := sha256.Sum256(pic)
	sha := hex.EncodeToString(sum[:])

	receive := func(id string, data []byte) error {
		dir := mediaStaging(u.home, id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		return u.transfers.keepReceivedMedia(&transfer.Result{ID: id, Peer: "carol", Dir: dir, Paths: []string{"f"}})
	}
	forged := append([]byte(nil), pic...)
	forged[0] = 'P'
	if err := receive(expectPicture(t, u, pic), forged); !errors.Is(err, transfer.ErrProtocol) {
		t.Fatalf("forged bytes: %v, want a protocol error", err)
	}
	if hasMedia(u.home, sha, int64(len(pic))) {
		t.Fatal("forged bytes entered the media store")
	}
	id := expectPicture(t, u, pic)
	if m := u.messages.richMessages(context.Background(), mustHistory(t, u)); m[len(m)-1].Media.Full {
		t.Fatal("the message shows its full picture before it came")
	}
	events := make(chan api.Event, 16)
	u.messages.notify = func(ev api.Event) { events <- ev }
	if err := receive(id, pic); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Type != api.EventMessageChanged || ev.Message == nil || ev.Message.Media == nil || !ev.Message.Media.Full ||
			ev.Message.Media.Transfer != id {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("no event says the full picture came")
	}
	if !hasMedia(u.home, sha, int64(len(pic))) {
		t.Fatal("the picture is not in the media store")
	}
	if _, err := os.Stat(mediaStaging(u.home, id)); !os.IsNotExist(err) {
		t.Errorf("the staging folder is left: %v", err)
	}
	// A transfer that brings no picture is left alone.
	if err := u.transfers.keepReceivedMedia(&transfer.Result{ID: transfer.NewID()}); err != nil {
		t.Errorf("a plain transfer: %v", err)
	}
}

// TestMediaTransferWaitsForItsMessage: the sender's transfer of a
// picture starts only once the recipient has the message, and fails if
// the message does.
func TestMediaTransferWaitsForItsMessage(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	add := func() (msg string, rec history.Transfer) {
		msg = transfer.NewID()
		if _, err := u.db.AddOutgoing(ctx, history.Message{ID: msg, Conversation: history.Direct("carol"), From: "bob",
			Kind: content.KindImage, Body: "big.jpg", Sent: time.Now()}, []string{"carol"}); err != nil {
			t.Fatal(err)
		}
		rec = history.Transfer{ID: transfer.NewID(), Outgoing: true, Peer: "carol", State: history.TransferQueued,
			Paths: []string{sample(t)}, Name: "big.jpg", Files: 1, Total: 6, Created: time.Now()}
		if _, err := u.db.AddMediaTransfer(ctx, history.MediaTransfer{Transfer: rec.ID, Sender: "bob", Message: msg,
			SHA256: strings.Repeat("ab", 32), Size: 6}, rec); err != nil {
			t.Fatal(err)
		}
		return msg, rec
	}
	msg, rec := add()
	if u.transfers.mediaReady(ctx, rec) {
		t.Fatal("ready before carol has the message")
	}
	if got, _ := u.db.Transfer(ctx, rec.ID); got.State != history.TransferQueued || !strings.Contains(got.Error, "has the message") {
		t.Errorf("waiting transfer: %+v", got)
	}
	if err := u.db.Done(ctx, msg, "carol", history.ViaRelay); err != nil {
		t.Fatal(err)
	}
	if u.transfers.mediaReady(ctx, rec) {
		t.Fatal("ready while the message sits in the relay")
	}
	if err := u.db.Delivered(ctx, msg, "carol"); err != nil {
		t.Fatal(err)
	}
	if !u.transfers.mediaReady(ctx, rec) {
		t.Fatal("not ready once carol has the message")
	}

	msg, rec = add()
	if err := u.db.Failed(ctx, msg, "carol", "dropped"); err != nil {
		t.Fatal(err)
	}
	if u.transfers.mediaReady(ctx, rec) {
		t.Fatal("ready for a message that failed")
	}
	if got, _ := u.db.Transfer(ctx, rec.ID); got.State != history.TransferFailed {
		t.Errorf("the transfer of a failed message is %s", got.State)
	}
	// A transfer recorded before its message waits for it a while, then
	// fails for want of one.
	for _, age := range []time.Duration{0, 2 * mediaGrace} {
		rec := history.Transfer{ID: transfer.NewID(), Outgoing: true, Peer: "carol", State: history.TransferQueued,
			Paths: []string{sample(t)}, Name: "big.jpg", Files: 1, Total: 6, Created: time.Now().Add(-age)}
		if _, err := u.db.AddMediaTransfer(ctx, history.MediaTransfer{Transfer: rec.ID, Sender: "bob", Message: transfer.NewID(),
			SHA256: strings.Repeat("ab", 32), Size: 6}, rec); err != nil {
			t.Fatal(err)
		}
		if u.transfers.mediaReady(ctx, rec) {
			t.Fatal("ready without its message")
		}
		want := history.TransferQueued
		if age > 0 {
			want = history.TransferFailed
		}
		if got, _ := u.db.Transfer(ctx, rec.ID); got.State != want {
			t.Errorf("a transfer %v old without its message is %s, want %s", age, got.State, want)
		}
	}
	// A plain transfer is not held.
	if !u.transfers.mediaReady(ctx, history.Transfer{ID: transfer.NewID()}) {
		t.Error("a plain transfer was held")
	}
}

// TestSweepMediaAfterRestart: a picture that arrived whole just before
// the daemon stopped, still in its staging folder, enters the media
// store at the next start; a partial file stays where it is.
func TestSweepMediaAfterRestart(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	pic := []byte(strings.Repeat("picture ", 1000))
	sum := sha256.Sum256(pic)
	done, partial := expectPicture(t, u, pic), expectPicture(t, u, pic[:100])
	for id, name := range map[string]string{done: "f", partial: ".f.part"} {
		dir := mediaStaging(u.home, id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pic, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u.transfers.sweepMedia(ctx)
	if !hasMedia(u.home, hex.EncodeToString(sum[:]), int64(len(pic))) {
		t.Fatal("the whole picture did not enter the media store")
	}
	if rec, _ := u.db.Transfer(ctx, done); rec.State != history.TransferDone {
		t.Errorf("its transfer is %s", rec.State)
	}
	if rec, _ := u.db.Transfer(ctx, partial); rec.State != history.TransferWaiting {
		t.Errorf("the partial one's transfer is %s", rec.State)
	}
}

// mustHistory returns bob's history with carol.
func mustHistory(t *testing.T, u *unitDaemon) []history.Message {
	t.Helper()
	ms, err := u.db.History(context.Background(), history.Direct("carol"), 100, "")
	if err != nil || len(ms) == 0 {
		t.Fatalf("history: %d messages, %v", len(ms), err)
	}
	return ms
}
