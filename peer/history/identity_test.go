package history

import (
	"context"
	"testing"
)

// TestMessageIdentityIsSenderAndID: a group member who reuses another
// member's message id first suppresses nothing; each sender's redelivery
// is still stored once.
func TestMessageIdentityIsSenderAndID(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	g := Group("0123456789abcdef0123456789abcdef")
	forged := Message{ID: id(7), Conversation: g, From: "mallory", Body: "first with the id", Sent: at(0), Received: at(0), Via: ViaRelay}
	real := Message{ID: id(7), Conversation: g, From: "alice", Body: "the real one", Sent: at(1), Received: at(1), Via: ViaRelay}
	addIn(t, s, forged)
	addIn(t, s, real)
	if ok, err := s.AddIncoming(ctx, real); err != nil || ok {
		t.Fatalf("redelivery of alice's message: inserted %v, %v; want stored once", ok, err)
	}
	// An outgoing message may carry an id another user used too.
	mine := out(7, g, "mine", 2)
	if ok, err := s.AddOutgoing(ctx, mine, []string{"alice"}); err != nil || !ok {
		t.Fatalf("outgoing with the same id: inserted %v, %v", ok, err)
	}
	h, err := s.History(ctx, g, 10, "")
	mustNil(t, err)
	if len(h) != 3 || h[0].From != "mallory" || h[1].From != "alice" || h[2].From != "self" {
		t.Fatalf("history = %+v, want mallory's, alice's and mine", h)
	}
}
