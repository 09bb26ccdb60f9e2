package daemon

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// fileItems returns the file items of target's history.
func fileItems(t *testing.T, u *unitDaemon, target string) []api.Message {
	t.Helper()
	msgs, err := u.History(context.Background(), target, 50, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var out []api.Message
	for _, m := range msgs {
		if m.Kind == history.KindFile {
			out = append(out, m)
		}
	}
	return out
}

// A send-file is an item of its conversation, in its preview and in
// search, whose state follows the transfer's state changes.
func TestSendFileIsInTheTimeline(t *testing.T) {
	u := newUnitDaemon(t)
	u.roster.Load(history.Roster{Friends: []history.RosterFriend{{Username: "carol"}}})
	ctx := context.Background()
	evs := u.Subscribe(ctx)
	res, err := u.SendFile(ctx, api.SendFileRequest{Target: "carol", Paths: []string{sample(t)}})
	if err != nil || len(res.Transfers) != 1 {
		t.Fatalf("SendFile = %+v, %v", res, err)
	}
	id := res.Transfers[0].ID
	items := fileItems(t, u, "carol")
	if len(items) != 1 {
		t.Fatalf("file items = %+v, want one", items)
	}
	it := items[0]
	want := api.FileItem{ID: id, Name: "q3.pdf", Size: res.Transfers[0].Total, Files: 1, State: "queued",
		Total: res.Transfers[0].Total, Direction: api.DirectionSend}
	if it.Transfer == nil || !reflect.DeepEqual(*it.Transfer, want) || !it.Outgoing || it.From != "bob" || it.Text != "q3.pdf" {
		t.Fatalf("item %+v transfer %+v, want %+v", it, it.Transfer, want)
	}
	waitEvent(t, evs, func(ev api.Event) bool {
		return ev.Type == api.EventMessage && ev.Message.Transfer != nil && ev.Message.Transfer.ID == id
	})

	if _, err := u.TransferAction(ctx, id, api.TransferCancel, api.AcceptRequest{}); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, evs, func(ev api.Event) bool {
		return ev.Type == api.EventMessageChanged && ev.Message.Transfer != nil && ev.Message.Transfer.State == "cancelled"
	})
	if ev.Message.ID != it.ID {
		t.Errorf("changed %s, want the item %s", ev.Message.ID, it.ID)
	}
	if items := fileItems(t, u, "carol"); len(items) != 1 || items[0].Transfer.State != "cancelled" {
		t.Errorf("after cancel: %+v", items)
	}

	recent, err := u.Recent(ctx)
	if err != nil || len(recent) != 1 || recent[0].Preview != "q3.pdf" {
		t.Errorf("recent = %+v, %v", recent, err)
	}
	found, err := u.Search(ctx, "q3", 10)
	if err != nil || len(found) != 1 || found[0].Transfer == nil || found[0].Transfer.ID != id {
		t.Errorf("search = %+v, %v", found, err)
	}
}

// A send to a group is one transfer per member and one item; an offer
// received is an item of the sender's conversation.
func TestFileItemsGroupAndOffer(t *testing.T) {
	u := newUnitDaemon(t)
	u.fake.setSession(false)
	u.roster.Load(history.Roster{
		Friends: []history.RosterFriend{{Username: "carol"}},
		Groups:  []history.RosterGroup{{ID: teamID, Name: "team", Owner: "carol", Members: []string{"bob", "carol", "dave"}}},
	})
	ctx := context.Background()
	res, err := u.SendFile(ctx, api.SendFileRequest{Target: "#team", Paths: []string{sample(t)}})
	if err != nil || len(res.Transfers) != 2 {
		t.Fatalf("SendFile = %+v, %v", res, err)
	}
	items := fileItems(t, u, "#team")
	if len(items) != 1 || items[0].Transfer == nil || len(items[0].Transfer.Transfers) != 2 ||
		items[0].Transfer.Total != 2*res.Transfers[0].Total {
		t.Fatalf("group items = %+v", items)
	}

	req := offerFrom(t, "carol")
	decided := make(chan transfer.Decision, 1)
	go func() { decided <- u.transfers.decide(ctx, req) }()
	waitTransfer(t, u, req.Offer.ID, func(r history.Transfer) bool { return r.State == history.TransferOffered })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if items = fileItems(t, u, "carol"); len(items) > 0 {
			break
		}
	}
	if len(items) != 1 || items[0].Outgoing || items[0].From != "carol" || items[0].Transfer.Direction != api.DirectionReceive ||
		items[0].Transfer.State != "offered" || items[0].Transfer.ID != req.Offer.ID {
		t.Fatalf("offer items = %+v", items)
	}
	// Offered again (the sender retries): still one item.
	if _, err := u.TransferAction(ctx, req.Offer.ID, api.TransferReject, api.AcceptRequest{}); err != nil {
		t.Fatal(err)
	}
	if dec := <-decided; dec.Accept {
		t.Fatal("a rejected offer was accepted")
	}
	u.transfers.decide(ctx, req)
	if items := fileItems(t, u, "carol"); len(items) != 1 || items[0].Transfer.State != "rejected" {
		t.Errorf("after a reject and a new offer: %+v", items)
	}
}

// The state of a group send's item.
func TestSummarise(t *testing.T) {
	tr := func(st history.TransferState, done int64) history.Transfer {
		return history.Transfer{ID: transfer.NewID(), State: st, Done: done, Total: 10, Name: "a"}
	}
	for _, c := range []struct {
		recs []history.Transfer
		want string
	}{
		{[]history.Transfer{tr(history.TransferQueued, 0), tr(history.TransferActive, 5)}, "active"},
		{[]history.Transfer{tr(history.TransferDone, 10), tr(history.TransferWaiting, 5)}, "waiting"},
		{[]history.Transfer{tr(history.TransferRejected, 0), tr(history.TransferDone, 10)}, "done"},
		{[]history.Transfer{tr(history.TransferRejected, 0), tr(history.TransferFailed, 3)}, "failed"},
	} {
		f := summarise(c.recs)
		if f.State != c.want || f.Total != 20 || len(f.Transfers) != 2 {
			t.Errorf("summarise %v = %+v, want state %s", c.recs, f, c.want)
		}
	}
}

// waitEvent returns the first event that matches, failing after a while.
func waitEvent(t *testing.T, evs <-chan api.Event, match func(api.Event) bool) api.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				t.Fatal("event stream closed")
			}
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatal("no matching event")
		}
	}
}
