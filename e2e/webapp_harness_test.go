package e2e

// The browser-test harness for the web app: real daemons (see
// daemons_test.go), each user with a headless Chromium of their own,
// driven through the accessibility tree by ARIA role and accessible name,
// the way a screen reader user (or Playwright's getByRole) finds things.
//
// A feature test reads like this:
//
//	func TestWebappSendMessage(t *testing.T) {
//		_, alice, bob := startWebPair(t)     // server + two daemons, registered, friends
//		aliceApp, bobApp := openApp(t, alice), openApp(t, bob)
//
//		aliceApp.click(t, byRole("listitem", "bob").prefix())
//		aliceApp.fill(t, byRole("textbox", "Message"), "hello bob")
//		aliceApp.click(t, byRole("button", "Send"))
//
//		bobApp.waitFor(t, byRole("listitem", "alice").contains("1 unread"), 5*time.Second)
//		if !strings.Contains(bobApp.text(t, byRole("region", "Messages")), "hello bob") { ... }
//	}
//
// openApp signs in through the URL that "lanchat ui --print" prints, so
// every test also checks the sign-in path. Every query waits (up to
// webWait, or the timeout given) for a matching element that is not
// ignored by the accessibility tree. On failure the harness logs the
// page's console, uncaught exceptions, CSP violations and any request to
// another host; appFailures returns those so a test can assert there
// were none. Tests skip, saying why, only when no Chromium is installed.

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lanchat/lanchat/internal/axquery"
)

// webWait is how long a query waits for its element by default.
const webWait = 10 * time.Second

// chromiumPath returns the browser to drive: $LANCHAT_CHROMIUM, else the
// first of the usual names found. It skips the test when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p, err := axquery.FindChromium(os.Getenv("LANCHAT_CHROMIUM"))
	if err == nil {
		return p
	}
	t.Skip("no Chromium found (install it with: apt-get install -y chromium, or set LANCHAT_CHROMIUM): browser tests skipped")
	return ""
}

// startWebPair starts a server and two daemons, alice and bob, registered
// and friends, for a browser test.
func startWebPair(t *testing.T) (srv *rendezvous, alice, bob *user) {
	t.Helper()
	chromiumPath(t) // skip before starting anything
	srv = startServer(t)
	alice, bob = newUser(t, srv, "alice"), newUser(t, srv, "bob")
	for _, u := range []*user{alice, bob} {
		u.start(t)
		t.Cleanup(func() { u.stop(t) })
		u.register(t)
	}
	befriendUsers(t, alice, bob)
	return srv, alice, bob
}

// signInURL returns a fresh one-time sign-in URL from "lanchat ui --print".
func (u *user) signInURL(t *testing.T) string {
	t.Helper()
	out := strings.TrimSpace(u.must(t, "ui", "--print"))
	if _, err := url.Parse(out); err != nil || !strings.Contains(out, "/auth?token=") {
		t.Fatalf("%s: lanchat ui --print printed %q, not a sign-in URL", u.name, out)
	}
	return out
}

// app is one user's browser tab on their web app.
type app struct {
	name   string
	ctx    context.Context // the tab's chromedp context
	origin string          // http://127.0.0.1:port

	mu       sync.Mutex
	console  []string // console messages and uncaught exceptions
	failures []string // CSP violations, requests to other hosts
}

// openApp starts a headless Chromium with a fresh profile, signs u in
// through "lanchat ui --print" and waits for the app's page to load. The
// browser stops when the test ends. extra adds Chromium options (flags).
func openApp(t *testing.T, u *user, extra ...chromedp.ExecAllocatorOption) *app {
	t.Helper()
	exe := chromiumPath(t)
	signIn := u.signInURL(t)
	base, _ := url.Parse(signIn)
	a := &app{name: u.name, origin: base.Scheme + "://" + base.Host}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(axquery.Options(exe, filepath.Join(t.TempDir(), "chromium-"+u.name), 1280, 800), extra...)...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	a.ctx = ctx
	t.Cleanup(func() {
		if t.Failed() {
			a.logDiagnostics(t)
		}
		cancelTab()
		cancelAlloc()
	})
	chromedp.Listen(ctx, a.observe)
	// A script the test adds runs despite the page's CSP: it records the
	// page's CSP violations where the harness can read them.
	record := func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", e => window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));`,
		})
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Func(record), chromedp.Navigate(signIn)); err != nil {
		t.Fatalf("%s: open the app: %v", u.name, err)
	}
	loc, err := chromedp.Run(sctx, chromedp.Location())
	if err != nil {
		t.Fatalf("%s: %v", u.name, err)
	}
	if loc != a.origin+"/" {
		t.Fatalf("%s: after sign-in the browser is at %s, want %s/", u.name, loc, a.origin)
	}
	return a
}

// observe collects what the harness reports about the page.
func (a *app) observe(ev any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, arg := range ev.Args {
			if arg.Value != nil {
				parts = append(parts, string(arg.Value))
			} else {
				parts = append(parts, arg.Description)
			}
		}
		a.console = append(a.console, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
	case *runtime.EventExceptionThrown:
		msg := ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
		a.console = append(a.console, "uncaught: "+msg)
		a.failures = append(a.failures, "uncaught exception: "+msg)
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(ev.Request.URL)
		if err != nil || (u.Scheme != "data" && u.Scheme != "blob" && u.Scheme+"://"+u.Host != a.origin) {
			a.failures = append(a.failures, "request to another host: "+ev.Request.URL)
		}
	}
}

