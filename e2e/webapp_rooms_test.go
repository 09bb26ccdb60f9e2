package e2e

// Rooms, the lobby and who is online in the web app, in real browsers
// against a real server (with its lobby) and real daemons: bob creates a
// room, carol finds it in the directory and joins without an invitation,
// they talk in it; the online panel lists only people the user shares
// something with; a banned user's Join is refused with the reason shown.
// The subtests run in order on one cluster, each building on the last.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
)

func TestWebappRooms(t *testing.T) {
	chromiumPath(t) // skip before starting anything
	srv := startLobbyServer(t)
	users := map[string]*user{}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		u := newUser(t, srv, name)
		u.start(t)
		t.Cleanup(func() { u.stop(t) })
		u.register(t)
		users[name] = u
	}
	alice, bob, carol, dave := users["alice"], users["bob"], users["carol"], users["dave"]
	// dave leaves the lobby: he shares nothing with carol.
	dave.must(t, "room", "leave", "lobby")
	bobApp, carolApp := openApp(t, bob), openApp(t, carol)
	var daveApp *app // opened where dave's part starts
	apps := []*app{bobApp, carolApp}
	defer func() {
		for _, a := range apps {
			if f := a.appFailures(t); len(f) != 0 {
				t.Errorf("%s's page: %s", a.name, strings.Join(f, "; "))
			}
			for _, role := range []string{"button", "link", "textbox", "searchbox", "listitem", "checkbox", "combobox"} {
				for i, n := range a.names(t, role) {
					if strings.TrimSpace(n) == "" {
						t.Errorf("%s's page: %s number %d has no accessible name", a.name, role, i+1)
					}
				}
			}
		}
	}()
	shots := func(t *testing.T) {
		dir := os.Getenv("LANCHAT_WEBAPP_SHOTS")
		if !t.Failed() || dir == "" {
			return
		}
		for _, a := range apps {
			a.screenshot(t, filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-")+"-"+a.name+".png"))
		}
	}
	outer := t // dave's tab lives as long as the whole test
	roomLine := func(name string) locator { return byRole("listitem", name+", room").prefix() }

	t.Run("LobbyInSidebar", func(t *testing.T) {
		defer shots(t)
		bobApp.waitFor(t, roomLine("#lobby"), webWait)
		// Rooms have their own list, apart from the other conversations.
		bobApp.waitFor(t, byRole("list", "Rooms"), webWait)
		alice.must(t, "send", "#lobby", "good morning, everyone")
		bobApp.waitFor(t, roomLine("#lobby").contains("1 unread"), 10*time.Second)
		bobApp.click(t, roomLine("#lobby"))
		waitText(t, bobApp, byRole("region", "Messages"), "good morning, everyone", webWait)
	})

	t.Run("CreateJoinAndTalk", func(t *testing.T) {
		defer shots(t)
		bobApp.click(t, byRole("link", "Room directory"))
		bobApp.fill(t, byRole("textbox", "Room name"), "coffee")
		bobApp.fill(t, byRole("textbox", "Topic (optional)"), "beans and brews")
		bobApp.click(t, byRole("button", "Create room"))
		bobApp.waitFor(t, roomLine("#coffee"), webWait)
		waitText(t, bobApp, byRole("region", "Messages"), "before you joined are not shown", webWait)

		carolApp.click(t, byRole("link", "Room directory"))
		carolApp.fill(t, byRole("searchbox", "Search rooms"), "cof")
		carolApp.waitFor(t, byRole("listitem", "#coffee, 1 member, 1 online").prefix().contains("topic: beans and brews"), webWait)
		carolApp.click(t, byRole("button", "Join #coffee"))
		carolApp.waitFor(t, roomLine("#coffee"), webWait)
		waitText(t, carolApp, byRole("region", "Messages"), "before you joined are not shown", webWait)
		carolApp.press(t, byRole("textbox", "Message"), "hello coffee people\r")
		waitText(t, bobApp, byRole("region", "Messages"), "hello coffee people", 10*time.Second)
		bobApp.press(t, byRole("textbox", "Message"), "welcome, carol\r")
		waitText(t, carolApp, byRole("region", "Messages"), "welcome, carol", 10*time.Second)
		if ms := withText(carol.history(t, "#coffee"), "welcome, carol"); len(ms) != 1 {
			t.Fatalf("carol's daemon holds %d copies of bob's message, want 1", len(ms))
		}

		// Away from the room, a new message counts as unread in its line.
		bobApp.click(t, byRole("link", "Who is online"))
		carol.must(t, "send", "#coffee", "anyone for espresso?")
		bobApp.waitFor(t, roomLine("#coffee").contains("1 unread"), 10*time.Second)
	})

	t.Run("OnlinePanelShowsOnlyShared", func(t *testing.T) {
		defer shots(t)
		carolApp.click(t, byRole("link", "Who is online"))
		list := byRole("list", "Who is online")
		// bob (#coffee and the lobby) and alice (the lobby) are listed;
		// dave, who shares nothing with carol, is not.
		waitText(t, carolApp, list, "alice", webWait)
		waitText(t, carolApp, list, "bob", webWait)
		if got := carolApp.text(t, list); strings.Contains(got, "dave") {
			t.Fatalf("carol's online panel lists dave, with whom she shares nothing:\n%s", got)
		}
		// One room's members only.
		carolApp.press(t, byRole("combobox", "Show who is online in"), "#c")
		eventually(t, webWait, func() (bool, string) {
			got := carolApp.text(t, list)
			return strings.Contains(got, "bob") && !strings.Contains(got, "alice"), "carol's panel for #coffee is not bob and carol:\n" + got
		})
		// dave left the lobby: it is not among his rooms, and his own
		// panel lists nobody.
		daveApp = openApp(outer, dave)
		apps = append(apps, daveApp)
		daveApp.click(t, byRole("link", "Room directory"))
		daveApp.waitFor(t, byRole("listitem", "#lobby, 3 members").prefix(), webWait)
		// The directory's line ("#lobby, 3 members, …") is all there is.
		lobbyLine := byRole("listitem", "#lobby").prefix()
		lobbyLine.match = func(got, want string) bool {
			return strings.HasPrefix(got, want) && !strings.Contains(got, " members")
		}
		daveApp.waitGone(t, lobbyLine, webWait)
		daveApp.click(t, byRole("link", "Who is online"))
		waitText(t, daveApp, list, "Nobody is online", webWait)
	})

	t.Run("AdminSetsTopic", func(t *testing.T) {
		defer shots(t)
		bobApp.click(t, roomLine("#coffee"))
		bobApp.click(t, byRole("button", "Members and room settings"))
		bobApp.click(t, byRole("button", "Make carol an admin of #coffee"))
		bobApp.waitFor(t, byRole("listitem", "Member carol, admin").prefix(), webWait)

		carolApp.click(t, roomLine("#coffee"))
		carolApp.click(t, byRole("button", "Members and room settings"))
		// The field holds the topic now: replace it.
		carolApp.waitFor(t, byRole("textbox", "Topic"), webWait)
		carolApp.press(t, byRole("textbox", "Topic"), kb.End+strings.Repeat(kb.Backspace, len("beans and brews"))+"espresso only")
		carolApp.click(t, byRole("button", "Set topic"))
		waitText(t, bobApp, byRole("main", ""), "2 members · 2 online · espresso only", 10*time.Second)
	})

	t.Run("BannedJoinRefused", func(t *testing.T) {
		defer shots(t)
		dave.must(t, "room", "join", "coffee")
		bobApp.click(t, byRole("button", "Members and room settings"))
		bobApp.click(t, byRole("button", "Ban dave from #coffee"))
		bobApp.waitGone(t, byRole("listitem", "Member dave").prefix(), webWait)

		daveApp.click(t, byRole("link", "Room directory"))
		daveApp.waitFor(t, byRole("listitem", "#coffee").prefix().contains("you are banned"), webWait)
		daveApp.click(t, byRole("button", "Join #coffee"))
		// The server's reason, where the Join was pressed.
		waitText(t, daveApp, byRole("region", "Rooms"), "Could not join #coffee: you are banned from #coffee", webWait)
		if roomsOf(t, dave)["coffee"].Joined {
			t.Fatalf("dave joined #coffee although banned")
		}

		bobApp.fill(t, byRole("textbox", "Unban someone (username)"), "dave")
		bobApp.click(t, byRole("button", "Unban"))
		waitText(t, bobApp, byRole("complementary", "#coffee"), "dave may join #coffee again", webWait)
		daveApp.click(t, byRole("button", "Join #coffee"))
		daveApp.waitFor(t, roomLine("#coffee"), webWait)
	})

	t.Run("MembersOnlineFirst", func(t *testing.T) {
		defer shots(t)
		alice.must(t, "room", "join", "coffee")
		alice.stop(t)
		// The server has seen alice go.
		eventually(t, 20*time.Second, func() (bool, string) {
			out := onlineOf(t, bob, "--room", "coffee", "--all")
			return strings.Contains(out, "alice:offline"), "bob's lanchat online --room coffee --all does not show alice offline: " + out
		})
		bobApp.click(t, byRole("button", "Close panel"))
		bobApp.click(t, byRole("button", "Members and room settings"))
		bobApp.waitFor(t, byRole("listitem", "Member alice").prefix().contains("offline"), webWait)
		got := bobApp.text(t, byRole("list", "Members"))
		at := -1
		for _, name := range []string{"bob", "carol", "dave", "alice"} {
			i := strings.Index(got, name)
			if i < at {
				t.Fatalf("bob's member list of #coffee is not online first, then by name (bob carol dave alice):\n%s", got)
			}
			at = i
		}
	})

	t.Run("LeaveRoom", func(t *testing.T) {
		defer shots(t)
		carolApp.click(t, byRole("button", "Leave room"))
		carolApp.click(t, byRole("button", "Leave #coffee? Press again to confirm"))
		carolApp.waitGone(t, roomLine("#coffee"), webWait)
		if r := roomsOf(t, carol)["coffee"]; r.Joined {
			t.Fatalf("carol left #coffee in the app but her daemon says she is in it")
		}
	})
}
