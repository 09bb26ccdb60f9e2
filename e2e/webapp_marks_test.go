package e2e

// What marks a message in the web app: an edited one lists every version
// it had, and one that mentions the user stands out, with a marker a
// screen reader names.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestWebappEditVersions: alice edits her message twice; bob's app marks
// it edited, and activating the mark lists the three versions, oldest
// first.
func TestWebappEditVersions(t *testing.T) {
	_, alice, bob := startWebPair(t)
	var res api.SendResult
	alice.mustJSON(t, &res, "send", "bob", "lunch at noon?")
	bob.waitMessage(t, "alice", "lunch at noon?", 10*time.Second)
	alice.must(t, "edit", res.ID, "lunch at one?")
	alice.must(t, "edit", res.ID, "lunch at two, sorry")
	bob.waitShown(t, "alice", res.ID, "the second edit", func(m api.Message) bool { return m.Text == "lunch at two, sorry" })

	bobApp := openApp(t, bob)
	defer checkPage(t, bobApp)
	bobApp.click(t, byRole("listitem", "alice").prefix())
	edited := byRole("button", "Edited: show every version")
	bobApp.click(t, edited)
	versions := byRole("dialog", "Versions of this message")
	waitText(t, bobApp, versions, "3 versions", webWait)
	got := bobApp.text(t, versions)
	i, j, k := strings.Index(got, "lunch at noon?"), strings.Index(got, "lunch at one?"), strings.Index(got, "lunch at two, sorry")
	if i < 0 || j < i || k < j || !strings.Contains(got, "Original") {
		t.Fatalf("the versions dialog shows:\n%s", got)
	}
	bobApp.click(t, byRole("button", "Close"))
	bobApp.waitGone(t, versions, webWait)
	// A message never edited has no such mark.
	alice.must(t, "send", "bob", "plain")
	waitText(t, bobApp, byRole("region", "Messages"), "plain", webWait)
	if n := eval[int](t, bobApp, `document.querySelectorAll(".msg .edited").length`); n != 1 {
		t.Errorf("%d messages are marked edited, want 1", n)
	}

	// Recalled, and hidden by bob's setting: no version shows its text.
	alice.must(t, "recall", res.ID)
	bob.waitShown(t, "alice", res.ID, "recalled", func(m api.Message) bool { return !m.Recalled.IsZero() })
	bob.must(t, "settings", "set", "hide-recalled", "true")
	c := api.NewClient(filepath.Join(bob.home, "daemon.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), webWait)
	defer cancel()
	vs, err := c.Versions(ctx, res.ID)
	if err != nil || len(vs) != 3 || vs[0].Text+vs[1].Text+vs[2].Text != "" {
		t.Errorf("versions of a recalled message bob hides: %+v, %v", vs, err)
	}
}

// TestWebappMention: in #team, bob's message that mentions alice is
// highlighted in alice's app with a "Mentions you" marker; his other
// message is not. The marker stays when the conversation is read again.
func TestWebappMention(t *testing.T) {
	_, alice, bob := startWebPair(t)
	makeTeam(t, bob, alice)
	bob.must(t, "send", "#team", "no mention here")
	bob.must(t, "send", "#team", "@alice can you look at this?")
	alice.waitMessage(t, "#team", "@alice can you look at this?", 10*time.Second)

	aliceApp := openApp(t, alice)
	defer checkPage(t, aliceApp)
	aliceApp.click(t, byRole("listitem", "#team").prefix())
	waitText(t, aliceApp, byRole("region", "Messages"), "look at this", webWait)
	aliceApp.waitFor(t, byRole("image", "Mentions you"), webWait)
	marked := eval[[]string](t, aliceApp, `[...document.querySelectorAll(".msg.mention")].map(e => e.querySelector(".text").textContent)`)
	if strings.Join(marked, "|") != "@alice can you look at this?" {
		t.Errorf("highlighted messages: %q", marked)
	}
	// Live, too.
	bob.must(t, "send", "#team", "and @alice once more")
	eventually(t, webWait, func() (bool, string) {
		n := eval[int](t, aliceApp, `document.querySelectorAll(".msg.mention [role=img][aria-label='Mentions you']").length`)
		return n == 2, fmt.Sprintf("alice's app marks %d mentions, want 2", n)
	})
}
