package daemon

import (
	"context"
	"strconv"
	"testing"

	"github.com/lanchat/lanchat/transfer"
)

// A daemon runs at most transfer.MaxOffersInFlight transfers to one
// peer at once, so that its own sends never meet the receiver's cap;
// other peers and cancel notices are not held back, and a transfer runs
// once.
func TestSendingCapPerPeer(t *testing.T) {
	var s sending
	nop := context.CancelCauseFunc(func(error) {})
	for i := range transfer.MaxOffersInFlight {
		if !s.start("t"+strconv.Itoa(i), "bob", nop) {
			t.Fatalf("transfer %d to bob refused", i)
		}
	}
	if s.start("one-more", "bob", nop) {
		t.Fatal("a transfer over the cap started")
	}
	if s.start("t0", "carol", nop) {
		t.Error("a transfer already running started again")
	}
	if !s.start("c0", "carol", nop) || !s.start(noticeKey("t0"), "", nop) {
		t.Error("another peer's transfer, or a notice, was held back")
	}
	s.stop("t3")
	if !s.start("one-more", "bob", nop) {
		t.Error("a transfer refused once another ended")
	}
}
