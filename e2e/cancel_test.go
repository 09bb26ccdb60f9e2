package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestReceiverCancelIsFinal: bob cancels a transfer that waits for alice
// to resume it. His partial file goes at once; when alice's daemon comes
// back, her resume is refused, her transfer ends cancelled with the
// reason, and nothing lands in bob's downloads.
func TestReceiverCancelIsFinal(t *testing.T) {
	_, alice, bob, downloads := pairForFiles(t)
	const size = 256 << 20
	src := filepath.Join(t.TempDir(), "video.mp4")
	randomFile(t, src, size, 21)
	id := alice.sendNoWait(t, "bob", src)
	bob.waitTransfer(t, id, 60*time.Second, "under way", func(tr api.Transfer) bool { return tr.Done >= size/5 })
	alice.stop(t)
	bob.waitTransfer(t, id, 15*time.Second, "waiting", func(tr api.Transfer) bool { return tr.State == api.TransferWaiting })
	if ps := partials(t, downloads); len(ps) != 1 {
		t.Fatalf("partial files while the transfer waits: %v", ps)
	}

	bob.must(t, "cancel", id)
	if ps := partials(t, downloads); len(ps) != 0 {
		t.Fatalf("partial files still there once cancel returned: %v", ps)
	}
	bob.waitTransfer(t, id, 5*time.Second, "cancelled", func(tr api.Transfer) bool { return tr.State == api.TransferCancelled })

	alice.start(t)
	tr := alice.waitTransfer(t, id, 60*time.Second, "cancelled", func(tr api.Transfer) bool { return tr.State == api.TransferCancelled })
	if !strings.Contains(tr.Error, "receiver") {
		t.Errorf("alice's transfer does not say the receiver cancelled it: %q", tr.Error)
	}
	if _, err := os.Stat(filepath.Join(downloads, "video.mp4")); err == nil {
		t.Fatal("the cancelled transfer was completed into bob's downloads")
	}
	if ps := partials(t, downloads); len(ps) != 0 {
		t.Fatalf("partial files after alice's resume: %v", ps)
	}
	if tr := bob.waitTransfer(t, id, time.Second, "cancelled", func(api.Transfer) bool { return true }); tr.State != api.TransferCancelled {
		t.Fatalf("bob's transfer became %s after alice's resume", tr.State)
	}
}

// TestSenderCancelReachesReceiver: alice cancels an offer bob has not
// answered. With both daemons up bob's record says cancelled at once;
// with bob's daemon stopped (and alice's restarted meanwhile) it does as
// soon as bob's is back. Either way bob's accept is refused, not left
// waiting for a sender who will never come.
func TestSenderCancelReachesReceiver(t *testing.T) {
	_, alice, bob, _ := pairForFiles(t, "--ask-files")
	small := filepath.Join(t.TempDir(), "agenda.txt")
	os.WriteFile(small, []byte("agenda\n"), 0o644)
	cancelled := func(tr api.Transfer) bool { return tr.State == api.TransferCancelled }
	offered := func(tr api.Transfer) bool { return tr.State == api.TransferOffered }

	id := alice.sendNoWait(t, "bob", small)
	bob.waitTransfer(t, id, 15*time.Second, "offered", offered)
	alice.must(t, "cancel", id)
	alice.waitTransfer(t, id, 5*time.Second, "cancelled", cancelled)
	tr := bob.waitTransfer(t, id, 15*time.Second, "cancelled", cancelled)
	if !strings.Contains(tr.Error, "alice") {
		t.Errorf("bob's transfer does not say alice cancelled it: %q", tr.Error)
	}
	if errs := bob.fails(t, "accept", id); !strings.Contains(errs, "cancelled") {
		t.Errorf("accept of a cancelled offer: %q", errs)
	}

	// The connection is gone when alice cancels: the next one tells bob.
	id = alice.sendNoWait(t, "bob", small)
	bob.waitTransfer(t, id, 15*time.Second, "offered", offered)
	bob.stop(t)
	alice.must(t, "cancel", id)
	alice.waitTransfer(t, id, 5*time.Second, "cancelled", cancelled)
	alice.stop(t)
	alice.start(t)
	bob.start(t)
	bob.waitTransfer(t, id, 60*time.Second, "cancelled", cancelled)
	if errs := bob.fails(t, "accept", id); !strings.Contains(errs, "cancelled") {
		t.Errorf("accept of a cancelled offer: %q", errs)
	}
	eventually(t, 15*time.Second, func() (bool, string) {
		return strings.Contains(alice.daemon.output(), "cancel notice delivered"),
			fmt.Sprintf("alice's daemon never logged the notice delivered:\n%s", alice.daemon.output())
	})
}
