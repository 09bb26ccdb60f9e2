package history

import (
	"context"
	"testing"
)

func TestAddIncomingRunStoresInOrderWithOneCommit(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	addIn(t, s, in(2, "alice", "two", 0)) // a redelivery inside the run
	before := s.Commits()
	run := []Message{in(1, "alice", "one", 0), in(2, "alice", "two", 0), in(3, "alice", "three", 0)}
	ins, n, err := s.AddIncomingRun(ctx, run)
	mustNil(t, err)
	if n != 3 || len(ins) != 3 || !ins[0] || ins[1] || !ins[2] {
		t.Fatalf("n = %d, inserted = %v; want 3, [true false true]", n, ins)
	}
	if got := s.Commits().Synced - before.Synced; got != 1 {
		t.Errorf("%d durable commits for the run, want 1", got)
	}
	page, err := s.History(ctx, Direct("alice"), 10, "")
	mustNil(t, err)
	var bodies []string
	for _, m := range page {
		bodies = append(bodies, m.Body)
	}
	if len(bodies) != 3 || bodies[0] != "two" || bodies[1] != "one" || bodies[2] != "three" {
		t.Errorf("history = %v, want [two one three] (arrival order)", bodies)
	}
}

func TestAddIncomingRunStopsAtTheFirstItCannotStore(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	taken := in(2, "alice", "elsewhere", 0)
	taken.Conversation = Group(gid)
	addIn(t, s, taken)
	bad := in(9, "alice", "bad", 0)
	bad.ID = "abc"
	for name, tc := range map[string]struct {
		run  []Message
		want error
	}{
		// id 2 is alice's message in another conversation.
		"conflict": {[]Message{in(1, "alice", "one", 0), in(2, "alice", "two", 0), in(3, "alice", "three", 0)}, ErrConflict},
		"invalid":  {[]Message{in(4, "alice", "four", 0), bad, in(5, "alice", "five", 0)}, ErrInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			ins, n, err := s.AddIncomingRun(ctx, tc.run)
			wantErr(t, err, tc.want)
			if n != 1 || len(ins) != 1 || !ins[0] {
				t.Fatalf("n = %d, inserted = %v; want the first alone", n, ins)
			}
			if _, err := s.Message(ctx, "alice", tc.run[2].ID); err == nil {
				t.Errorf("the message after the one refused was stored")
			}
			if _, err := s.Message(ctx, "alice", tc.run[0].ID); err != nil {
				t.Errorf("the message before the one refused: %v", err)
			}
		})
	}
}
