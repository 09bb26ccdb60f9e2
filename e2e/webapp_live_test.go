package e2e

// What the web app shows of the other side as it happens: "bob is
// typing…" while bob types to alice, and a file sent in the conversation
// as an item of it (a card with a progress bar).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// apiRaw calls u's daemon API over its socket and returns the status and
// body: for calls the Go client does not have.
func (u *user) apiRaw(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	sock := filepath.Join(u.home, "daemon.sock")
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), webWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://lanchat"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %s %s: %v", u.name, method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

// TestWebappTyping: while bob types to alice in his app, hers says "bob
// is typing…", and stops saying it a few seconds after he stops.
func TestWebappTyping(t *testing.T) {
	_, alice, bob := startWebPair(t)
	// Typing goes over a direct connection only: a message opens one.
	alice.must(t, "send", "bob", "hi")
	eventually(t, 15*time.Second, func() (bool, string) {
		var st api.Status
		bob.mustJSON(t, &st, "status")
		return slices.Contains(st.Peers, "alice"), fmt.Sprintf("bob's direct peers: %v", st.Peers)
	})
	aliceApp, bobApp := openApp(t, alice), openApp(t, bob)
	defer checkPage(t, aliceApp, bobApp)
	aliceApp.click(t, byRole("listitem", "bob").prefix())
	bobApp.click(t, byRole("listitem", "alice").prefix())
	bobApp.press(t, byRole("textbox", "Message"), "I am writing a long")
	typing := byRole("status", "Who is typing")
	waitText(t, aliceApp, typing, "bob is typing…", webWait)
	// Nothing more typed: the line empties after 5 s.
	waitNoText(t, aliceApp, typing, 15*time.Second)
}

// TestWebappFileItem: a file bob sends alice is an item of their
// conversation in the API (kind "file", with its transfer); alice's app
// shows it once, as a card with a progress bar, full once it is done.
func TestWebappFileItem(t *testing.T) {
	_, alice, bob := startWebPair(t)
	src := filepath.Join(t.TempDir(), "report-2MiB.bin")
	randomFile(t, src, 2<<20, 7)
	bob.must(t, "send-file", "alice", src)
	eventually(t, 15*time.Second, func() (bool, string) {
		out := alice.must(t, "transfers")
		return strings.Contains(out, "report-2MiB.bin"), "alice has no offer of the file:\n" + out
	})
	var item map[string]any
	status, body := alice.apiRaw(t, "GET", "/v1/conversations/bob/messages", nil)
	var msgs []map[string]any
	if status != http.StatusOK || json.Unmarshal(body, &msgs) != nil {
		t.Fatalf("alice's history with bob: %d %s", status, body)
	}
	for _, m := range msgs {
		if m["kind"] == "file" {
			item = m
		}
	}
	if item == nil || item["transfer"] == nil {
		t.Fatalf(`alice's history with bob has no file item (kind "file" with a transfer): %s`, body)
	}

	aliceApp := openApp(t, alice)
	defer checkPage(t, aliceApp)
	aliceApp.click(t, byRole("listitem", "bob").prefix())
	card := byRole("group", "File received from bob: report-2MiB.bin").prefix()
	aliceApp.waitFor(t, card, webWait)
	aliceApp.waitFor(t, byRole("progressbar", "Progress of report-2MiB.bin"), webWait)
	if n := eval[int](t, aliceApp, `document.querySelectorAll(".xfer").length`); n != 1 {
		t.Errorf("alice's app shows %d file cards for one file", n)
	}
	if got := aliceApp.text(t, byRole("region", "Messages")); strings.Count(got, "report-2MiB.bin") != 1 {
		t.Errorf("the file shows more than once:\n%s", got)
	}
	// From a friend the file comes without asking: the bar fills.
	waitText(t, aliceApp, card, "Done", 60*time.Second)
	if v := eval[string](t, aliceApp, `document.querySelector("[role=progressbar]").getAttribute("aria-valuenow")`); v != "100" {
		t.Errorf("the finished file's bar is at %s%%", v)
	}
}