// appFailures returns the page's uncaught exceptions, CSP violations and
// requests to any other host, so far.
func (a *app) appFailures(t *testing.T) []string {
	t.Helper()
	csp, err := chromedp.Run(a.ctx, chromedp.Evaluate[[]string](`window.__cspViolations || []`))
	if err != nil {
		t.Fatalf("%s: read CSP violations: %v", a.name, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := append([]string(nil), a.failures...)
	for _, v := range csp {
		out = append(out, "CSP violation: "+v)
	}
	return out
}

func (a *app) logDiagnostics(t *testing.T) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range a.console {
		t.Logf("%s's page: %s", a.name, l)
	}
	for _, f := range a.failures {
		t.Logf("%s's page: %s", a.name, f)
	}
}

// locator finds elements by ARIA role and accessible name.
type locator struct {
	role string
	name string
	// match is how name is compared with an element's accessible name.
	match func(got, want string) bool
	how   string
}

// byRole finds elements whose role is role and whose accessible name is
// exactly name ("" matches any name).
func byRole(role, name string) locator {
	return locator{role: role, name: name, how: "named", match: func(got, want string) bool { return want == "" || got == want }}
}

// prefix makes l match names that start with its name ("bob" matches
// "bob, online, 2 unread").
func (l locator) prefix() locator {
	l.how, l.match = "named starting with", strings.HasPrefix
	return l
}

// contains makes l match names that contain its name (and start with l's
// prefix, when l was a prefix locator: byRole("listitem", "bob").prefix()
// .contains("2 unread")).
func (l locator) contains(sub string) locator {
	base := l
	l.how = fmt.Sprintf("%s %q and containing", base.how, base.name)
	l.name = sub
	l.match = func(got, want string) bool { return base.match(got, base.name) && strings.Contains(got, want) }
	return l
}

func (l locator) String() string { return fmt.Sprintf("%s %s %q", l.role, l.how, l.name) }

// query is the chromedp query option that finds l's elements, through
// Chromium's accessibility tree (internal/axquery).
func (l locator) query() chromedp.QueryOption {
	return axquery.ByRole(l.role, func(name string) bool { return l.match(name, l.name) })
}

// run runs steps with a deadline, failing the test with what was being
// looked for.
func (a *app) run(t *testing.T, what string, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, timeout)
	defer cancel()
	for {
		err := chromedp.Do(ctx, steps...)
		if err == nil {
			return
		}
		if !staleNode(err) || ctx.Err() != nil {
			t.Fatalf("%s's app: %s: %v", a.name, what, err)
		}
	}
}

// staleNode reports whether err says a node id the query held went stale
// (the page re-rendered, or the document was read again, between finding
// the node and acting on it): the step did nothing and may be retried.
func staleNode(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "No node with given id") || strings.Contains(msg, "Could not find node with given id")
}

// waitFor waits until an element l finds is visible.
func (a *app) waitFor(t *testing.T, l locator, timeout time.Duration) {
	t.Helper()
	a.run(t, "wait for "+l.String(), timeout, chromedp.WaitVisible("", l.query()))
}

// waitGone waits until no element l finds is left.
func (a *app) waitGone(t *testing.T, l locator, timeout time.Duration) {
	t.Helper()
	a.run(t, "wait until gone: "+l.String(), timeout, chromedp.WaitNotPresent("", l.query()))
}

// click clicks the first element l finds.
func (a *app) click(t *testing.T, l locator) {
	t.Helper()
	a.run(t, "click "+l.String(), webWait, chromedp.Click("", l.query(), chromedp.NodeVisible))
}

// fill replaces the text of the field l finds with text, typing it.
func (a *app) fill(t *testing.T, l locator, text string) {
	t.Helper()
	a.run(t, "fill "+l.String(), webWait,
		chromedp.Clear("", l.query(), chromedp.NodeVisible),
		chromedp.SendKeys("", text, l.query(), chromedp.NodeVisible))
}

// press types keys (kb.Enter, "\r", ...) into the element l finds.
func (a *app) press(t *testing.T, l locator, keys string) {
	t.Helper()
	a.run(t, "press keys in "+l.String(), webWait, chromedp.SendKeys("", keys, l.query(), chromedp.NodeVisible))
}

// upload sets the files of the file input l finds (an <input
// type=file>, such as the one named "Send file").
func (a *app) upload(t *testing.T, l locator, paths ...string) {
	t.Helper()
	a.run(t, "upload into "+l.String(), webWait, chromedp.SetUploadFiles("", paths, l.query(), chromedp.NodeReady))
}

// text returns the visible text of the first element l finds.
func (a *app) text(t *testing.T, l locator) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, webWait)
	defer cancel()
	for {
		s, err := chromedp.Run(ctx, chromedp.Text("", l.query(), chromedp.NodeVisible))
		if err == nil {
			return s
		}
		if !staleNode(err) || ctx.Err() != nil {
			t.Fatalf("%s's app: text of %s: %v", a.name, l, err)
		}
	}
}

// names returns the accessible names of the elements of a role, in
// document order, without waiting: to assert on a list, or to say in a
// failure what was there.
func (a *app) names(t *testing.T, role string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, webWait)
	defer cancel()
	names, err := chromedp.Run(ctx, axquery.Names(role))
	if err != nil {
		t.Fatalf("%s's app: names of %ss: %v", a.name, role, err)
	}
	return names
}

// screenshot saves a PNG of the whole page to path.
func (a *app) screenshot(t *testing.T, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, webWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s's app: screenshot: %v", a.name, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
