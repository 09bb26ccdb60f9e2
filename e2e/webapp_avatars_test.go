package e2e

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebappAvatars: alice set an avatar, bob has none. Bob's app shows
// alice's picture (served by his daemon, same origin) in the
// conversations list, the conversation header and the member list;
// alice's app shows bob's initials on a coloured circle.
func TestWebappAvatars(t *testing.T) {
	_, alice, bob := startWebPair(t)
	file, _ := writePicture(t, t.TempDir(), 500, 700)
	alice.must(t, "profile", "set", "--avatar", file)
	want, err := avatarOf(t, alice, "alice")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() (bool, string) {
		got, err := avatarOf(t, bob, "alice")
		return err == nil && bytes.Equal(got, want), fmt.Sprintf("bob's copy of alice's avatar: %v", err)
	})
	alice.must(t, "group", "create", "team")
	alice.must(t, "group", "invite", "team", "bob")
	bob.must(t, "group", "join", "team")

	bobApp, aliceApp := openApp(t, bob), openApp(t, alice)
	defer func() {
		for _, a := range []*app{aliceApp, bobApp} {
			if f := a.appFailures(t); len(f) != 0 {
				t.Errorf("%s's page: %s", a.name, strings.Join(f, "; "))
			}
		}
	}()

	// loaded reports the natural size of the first <img> matching sel
	// (0 until it has loaded) and its src.
	loaded := func(a *app, sel string) (int, string) {
		t.Helper()
		js := fmt.Sprintf(`(i => i ? [i.complete ? i.naturalWidth : 0, i.getAttribute("src")] : [0, ""])(document.querySelector(%q))`, sel)
		res, err := chromedp.Run(a.ctx, chromedp.Evaluate[[]any](js))
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		w, _ := res[0].(float64)
		src, _ := res[1].(string)
		return int(w), src
	}

	// The conversations list: alice's line has her picture.
	eventually(t, 15*time.Second, func() (bool, string) {
		w, src := loaded(bobApp, `.convs a[data-target="alice"] img`)
		return w > 0 && strings.HasPrefix(src, "/api/v1/avatars/alice?"), fmt.Sprintf("alice's picture in bob's list: %d px, src %q", w, src)
	})

	// The conversation header: an image named alice, the picture itself.
	bobApp.click(t, byRole("link", "alice").prefix())
	bobApp.waitFor(t, byRole(imgRole, "alice"), webWait)
	eventually(t, 10*time.Second, func() (bool, string) {
		w, _ := loaded(bobApp, `header img[alt="alice"]`)
		return w > 0, fmt.Sprintf("header picture is %d px wide", w)
	})

	// Bob has none: alice's app shows his initials on a colour.
	aliceApp.click(t, byRole("link", "bob").prefix())
	aliceApp.waitFor(t, byRole(imgRole, "bob"), webWait)
	if got := aliceApp.text(t, byRole(imgRole, "bob")); strings.TrimSpace(got) != "B" {
		t.Errorf("bob's initials %q, want B", got)
	}
	res, err := chromedp.Run(aliceApp.ctx, chromedp.Evaluate[[]string](`(e => [e.className, getComputedStyle(e).backgroundColor])(document.querySelector('header [role=img][aria-label="bob"]'))`))
	if err != nil || len(res) != 2 || !strings.Contains(res[0], "initials") || !strings.Contains(res[0], " av") || res[1] == "rgba(0, 0, 0, 0)" {
		t.Errorf("bob's initials circle: %v, %v", res, err)
	}

	// The member list of #team: alice's picture and bob's initials.
	bobApp.click(t, byRole("link", "#team").prefix())
	bobApp.click(t, byRole("button", "Members and group settings"))
	bobApp.waitFor(t, byRole("list", "Members"), webWait)
	eventually(t, 10*time.Second, func() (bool, string) {
		w, _ := loaded(bobApp, `.members img[alt="alice"]`)
		return w > 0, fmt.Sprintf("alice's picture in the member list is %d px wide", w)
	})
	bobApp.waitFor(t, byRole(imgRole, "bob"), webWait)

	// A picture removed falls back to the initials once the app hears.
	alice.must(t, "profile", "set", "--no-avatar")
	bobApp.click(t, byRole("link", "alice").prefix())
	eventually(t, 15*time.Second, func() (bool, string) {
		got, err := chromedp.Run(bobApp.ctx, chromedp.Evaluate[string](`(e => e ? e.textContent : "")(document.querySelector('header [role=img][aria-label="alice"]'))`))
		return err == nil && got == "A", fmt.Sprintf("alice's header avatar after removal: %q, %v", got, err)
	})
}

// imgRole is the role Chromium's accessibility tree gives an img element
// and role="img".
const imgRole = "image"