// TestWebappTypingAndFileShown checks the app's side of typing and of file
// items against the documented events, fed to the app's own event
// handler (js/live.js) in the page: "bob is typing…" for 5 s after a
// typing event, POST /v1/typing at most once per 3 s while alice types,
// and a file item drawn as one card whose bar follows its
// transfer's events. TestWebappTyping and TestWebappFileItem check the
// same through the daemon once it sends these events.
func TestWebappTypingAndFileShown(t *testing.T) {
	_, alice, _ := startWebPair(t)
	aliceApp := openApp(t, alice)
	defer checkPage(t, aliceApp)
	aliceApp.click(t, byRole("listitem", "bob").prefix())
	aliceApp.waitFor(t, byRole("textbox", "Message"), webWait)
	feed := func(ev string) {
		t.Helper()
		eval[bool](t, aliceApp, `import("/js/live.js").then((m) => (m.handleEvent(`+ev+`), true))`)
	}

	feed(`{type: "typing", typing: {from: "carol"}}`)
	feed(`{type: "typing", typing: {from: "bob"}}`)
	typing := byRole("status", "Who is typing")
	waitText(t, aliceApp, typing, "is typing…", webWait)
	if got := aliceApp.text(t, typing); got != "bob is typing…" {
		t.Errorf("the typing line says %q", got)
	}
	waitNoText(t, aliceApp, typing, 15*time.Second)

	// Typing tells the daemon, at most once per 3 s.
	eval[bool](t, aliceApp, `(() => {
  window.__typing = []; window.__typingStart = Date.now();
  const real = window.fetch;
  window.fetch = (url, init) => {
    if (String(url).endsWith("/v1/typing")) { window.__typing.push(init.body); return Promise.resolve(new Response(null, { status: 204 })); }
    return real(url, init);
  };
  return true;
})()`)
	aliceApp.press(t, byRole("textbox", "Message"), "a long sentence, typed")
	sent := eval[[]any](t, aliceApp, `[window.__typing, Date.now() - window.__typingStart]`)
	calls, _ := sent[0].([]any)
	elapsed, _ := sent[1].(float64)
	if len(calls) < 1 || float64(len(calls)) > 1+elapsed/3000 || calls[0] != `{"to":"bob"}` {
		t.Errorf("typing for %.0f ms sent %q to POST /v1/typing", elapsed, calls)
	}

	now := time.Now().UTC().Format(time.RFC3339Nano)
	feed(`{type: "message", message: {id: "0123456789abcdef0123456789abcdef", conversation: "bob", from: "bob", text: "report.bin",
  sent: "` + now + `", outgoing: false, state: "received", kind: "file",
  transfer: {id: "t-report", name: "report.bin", size: 2097152, state: "active", done: 1048576, total: 2097152, direction: "receive"}}}`)
	card := byRole("group", "File received from bob: report.bin").prefix()
	aliceApp.waitFor(t, card, webWait)
	bar := byRole("progressbar", "Progress of report.bin")
	aliceApp.waitFor(t, bar, webWait)
	value := func() string {
		return eval[string](t, aliceApp, `document.querySelector(".xfer [role=progressbar]").getAttribute("aria-valuenow")`)
	}
	if v := value(); v != "50" {
		t.Errorf("half the file moved, the bar says %s%%", v)
	}
	feed(`{type: "transfer", transfer: {id: "t-report", peer: "bob", name: "report.bin", direction: "receive", state: "done",
  done: 2097152, total: 2097152, files: 1, created: "` + now + `"}}`)
	waitText(t, aliceApp, card, "Done", webWait)
	if v := value(); v != "100" {
		t.Errorf("the file is done, the bar says %s%%", v)
	}
	if n := eval[int](t, aliceApp, `document.querySelectorAll(".xfer").length`); n != 1 {
		t.Errorf("%d file cards for one file", n)
	}
}

// waitNoText waits until the element l finds shows no text.
func waitNoText(t *testing.T, a *app, l locator, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, func() (bool, string) {
		got := a.text(t, l)
		return strings.TrimSpace(got) == "", fmt.Sprintf("%s's %s still shows %q", a.name, l, got)
	})
}
