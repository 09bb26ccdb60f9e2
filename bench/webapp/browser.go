package webapp

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lanchat/lanchat/internal/axquery"
	"github.com/lanchat/lanchat/peer/webui"
)

// browser is one user's headless Chromium, signed in to their app.
type browser struct {
	name   string
	origin string
	ctx    context.Context
	cancel func()
}

// openBrowser starts a Chromium with a fresh profile and signs p in
// through a one-time URL from the daemon, as lanchat ui does.
func openBrowser(ctx context.Context, exe, dir string, p *peer) (*browser, error) {
	si, err := webui.FetchSignIn(ctx, p.API.SocketPath())
	if err != nil {
		return nil, fmt.Errorf("%s: sign-in URL: %w", p.Name, err)
	}
	u, err := url.Parse(si.URL)
	if err != nil {
		return nil, err
	}
	profile := filepath.Join(dir, "chromium-"+p.Name)
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, axquery.Options(exe, profile, 1280, 900)...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{name: p.Name, origin: u.Scheme + "://" + u.Host, ctx: tabCtx, cancel: func() { cancelTab(); cancelAlloc() }}
	// The first run starts the browser and ties it to the context it is
	// given: that must be the tab's own, not one with a deadline.
	if err := chromedp.Do(tabCtx); err != nil {
		b.close()
		return nil, fmt.Errorf("%s: start %s: %w", p.Name, exe, err)
	}
	if err := b.do(30*time.Second, chromedp.Navigate(si.SignInURL)); err != nil {
		b.close()
		return nil, fmt.Errorf("%s: open the app: %w", p.Name, err)
	}
	if err := b.waitRole("list", exactly("Conversations"), 30*time.Second); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *browser) close() { b.cancel() }

// do runs steps with a deadline.
func (b *browser) do(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, js string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](js))
}

func exactly(want string) func(string) bool { return func(s string) bool { return s == want } }

func startsWith(prefix string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, prefix) }
}

// waitRole waits for a visible element of role whose name match accepts.
func (b *browser) waitRole(role string, match func(string) bool, timeout time.Duration) error {
	if err := b.do(timeout, chromedp.WaitVisible("", axquery.ByRole(role, match))); err != nil {
		return fmt.Errorf("%s's app: wait for a %s: %w", b.name, role, err)
	}
	return nil
}

// clickRole clicks the first visible element of role whose name match
// accepts.
func (b *browser) clickRole(role string, match func(string) bool) error {
	if err := b.do(10*time.Second, chromedp.Click("", axquery.ByRole(role, match), chromedp.NodeVisible)); err != nil {
		return fmt.Errorf("%s's app: click a %s: %w", b.name, role, err)
	}
	return nil
}

// typeInto types text into the element of role named name.
func (b *browser) typeInto(role, name, text string) error {
	if err := b.do(10*time.Second, chromedp.SendKeys("", text, axquery.ByRole(role, exactly(name)), chromedp.NodeVisible)); err != nil {
		return fmt.Errorf("%s's app: type into the %s %q: %w", b.name, role, name, err)
	}
	return nil
}
