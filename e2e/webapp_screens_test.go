package e2e

// The README's screenshots of the web app, taken in a real browser from a
// real cluster. Skipped unless LANCHAT_WEBAPP_SCREENSHOTS names the
// directory to write them to:
//
//	LANCHAT_WEBAPP_SCREENSHOTS=$PWD/docs/img go test -count=1 -run TestWebappScreens ./e2e/

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

func TestWebappScreens(t *testing.T) {
	dir := os.Getenv("LANCHAT_WEBAPP_SCREENSHOTS")
	if dir == "" {
		t.Skip("set LANCHAT_WEBAPP_SCREENSHOTS=DIR to write the README's screenshots of the web app")
	}
	chromiumPath(t)
	srv := startServer(t)
	users := map[string]*user{}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		u := newUser(t, srv, name)
		u.extra = []string{"--downloads", filepath.Join(t.TempDir(), name+"-downloads")}
		u.start(t)
		t.Cleanup(func() { u.stop(t) })
		if name != "dave" { // dave shows the sign-in screen
			u.register(t)
		}
		users[name] = u
	}
	alice, bob, carol, dave := users["alice"], users["bob"], users["carol"], users["dave"]
	alice.must(t, "profile", "set", "--display-name", "Alice Liddell")
	befriendUsers(t, alice, bob)
	befriendUsers(t, alice, carol)
	alice.must(t, "group", "create", "team")
	for _, u := range []*user{bob, carol} {
		alice.must(t, "group", "invite", "team", u.name)
		u.must(t, "group", "join", "team")
	}
	alice.must(t, "room", "create", "coffee", "--topic", "beans, brews and the broken grinder")
	carol.must(t, "room", "create", "printers", "--topic", "queue jams, toner, drivers")
	bob.must(t, "room", "create", "release-3.2")
	for _, u := range []*user{bob, carol} {
		u.must(t, "room", "join", "coffee")
	}
	say := func(u *user, to, text string) {
		u.must(t, "send", to, text)
		time.Sleep(50 * time.Millisecond)
	}
	say(bob, "alice", "Morning! Did the new printer driver work for you?")
	say(alice, "bob", "Yes, after a reboot. The settings are in `/etc/cups/printers.conf`")
	say(bob, "alice", "Great, thanks.\nCould you send me the Q3 report when you have a minute?")
	report := filepath.Join(t.TempDir(), "Q3 report.pdf")
	randomFile(t, report, 3<<20+123456, 11)
	alice.must(t, "send-file", "bob", report)
	say(alice, "bob", "Here it is. The numbers on page 4 are still a draft.")
	say(carol, "#team", "Stand-up moved to 10:30 today ☕")
	say(bob, "#team", "Works for me")
	say(alice, "#team", "See you there. Notes: https://wiki.example.com/standup")

	shot := func(a *app, name string) {
		time.Sleep(700 * time.Millisecond) // let transitions and the event stream settle
		png, err := chromedp.Run(a.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("%s: screenshot: %v", a.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	media := func(a *app, scheme string, width, height int64) {
		err := chromedp.Do(a.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			}); err != nil {
				return err
			}
			if width == 0 {
				_, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
				return err
			}
			_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
				Width: width, Height: height, DeviceScaleFactor: 1,
			})
			return err
		}))
		if err != nil {
			t.Fatalf("emulate %s %dx%d: %v", scheme, width, height, err)
		}
	}

	aliceApp := openApp(t, alice)
	aliceApp.click(t, byRole("listitem", "bob").prefix())
	aliceApp.waitFor(t, byRole("group", "File sent to bob: Q3 report.pdf").prefix().contains("done"), 20*time.Second)
	shot(aliceApp, "webapp-conversation.png")

	aliceApp.click(t, byRole("listitem", "#team").prefix())
	aliceApp.click(t, byRole("button", "Members and group settings"))
	aliceApp.waitFor(t, byRole("listitem", "Member carol").prefix(), webWait)
	media(aliceApp, "dark", 0, 0)
	shot(aliceApp, "webapp-group-dark.png")
	media(aliceApp, "light", 0, 0)

	bobApp := openApp(t, bob)
	media(bobApp, "light", 390, 760)
	bobApp.waitFor(t, byRole("listitem", "alice").prefix().contains("unread"), webWait)
	bobApp.click(t, byRole("listitem", "alice").prefix())
	bobApp.waitFor(t, byRole("group", "File received from alice: Q3 report.pdf").prefix(), webWait)
	shot(bobApp, "webapp-phone-conversation.png")

	daveApp := openApp(t, dave)
	daveApp.click(t, byRole("tab", "Create account"))
	daveApp.fill(t, byRole("textbox", "Username"), "dave")
	daveApp.fill(t, byRole("textbox", "Password"), "short")
	daveApp.click(t, byRole("button", "Create account"))
	daveApp.waitFor(t, byRole("textbox", "Password"), webWait)
	time.Sleep(time.Second) // the server's answer
	shot(daveApp, "webapp-sign-in.png")

	aliceApp.click(t, byRole("link", "Room directory"))
	aliceApp.waitFor(t, byRole("listitem", "#printers").prefix(), webWait)
	shot(aliceApp, "webapp-rooms.png")

	aliceApp.click(t, byRole("link", "Diagnostics"))
	aliceApp.waitFor(t, byRole("list", "Checks"), 20*time.Second)
	shot(aliceApp, "webapp-diagnostics.png")
}
