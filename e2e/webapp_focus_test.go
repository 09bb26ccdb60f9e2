package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestWebappFocusQuietsNotifications: while alice's web app shows her
// conversation with bob, her daemon shows no desktop notification for it
// (the app says so with POST /v1/focus); once she leaves it, bob's next
// message is notified. Notifications come in order, so the one after she
// left being the first proves the one while she read was never shown.
func TestWebappFocusQuietsNotifications(t *testing.T) {
	chromiumPath(t)
	bus := startSessionBus(t) // before the daemons, which find it in their environment
	_, alice, bob := startWebPair(t)
	aliceApp := openApp(t, alice)
	defer func() {
		if f := aliceApp.appFailures(t); len(f) != 0 {
			t.Errorf("alice's page: %v", f)
		}
	}()
	told := func(conversation string) {
		t.Helper()
		aliceApp.run(t, "wait until the daemon is told the focus is "+conversation, webWait,
			chromedp.Poll[chromedp.Void]("document.body.dataset.focus === "+jsString(conversation)))
	}

	aliceApp.click(t, byRole("listitem", "bob").prefix())
	told("bob")
	for len(bus.got) > 0 { // the friend request, from before
		<-bus.got
	}
	bob.must(t, "send", "alice", "read in the app")
	waitText(t, aliceApp, byRole("region", "Messages"), "read in the app", webWait)

	// Another screen: the conversation is no longer shown.
	aliceApp.run(t, "open Friends", webWait, chromedp.Evaluate[chromedp.Void](`location.hash = "#/friends"`))
	told("")
	bob.must(t, "send", "alice", "while on Friends")
	bus.want(t, "bob", "while on Friends")

	// Back in the conversation: quiet again, and a hidden tab is not
	// reading it.
	aliceApp.run(t, "open the conversation", webWait, chromedp.Evaluate[chromedp.Void](`location.hash = "#/c/bob"`))
	told("bob")
	bob.must(t, "send", "alice", "read again")
	waitText(t, aliceApp, byRole("region", "Messages"), "read again", webWait)
	aliceApp.run(t, "hide the tab", webWait, chromedp.Evaluate[chromedp.Void](
		`Object.defineProperty(document, "visibilityState", {get: () => "hidden", configurable: true}); document.dispatchEvent(new Event("visibilitychange"))`))
	told("")
	bob.must(t, "send", "alice", "while hidden")
	bus.want(t, "bob", "while hidden")
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		if r == '"' || r == '\\' {
			b = append(b, '\\')
		}
		b = append(b, string(r)...)
	}
	return string(append(b, '"'))
}
