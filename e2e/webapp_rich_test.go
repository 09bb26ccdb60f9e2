package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// TestWebappRich: alice's web app shows, live, what bob does to her
// message from the CLI: his reply with its quote, his reaction with its
// count, her own edit, and her recall seen by bob marked recalled; a
// click on the reaction adds hers.
func TestWebappRich(t *testing.T) {
	_, alice, bob := startWebPair(t)
	var res api.SendResult
	alice.mustJSON(t, &res, "send", "bob", "lunch at noon?")
	orig := res.ID
	bob.waitMessage(t, "alice", "lunch at noon?", 10*time.Second)

	aliceApp := openApp(t, alice)
	aliceApp.click(t, byRole("listitem", "bob").prefix())
	msgs := byRole("region", "Messages")
	waitText(t, aliceApp, msgs, "lunch at noon?", webWait)

	bob.must(t, "send", "alice", "--reply-to", orig, "sure thing")
	waitText(t, aliceApp, msgs, "sure thing", webWait)
	if got := aliceApp.text(t, msgs); !strings.Contains(got, "alice lunch at noon?\nsure thing") {
		t.Fatalf("the reply shows no quote:\n%s", got)
	}
	bob.must(t, "react", orig, "👍")
	aliceApp.waitFor(t, byRole("button", "👍 1"), webWait)
	alice.must(t, "edit", orig, "lunch at one?")
	waitText(t, aliceApp, msgs, "lunch at one?", webWait)
	waitText(t, aliceApp, msgs, "(edited)", webWait)
	aliceApp.click(t, byRole("button", "👍 1"))
	aliceApp.waitFor(t, byRole("button", "👍 2"), webWait)
	bob.waitShown(t, "alice", orig, "👍 by bob and alice", func(m api.Message) bool { return reactedBy(m, "👍", "bob", "alice") })
}
