package e2e

// Feature tests of the web app in real browsers: a server, three daemons
// (alice and bob friends, carol a stranger to both), each user with a
// Chromium of their own, driven by ARIA role and accessible name (see
// webapp_harness_test.go). One cluster is shared by the subtests, which
// run in order: each builds on the state the one before left.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/lanchat/lanchat/peer/api"
)

func TestWebapp(t *testing.T) {
	chromiumPath(t) // skip before starting anything
	// A short relay retention lets FailedMessageSaysWhy see a message the
	// relay drops; messages to daemons that are up are delivered at once.
	srv := startRendezvous(t, freeAddr(t), t.TempDir(), "--relay-retention", "6s")
	users := map[string]*user{}
	downloads := map[string]string{}
	for _, name := range []string{"alice", "bob", "carol"} {
		u := newUser(t, srv, name)
		downloads[name] = filepath.Join(t.TempDir(), name+"-downloads")
		u.extra = []string{"--downloads", downloads[name]}
		u.start(t)
		t.Cleanup(func() { u.stop(t) })
		u.register(t)
		users[name] = u
	}
	alice, bob, carol := users["alice"], users["bob"], users["carol"]
	befriendUsers(t, alice, bob)
	aliceApp, bobApp, carolApp := openApp(t, alice), openApp(t, bob), openApp(t, carol)
	defer func() {
		for _, a := range []*app{aliceApp, bobApp, carolApp} {

			if f := a.appFailures(t); len(f) != 0 {
				t.Errorf("%s's page: %s", a.name, strings.Join(f, "; "))
			}
			// Every control a screen reader reaches has a name.
			for _, role := range []string{"button", "link", "textbox", "searchbox", "listitem", "checkbox"} {
				for i, n := range a.names(t, role) {
					if strings.TrimSpace(n) == "" {
						t.Errorf("%s's page: %s number %d has no accessible name", a.name, role, i+1)
					}
				}
			}
		}
	}()

	// LANCHAT_WEBAPP_SHOTS=DIR keeps a screenshot of every page when a
	// subtest fails.
	shots := func(t *testing.T) {
		dir := os.Getenv("LANCHAT_WEBAPP_SHOTS")
		if !t.Failed() || dir == "" {
			return
		}
		for _, a := range []*app{aliceApp, bobApp, carolApp} {
			a.screenshot(t, filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-")+"-"+a.name+".png"))
		}
	}

	t.Run("MessageArrivesLive", func(t *testing.T) {
		defer shots(t)
		aliceApp.click(t, byRole("listitem", "bob").prefix())
		aliceApp.press(t, byRole("textbox", "Message"), "hello bob from the app")
		start := time.Now()
		aliceApp.click(t, byRole("button", "Send"))
		// Bob has not opened the conversation: his list counts it unread.
		bobApp.waitFor(t, byRole("listitem", "alice").prefix().contains("1 unread"), 10*time.Second)
		t.Logf("alice's message showed in bob's list after %v", time.Since(start).Round(time.Millisecond))
		bobApp.click(t, byRole("listitem", "alice").prefix())
		waitText(t, bobApp, byRole("region", "Messages"), "hello bob from the app", webWait)
		// Reading it cleared the count, in the app and on the daemon.
		bobApp.waitGone(t, byRole("listitem", "alice").prefix().contains("unread"), 5*time.Second)
		if n := bob.unread(t, "alice"); n != 0 {
			t.Errorf("bob's daemon still counts %d unread after he read the conversation", n)
		}
		// Bob answers with Enter; alice sees it and her own message's state.
		bobApp.press(t, byRole("textbox", "Message"), "hi alice")
		bobApp.press(t, byRole("textbox", "Message"), "\r")
		waitText(t, aliceApp, byRole("region", "Messages"), "hi alice", webWait)
		if ms := withText(bob.history(t, "alice"), "hi alice"); len(ms) != 1 {
			t.Fatalf("Enter in bob's compose box stored %d messages, want 1", len(ms))
		}
	})

	t.Run("ScrollUpLoadsOlder", func(t *testing.T) {
		defer shots(t)
		// More than the app reads when a conversation opens: the oldest
		// show only after scrolling up, page by page.
		c := api.NewClient(filepath.Join(alice.home, "daemon.sock"))
		defer c.Close()
		ctx := t.Context()
		const n = 130 // the app reads 60 when it opens a conversation, then pages of 100
		for i := range n {
			if _, err := c.Send(ctx, api.SendRequest{Target: "bob", Text: fmt.Sprintf("backlog %03d", i)}); err != nil {
				t.Fatalf("send backlog %d: %v", i, err)
			}
		}
		waitText(t, bobApp, byRole("region", "Messages"), fmt.Sprintf("backlog %03d", n-1), 20*time.Second)
		if got := bobApp.text(t, byRole("region", "Messages")); strings.Contains(got, "backlog 000") {
			t.Fatalf("the whole backlog is shown before scrolling: the app should read the newest page only")
		}
		eventually(t, 20*time.Second, func() (bool, string) {
			if _, err := chromedp.Run(bobApp.ctx, chromedp.Evaluate[bool](`(document.querySelector("[aria-label=Messages] [tabindex]").scrollTop = 0, true)`)); err != nil {
				return false, err.Error()
			}
			got := bobApp.text(t, byRole("region", "Messages"))
			return strings.Contains(got, "backlog 000"), "bob's conversation after scrolling up does not reach backlog 000"
		})
		// The ones in between are there too, once each. (The text of the
		// whole history: the browser does not lay out what is far from
		// the viewport, so innerText would leave it out.)
		got, err := chromedp.Run(bobApp.ctx, chromedp.Evaluate[string](`document.querySelector("[aria-label=Messages]").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1, n - 61, n - 60, n - 1} {
			if c := strings.Count(got, fmt.Sprintf("backlog %03d", i)); c != 1 {
				t.Errorf("backlog %03d shows %d times, want once", i, c)
			}
		}
		if _, err := chromedp.Run(bobApp.ctx, chromedp.Evaluate[bool](`(s => (s.scrollTop = s.scrollHeight, true))(document.querySelector("[aria-label=Messages] [tabindex]"))`)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("FileFromTheApp", func(t *testing.T) {
		defer shots(t)
		// Both have the conversation open from the last subtest.
		src := filepath.Join(t.TempDir(), "report-20MiB.bin")
		sum := randomFile(t, src, 20<<20, 7)
		aliceApp.upload(t, byRole("button", "Send file"), src)
		sent := byRole("group", "File sent to bob: report-20MiB.bin").prefix()
		received := byRole("group", "File received from alice: report-20MiB.bin").prefix()
		for _, side := range []struct {
			a    *app
			card locator
		}{{aliceApp, sent}, {bobApp, received}} {
			side.a.waitFor(t, byRole("progressbar", "Progress of report-20MiB.bin"), 20*time.Second)
			side.a.waitFor(t, side.card.contains("done"), 60*time.Second)
		}
		got := filepath.Join(downloads["bob"], "report-20MiB.bin")
		if h := fileHash(t, got); h != sum {
			t.Fatalf("the file arrived with hash %s, want %s", h, sum)
		}
		if card := bobApp.text(t, received.contains("done")); !strings.Contains(card, downloads["bob"]) {
			t.Errorf("bob's card does not say where the file was saved:\n%s", card)
		}
	})

	t.Run("GroupCreateInviteJoin", func(t *testing.T) {
		defer shots(t)
		aliceApp.click(t, byRole("link", "Groups").prefix())
		aliceApp.fill(t, byRole("textbox", "Group name"), "team")
		aliceApp.click(t, byRole("button", "Create group"))
		aliceApp.waitFor(t, byRole("listitem", "#team").prefix(), webWait)
		aliceApp.click(t, byRole("button", "Members and group settings"))
		aliceApp.fill(t, byRole("textbox", "Invite someone (username)"), "carol")
		aliceApp.click(t, byRole("button", "Invite"))

		carolApp.waitFor(t, byRole("link", "Groups, 1 invitation"), 10*time.Second)
		carolApp.click(t, byRole("link", "Groups, 1 invitation"))
		carolApp.click(t, byRole("button", "Join #team"))
		carolApp.waitGone(t, byRole("listitem", "Invitation to #team").prefix(), webWait)
		carolApp.click(t, byRole("listitem", "#team").prefix())
		carolApp.press(t, byRole("textbox", "Message"), "carol here")
		carolApp.click(t, byRole("button", "Send"))

		aliceApp.waitFor(t, byRole("listitem", "#team").prefix(), webWait)
		waitText(t, aliceApp, byRole("region", "Messages"), "carol here", 15*time.Second)
		aliceApp.press(t, byRole("textbox", "Message"), "welcome carol")
		aliceApp.click(t, byRole("button", "Send"))
		waitText(t, carolApp, byRole("region", "Messages"), "welcome carol", 15*time.Second)
	})

	t.Run("OfferFromNonFriendAccepted", func(t *testing.T) {
		defer shots(t)
		// Carol shares #team with alice but is not her friend: her file
		// waits for alice's answer instead of being taken.
		src := filepath.Join(t.TempDir(), "from-carol.txt")
		if err := os.WriteFile(src, []byte("a file from a stranger\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var res api.SendFileResult
		carol.mustJSON(t, &res, "send-file", "--no-wait", "alice", src)
		offer := byRole("group", "File received from carol: from-carol.txt").prefix()
		aliceApp.waitFor(t, byRole("listitem", "carol").prefix(), 15*time.Second)
		aliceApp.click(t, byRole("listitem", "carol").prefix())
		aliceApp.waitFor(t, offer.contains("offered to you"), 15*time.Second)
		aliceApp.click(t, byRole("button", "Accept"))
		aliceApp.waitFor(t, offer.contains("done"), 20*time.Second)
		got, err := os.ReadFile(filepath.Join(downloads["alice"], "from-carol.txt"))
		if err != nil || string(got) != "a file from a stranger\n" {
			t.Fatalf("the accepted file: %q, %v", got, err)
		}
	})

	t.Run("FriendRequestFromTheApp", func(t *testing.T) {
		defer shots(t)
		carolApp.click(t, byRole("link", "Friends").prefix())
		carolApp.press(t, byRole("searchbox", "Find people"), "ali")
		carolApp.click(t, byRole("button", "Add alice"))
		aliceApp.waitFor(t, byRole("link", "Friends, 1 request"), 10*time.Second)
		aliceApp.click(t, byRole("link", "Friends, 1 request"))
		aliceApp.click(t, byRole("button", "Accept carol"))
		aliceApp.waitFor(t, byRole("listitem", "Friend carol").prefix(), 10*time.Second)
		carolApp.waitFor(t, byRole("listitem", "Friend alice").prefix(), 10*time.Second)
		var fs []api.Friend
		carol.mustJSON(t, &fs, "friends")
		if !hasFriend(fs, "alice") {
			t.Fatalf("carol's friends after alice accepted in the app: %+v", fs)
		}
	})

	t.Run("GroupRenameKickDelete", func(t *testing.T) {
		defer shots(t)
		// Alice owns #team, carol is a member (GroupCreateInviteJoin).
		aliceApp.click(t, byRole("listitem", "#team").prefix())
		aliceApp.click(t, byRole("button", "Members and group settings"))
		aliceApp.waitFor(t, byRole("textbox", "New name"), webWait)
		aliceApp.press(t, byRole("textbox", "New name"), kb.End+strings.Repeat(kb.Backspace, len("team"))+"crew")
		aliceApp.click(t, byRole("button", "Rename"))
		aliceApp.waitFor(t, byRole("listitem", "#crew").prefix(), webWait)
		carolApp.waitFor(t, byRole("listitem", "#crew").prefix(), 15*time.Second)
		carolApp.waitGone(t, byRole("listitem", "#team").prefix(), webWait)

		// Carol's groups page lists #crew until alice removes her. (The
		// conversation stays in her list: its history is hers.)
		carolApp.click(t, byRole("link", "Groups").prefix())
		carolApp.waitFor(t, byRole("listitem", "Group #crew").prefix(), webWait)
		aliceApp.click(t, byRole("button", "Members and group settings"))
		aliceApp.click(t, byRole("button", "Remove carol from #crew"))
		aliceApp.waitGone(t, byRole("listitem", "Member carol").prefix(), webWait)
		carolApp.waitGone(t, byRole("listitem", "Group #crew").prefix(), 15*time.Second)

		// Delete asks once more in the button's words before it acts.
		aliceApp.click(t, byRole("button", "Delete group"))
		aliceApp.click(t, byRole("button", "Delete #crew for everyone?").prefix())
		aliceApp.waitFor(t, byRole("region", "Your groups"), webWait)
		aliceApp.waitGone(t, byRole("listitem", "Group #crew").prefix(), webWait)
		var gs api.Groups
		alice.mustJSON(t, &gs, "groups")
		for _, g := range gs.Groups {
			if g.Name == "crew" || g.Name == "team" {
				t.Fatalf("after delete in the app, alice's groups: %+v", gs.Groups)
			}
		}
	})

	t.Run("ProfileNameSeenByFriend", func(t *testing.T) {
		defer shots(t)
		aliceApp.click(t, byRole("link", "Profile and account").prefix())
		aliceApp.fill(t, byRole("textbox", "Display name"), "Alice Liddell")
		aliceApp.click(t, byRole("button", "Save profile"))
		waitText(t, aliceApp, byRole("form", "Profile"), "Saved.", webWait)
		bobApp.click(t, byRole("link", "Friends").prefix())
		waitText(t, bobApp, byRole("region", "Your friends"), "Alice Liddell", 15*time.Second)
		bobApp.click(t, byRole("listitem", "alice").prefix())
		bobApp.waitFor(t, byRole("heading", "Alice Liddell (alice)"), webWait)
	})

	t.Run("FileDroppedAndPasted", func(t *testing.T) {
		defer shots(t)
		// The app sends what is dropped on the conversation or pasted into
		// the compose box through /upload, as it does a picked file.
		aliceApp.click(t, byRole("listitem", "bob").prefix())
		aliceApp.waitFor(t, byRole("textbox", "Message"), webWait)
		for _, c := range []struct{ name, js string }{
			{"dropped.txt", `(() => {
				const dt = new DataTransfer();
				dt.items.add(new File(["dropped on the conversation\n"], "dropped.txt", { type: "text/plain" }));
				document.querySelector(".conversation").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
				return true;
			})()`},
			{"pasted.txt", `(() => {
				const dt = new DataTransfer();
				dt.items.add(new File(["pasted into the compose box\n"], "pasted.txt", { type: "text/plain" }));
				document.querySelector("[aria-label=Message]").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
				return true;
			})()`},
		} {
			if _, err := chromedp.Run(aliceApp.ctx, chromedp.Evaluate[bool](c.js)); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			aliceApp.waitFor(t, byRole("group", "File sent to bob: "+c.name).prefix().contains("done"), 30*time.Second)
		}
		for name, want := range map[string]string{"dropped.txt": "dropped on the conversation\n", "pasted.txt": "pasted into the compose box\n"} {
			eventually(t, 15*time.Second, func() (bool, string) {
				got, err := os.ReadFile(filepath.Join(downloads["bob"], name))
				return err == nil && string(got) == want, fmt.Sprintf("bob's %s: %q, %v", name, got, err)
			})
		}
	})

	t.Run("KeyboardPanelsAndFocus", func(t *testing.T) {
		defer shots(t)
		aliceApp.click(t, byRole("listitem", "bob").prefix())
		// Everything that takes a click is reachable with Tab.
		unreachable, err := chromedp.Run(aliceApp.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")]
			.filter((e) => e.checkVisibility() && getComputedStyle(e).cursor === "pointer" && e.tabIndex < 0 && !e.closest("a[href], button, input, select, textarea, summary, label, [tabindex]"))
			.map((e) => e.tagName + "." + e.className + ": " + e.textContent.slice(0, 40))`))
		if err != nil {
			t.Fatal(err)
		}
		if len(unreachable) != 0 {
			t.Errorf("clickable but not reachable with Tab: %q", unreachable)
		}
		// Esc closes a panel and gives the focus back to the button that
		// opened it, with its focus ring showing.
		aliceApp.click(t, byRole("button", "Safety number"))
		aliceApp.press(t, byRole("button", "Close panel"), kb.Escape)
		aliceApp.waitGone(t, byRole("button", "Close panel"), webWait)
		focus, err := chromedp.Run(aliceApp.ctx, chromedp.Evaluate[[]string](`[document.activeElement.getAttribute("aria-label") || "", getComputedStyle(document.activeElement).outlineStyle]`))
		if err != nil {
			t.Fatal(err)
		}
		if len(focus) != 2 || focus[0] != "Safety number" || focus[1] == "none" {
			t.Errorf("after Esc closed the panel, the focus (label, outline style) is %q; want the Safety number button with a visible outline", focus)
		}
	})

	t.Run("FailedMessageSaysWhy", func(t *testing.T) {
		defer shots(t)
		dave := newUser(t, srv, "dave")
		dave.start(t)
		t.Cleanup(func() { dave.stop(t) })
		dave.register(t)
		befriendUsers(t, alice, dave)
		dave.stop(t)
		// Dave is away past the relay's retention: alice's message ends
		// failed, and her app says why under it.
		aliceApp.waitFor(t, byRole("listitem", "dave").prefix(), 10*time.Second)
		aliceApp.click(t, byRole("listitem", "dave").prefix())
		aliceApp.press(t, byRole("textbox", "Message"), "are you there dave\r")
		waitText(t, aliceApp, byRole("region", "Messages"), "are you there dave", webWait)
		waitText(t, aliceApp, byRole("region", "Messages"), "Not delivered: dave: the server kept it", 40*time.Second)
	})

	t.Run("KeyChangeBannerVerifyTrust", func(t *testing.T) {
		defer shots(t)
		// Bob logs in from a new machine: a new identity key.
		bob.stop(t)
		newBob := newUser(t, srv, "bob")
		newBob.start(t)
		t.Cleanup(func() { newBob.stop(t) })
		if out, errs, code := newBob.lc(t, bob.password+"\n", "login", "bob", "--password-stdin"); code != 0 {
			t.Fatalf("login from the new machine: %s%s", out, errs)
		}
		aliceApp.click(t, byRole("listitem", "bob").prefix())
		aliceApp.waitFor(t, byRole("button", "Compare safety numbers"), 20*time.Second)
		aliceApp.waitFor(t, byRole("listitem", "bob").prefix().contains("identity key changed"), webWait)
		// What alice writes now waits, and says so in words.
		aliceApp.press(t, byRole("textbox", "Message"), "sent while held\r")
		waitText(t, aliceApp, byRole("region", "Messages"), "Held: waits until you compare safety numbers with bob", webWait)
		var v api.Verification
		newBob.mustJSON(t, &v, "verify", "alice")
		aliceApp.click(t, byRole("button", "Compare safety numbers"))
		aliceApp.waitFor(t, byRole("group", "Safety number "+v.SafetyNumber), webWait)
		aliceApp.click(t, byRole("button", "Trust the new key"))
		aliceApp.waitGone(t, byRole("button", "Compare safety numbers"), 10*time.Second)
		// Trusted: the held message leaves and reaches bob's new machine.
		newBob.waitMessage(t, "alice", "sent while held", 20*time.Second)
		aliceApp.click(t, byRole("button", "Mark as verified"))
		aliceApp.waitFor(t, byRole("listitem", "bob").prefix().contains("verified"), 10*time.Second)
		var fs []api.Friend
		alice.mustJSON(t, &fs, "friends")
		for _, f := range fs {
			if f.Username == "bob" && (f.Held || !f.Verified) {
				t.Fatalf("after trust and verify in the app, alice's friends: %+v", fs)
			}
		}
		if !hasFriend(fs, "bob") {
			t.Fatalf("bob is no longer alice's friend: %+v", fs)
		}
	})
}

// waitText waits until the visible text of the element l finds holds want.
func waitText(t *testing.T, a *app, l locator, want string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() (bool, string) {
		got := a.text(t, l)
		return strings.Contains(got, want), fmt.Sprintf("%s's %s does not show %q:\n%s", a.name, l, want, got)
	})
}
