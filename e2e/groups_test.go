package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestGroupOfThree makes a group of three and checks every member gets
// each message exactly once, including a member whose daemon was stopped
// when it was sent.
func TestGroupOfThree(t *testing.T) {
	srv, us := startUsers(t, "alice", "bob", "carol")
	alice, bob, carol := us[0], us[1], us[2]
	// Group members need not be friends to talk.
	alice.must(t, "group", "create", "team")
	alice.must(t, "group", "invite", "team", "bob")
	alice.must(t, "group", "invite", "team", "carol")
	var gs api.Groups
	bob.mustJSON(t, &gs, "groups")
	if len(gs.Invites) != 1 {
		t.Fatalf("bob's invitations: %+v", gs)
	}
	bob.must(t, "group", "join", "team")
	carol.must(t, "group", "join", "team")
	var gm api.GroupMembers
	eventually(t, 10*time.Second, func() (bool, string) {
		alice.mustJSON(t, &gm, "group", "members", "team")
		return len(gm.Members) == 3, fmt.Sprintf("members: %+v", gm.Members)
	})
	// Everyone's daemon has heard of everyone (group events resync).
	eventually(t, 10*time.Second, func() (bool, string) {
		for _, u := range []*user{alice, bob, carol} {
			u.mustJSON(t, &gm, "group", "members", "team")
			if len(gm.Members) != 3 {
				return false, u.name + " does not see 3 members"
			}
		}
		return true, ""
	})

	first := "first to the whole team"
	out := alice.must(t, "send", "#team", first)
	if !strings.Contains(out, "sent to #team") {
		t.Fatalf("group send: %q", out)
	}
	bob.waitMessage(t, "#team", first, 10*time.Second)
	carol.waitMessage(t, "#team", first, 10*time.Second)

	carol.stop(t)
	second := "carol is away for this one"
	alice.must(t, "send", "#team", second)
	reply := "bob answers the team"
	bob.waitMessage(t, "#team", second, 10*time.Second)
	bob.must(t, "send", "#team", reply)
	alice.waitMessage(t, "#team", reply, 10*time.Second)

	carol.start(t)
	for _, text := range []string{first, second, reply} {
		carol.waitMessage(t, "#team", text, 20*time.Second)
	}
	for _, u := range []*user{alice, bob, carol} {
		ms := u.history(t, "#team")
		if len(ms) != 3 {
			t.Errorf("%s's #team history has %d messages, want 3: %+v", u.name, len(ms), ms)
		}
	}
	// alice's copy reaches every member: delivered.
	alice.waitState(t, "#team", second, "delivered", 20*time.Second)

	// Someone outside the group cannot write to it.
	dave := newUser(t, srv, "dave")
	dave.start(t)
	dave.register(t)
	if errs := dave.fails(t, "send", "#team", "let me in"); !strings.Contains(errs, "not a member") {
		t.Fatalf("outsider's group send: %q", errs)
	}
}
