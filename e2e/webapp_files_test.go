package e2e

// The Files tab of a group in real browsers: alice shares a file by the
// picker, bob sees it listed with who shared it and downloads it, and the
// copy on bob's disk has the listed hash.

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWebappFiles(t *testing.T) {
	chromiumPath(t) // skip before starting anything
	srv := startServer(t)
	var alice, bob *user
	downloads := filepath.Join(t.TempDir(), "bob-downloads")
	for _, name := range []string{"alice", "bob"} {
		u := newUser(t, srv, name)
		if name == "bob" {
			u.extra = []string{"--downloads", downloads}
			bob = u
		} else {
			alice = u
		}
		u.start(t)
		t.Cleanup(func() { u.stop(t) })
		u.register(t)
	}
	makeTeam(t, alice, bob)
	aliceApp, bobApp := openApp(t, alice), openApp(t, bob)
	defer func() {
		for _, a := range []*app{aliceApp, bobApp} {
			if f := a.appFailures(t); len(f) != 0 {
				t.Errorf("%s's page: %s", a.name, strings.Join(f, "; "))
			}
			for _, role := range []string{"button", "tab", "listitem", "checkbox", "progressbar"} {
				for i, n := range a.names(t, role) {
					if strings.TrimSpace(n) == "" {
						t.Errorf("%s's page: %s number %d has no accessible name", a.name, role, i+1)
					}
				}
			}
		}
	}()

	// Alice opens #team's Files tab: an empty library says what to do.
	aliceApp.click(t, byRole("listitem", "#team").prefix())
	aliceApp.click(t, byRole("tab", "Files"))
	waitText(t, aliceApp, byRole("tabpanel", "Files of #team"), "No shared files yet", webWait)

	src := filepath.Join(t.TempDir(), "plans-3MiB.bin")
	sum := randomFile(t, src, 3<<20, 11)
	aliceApp.upload(t, byRole("button", "Share files"), src)
	mine := byRole("listitem", "plans-3MiB.bin, 3.0 MiB, shared by alice").prefix()
	aliceApp.waitFor(t, mine, 30*time.Second)
	// The sharer may withdraw it and holds it: nothing to download.
	aliceApp.waitFor(t, byRole("button", "Withdraw plans-3MiB.bin"), webWait)
	if got := aliceApp.text(t, mine); !strings.Contains(got, "You hold a copy") {
		t.Errorf("alice's row does not say she holds the file:\n%s", got)
	}

	// Bob sees it in his Files tab, available from alice, and downloads it.
	bobApp.click(t, byRole("listitem", "#team").prefix())
	bobApp.click(t, byRole("tab", "Files"))
	theirs := byRole("listitem", "plans-3MiB.bin, 3.0 MiB, shared by alice").prefix()
	bobApp.waitFor(t, theirs.contains("available from 1 online"), 30*time.Second)
	// Bob is neither the sharer nor the owner: no Withdraw for him. (Not
	// names(): it reads the document anew, which chromedp's later queries
	// do not survive.)
	bobApp.waitGone(t, byRole("button", "Withdraw plans-3MiB.bin"), webWait)
	bobApp.click(t, byRole("button", "Download plans-3MiB.bin"))
	waitText(t, bobApp, theirs, "Downloaded to "+downloads, 60*time.Second)
	got := filepath.Join(downloads, "plans-3MiB.bin")
	if h := fileHash(t, got); h != sum {
		t.Fatalf("the file arrived with hash %s, want %s", h, sum)
	}
	// Bob now holds a copy and serves it: the holders count follows.
	bobApp.waitFor(t, theirs.contains("you hold a copy"), webWait)
	aliceApp.waitFor(t, mine.contains("2 holders"), 30*time.Second)
	// Back on Messages, the conversation is there again.
	bobApp.click(t, byRole("tab", "Messages"))
	bobApp.waitFor(t, byRole("textbox", "Message"), webWait)
}
