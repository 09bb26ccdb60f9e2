package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

func TestTransferBackoffSchedule(t *testing.T) {
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second, transferRetryMax, transferRetryMax}
	for n, w := range want {
		if got := transferBackoff(n); got != w {
			t.Errorf("transferBackoff(%d) = %v, want %v", n, got, w)
		}
	}
	if got := transferBackoff(1 << 20); got != transferRetryMax {
		t.Errorf("transferBackoff(huge) = %v", got)
	}
}

func waitTransfer(t *testing.T, u *unitDaemon, id string, cond func(history.Transfer) bool) history.Transfer {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, err := u.db.Transfer(context.Background(), id)
		if err == nil && cond(rec) {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("transfer %s: %+v, %v", id, rec, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func sample(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "q3.pdf")
	if err := os.WriteFile(p, []byte("report"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSendFileWaitsForAPath: with no direct path the transfer stays
// queued, says why, and is tried again after its back-off; cancelling it
// before it was ever offered owes the receiver nothing.
func TestSendFileWaitsForAPath(t *testing.T) {
	u := newUnitDaemon(t)
	u.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "carol"}}})
	ctx := context.Background()
	if _, err := u.SendFile(ctx, api.SendFileRequest{Target: "carol", Paths: []string{"relative"}}); err == nil {
		t.Error("a relative path was taken")
	}
	if _, err := u.SendFile(ctx, api.SendFileRequest{Target: "carol"}); err == nil {
		t.Error("an empty send-file was taken")
	}
	res, err := u.SendFile(ctx, api.SendFileRequest{Target: "carol", Paths: []string{sample(t)}})
	if err != nil || len(res.Transfers) != 1 {
		t.Fatalf("SendFile = %+v, %v", res, err)
	}
	id := res.Transfers[0].ID
	if tr := res.Transfers[0]; tr.Name != "q3.pdf" || tr.Direction != api.DirectionSend || tr.State != string(history.TransferQueued) {
		t.Errorf("transfer %+v", tr)
	}
	before := time.Now()
	u.transfers.startTransfers(ctx)
	rec := waitTransfer(t, u, id, func(r history.Transfer) bool { return r.Error != "" })
	if rec.State != history.TransferQueued || rec.NextAttempt.Before(before.Add(transferBackoff(0))) {
		t.Errorf("after a try with no path: %+v", rec)
	}
	// Not due: a round leaves it alone.
	u.transfers.startTransfers(ctx)
	time.Sleep(50 * time.Millisecond)
	if again, _ := u.db.Transfer(ctx, id); !again.NextAttempt.Equal(rec.NextAttempt) {
		t.Error("tried again before its time")
	}
	list, err := u.Transfers(ctx)
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("Transfers = %+v, %v", list, err)
	}
	tr, err := u.TransferAction(ctx, id, api.TransferCancel, api.AcceptRequest{})
	if err != nil || tr.State != string(history.TransferCancelled) {
		t.Fatalf("cancel = %+v, %v", tr, err)
	}
	if rec, _ := u.db.Transfer(ctx, id); rec.NoticeOwed {
		t.Error("a transfer never offered owes its receiver a notice")
	}
	if _, err := u.TransferAction(ctx, id, api.TransferCancel, api.AcceptRequest{}); err == nil {
		t.Error("a cancelled transfer was cancelled again")
	}
	if _, err := u.TransferAction(ctx, "nope", api.TransferAccept, api.AcceptRequest{}); err == nil {
		t.Error("an unknown transfer was accepted")
	}
}

func offerFrom(t *testing.T, peer string) *transfer.Request {
	t.Helper()
	o, err := transfer.NewOffer(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	o.ID = transfer.NewID()
	return &transfer.Request{Peer: peer, Offer: o}
}

// TestOfferRules: before this run synced, even a friend's offer waits
// for the user, who accepts it into a folder; after the sync a friend's
// goes straight in; a rejected offer stays rejected.
func TestOfferRules(t *testing.T) {
	u := newUnitDaemon(t)
	u.fake.setSession(false) // the server is away: no wait for a sync
	u.transfers.downloadsDir = t.TempDir()
	u.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "carol"}}})
	ctx := context.Background()

	req := offerFrom(t, "carol")
	decided := make(chan transfer.Decision, 1)
	go func() { decided <- u.transfers.decide(ctx, req) }()
	waitTransfer(t, u, req.Offer.ID, func(r history.Transfer) bool { return r.State == history.TransferOffered })
	select {
	case dec := <-decided:
		t.Fatalf("decided %+v without the user, before the first sync", dec)
	case <-time.After(50 * time.Millisecond):
	}
	dir := t.TempDir()
	tr, err := u.TransferAction(ctx, req.Offer.ID, api.TransferAccept, api.AcceptRequest{Dir: dir})
	if err != nil || tr.Dir != dir {
		t.Fatalf("accept = %+v, %v", tr, err)
	}
	if dec := <-decided; !dec.Accept || dec.Dir != dir {
		t.Errorf("decision %+v, want accepted into %s", dec, dir)
	}

	// Rejected.
	req = offerFrom(t, "carol")
	go func() { decided <- u.transfers.decide(ctx, req) }()
	waitTransfer(t, u, req.Offer.ID, func(r history.Transfer) bool { return r.State == history.TransferOffered })
	if _, err := u.TransferAction(ctx, req.Offer.ID, api.TransferReject, api.AcceptRequest{}); err != nil {
		t.Fatal(err)
	}
	if dec := <-decided; dec.Accept {
		t.Error("a rejected offer was accepted")
	}
	if dec := u.transfers.decide(ctx, req); dec.Accept {
		t.Error("a rejected offer, offered again, was accepted")
	}

	// After the sync, a friend's offer goes straight in.
	if _, err := u.roster.Sync(ctx, serverSays{friends: []string{"carol"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	req = offerFrom(t, "carol")
	if dec := u.transfers.decide(ctx, req); !dec.Accept || dec.Dir != u.transfers.downloadsDir {
		t.Errorf("a friend's offer after the sync: %+v", dec)
	}
	// An id in use for another peer's transfer is refused.
	req.Peer = "dave"
	if dec := u.transfers.decide(ctx, req); dec.Accept {
		t.Error("an offer reusing another peer's id was accepted")
	}
}

func TestProgressIsRecorded(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	req := offerFrom(t, "carol")
	u.transfers.askFiles = true
	u.fake.setSession(false)
	go u.transfers.decide(ctx, req)
	waitTransfer(t, u, req.Offer.ID, func(r history.Transfer) bool { return r.State == history.TransferOffered })
	u.transfers.onProgress(ctx, transfer.Status{ID: req.Offer.ID, Bytes: 3, Total: 6, Rate: 100})
	rec, _ := u.db.Transfer(ctx, req.Offer.ID)
	if rec.Done != 3 || u.transfers.rate(req.Offer.ID) != 0 {
		// Not active: no rate is shown.
		t.Errorf("after progress: done %d, rate %v", rec.Done, u.transfers.rate(req.Offer.ID))
	}
	u.transfers.onProgress(ctx, transfer.Status{ID: req.Offer.ID, Final: true, Err: transfer.ErrRejected})
	if rec, _ := u.db.Transfer(ctx, req.Offer.ID); rec.State != history.TransferRejected {
		t.Errorf("after a final rejection: %s", rec.State)
	}
}
