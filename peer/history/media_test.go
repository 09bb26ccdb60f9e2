package history

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestMediaTransfers: a transfer and its link to a message are recorded
// together, once; the id of another transfer is refused; the links of a
// message are listed, and CopyState follows its copy.
func TestMediaTransfers(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	msg := strings.Repeat("1", 32)
	if _, err := s.AddOutgoing(ctx, Message{ID: msg, Conversation: Direct("carol"), From: "bob", Kind: "image", Body: "p.jpg",
		Sent: time.Now()}, []string{"carol"}); err != nil {
		t.Fatal(err)
	}
	mt := MediaTransfer{Transfer: strings.Repeat("2", 32), Sender: "bob", Message: msg, SHA256: strings.Repeat("ab", 32), Size: 300 << 10}
	tr := Transfer{ID: mt.Transfer, Outgoing: true, Peer: "carol", State: TransferQueued, Paths: []string{"/m/x"}, Name: "p.jpg", Files: 1, Total: mt.Size}
	if ok, err := s.AddMediaTransfer(ctx, mt, tr); !ok || err != nil {
		t.Fatalf("add: %v, %v", ok, err)
	}
	if ok, err := s.AddMediaTransfer(ctx, mt, tr); ok || err != nil {
		t.Fatalf("add again: %v, %v, want no change", ok, err)
	}
	other := mt
	other.Size++
	if _, err := s.AddMediaTransfer(ctx, other, tr); !errors.Is(err, ErrConflict) {
		t.Fatalf("another link with the same id: %v", err)
	}
	plain := Transfer{ID: strings.Repeat("3", 32), Peer: "carol", State: TransferOffered, Created: time.Now()}
	if err := s.AddTransfer(ctx, plain); err != nil {
		t.Fatal(err)
	}
	taken := mt
	taken.Transfer = plain.ID
	tr.ID = plain.ID
	if _, err := s.AddMediaTransfer(ctx, taken, tr); !errors.Is(err, ErrConflict) {
		t.Fatalf("a link over a plain transfer: %v", err)
	}
	if _, err := s.MediaTransferOf(ctx, plain.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a plain transfer's link: %v", err)
	}
	if got, err := s.MediaTransferOf(ctx, mt.Transfer); err != nil || got != mt {
		t.Fatalf("link: %+v, %v", got, err)
	}
	if got, err := s.MediaTransfersOf(ctx, "bob", msg); err != nil || len(got) != 1 || got[0] != mt {
		t.Fatalf("links of the message: %+v, %v", got, err)
	}
	if rec, err := s.Transfer(ctx, mt.Transfer); err != nil || rec.Total != mt.Size || len(rec.Paths) != 1 {
		t.Fatalf("the transfer: %+v, %v", rec, err)
	}
	bad := mt
	bad.Transfer, bad.SHA256 = strings.Repeat("4", 32), "not hex"
	tr.ID = bad.Transfer
	if _, err := s.AddMediaTransfer(ctx, bad, tr); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a link with a bad sha256: %v", err)
	}

	if st, err := s.CopyState(ctx, msg, "carol"); err != nil || st != StateQueued {
		t.Fatalf("copy: %s, %v", st, err)
	}
	if err := s.Delivered(ctx, msg, "carol"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.CopyState(ctx, msg, "carol"); err != nil || st != StateDelivered {
		t.Fatalf("copy: %s, %v", st, err)
	}
	if _, err := s.CopyState(ctx, msg, "dave"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no copy: %v", err)
	}
}
