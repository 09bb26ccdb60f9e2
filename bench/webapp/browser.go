package webapp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lanchat/lanchat/internal/axquery"
	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/webui"
)

// browser is one user's headless Chromium, signed in to their app.
type browser struct {
	name   string
	origin string
	ctx    context.Context
	cancel func()
}

// openBrowser starts a Chromium with a fresh profile and signs d's user
// in through a one-time URL from the daemon, as lanchat ui does.
func openBrowser(ctx context.Context, exe, dir string, d *testbed.Daemon) (*browser, error) {
	si, err := webui.FetchSignIn(ctx, d.API.SocketPath())
	if err != nil {
		return nil, fmt.Errorf("%s: sign-in URL: %w", d.Name, err)
	}
	u, err := url.Parse(si.URL)
	if err != nil {
		return nil, err
	}
	profile := filepath.Join(dir, "chromium-"+d.Name)
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, axquery.Options(exe, profile, 1280, 900)...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{name: d.Name, origin: u.Scheme + "://" + u.Host, ctx: tabCtx, cancel: func() { cancelTab(); cancelAlloc() }}
	// The first run starts the browser and ties it to the context it is
	// given: that must be the tab's own, not one with a deadline.
	err = chromedp.Do(tabCtx)
	if err == nil {
		err = b.do(30*time.Second, chromedp.Navigate(si.SignInURL))
	}
	if err == nil {
		err = b.waitRole("list", "Conversations", 30*time.Second)
	}
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("%s: open the app in %s: %w", d.Name, exe, err)
	}
	return b, nil
}

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

// byRole finds an element of role whose accessible name is name or,
// with a trailing "*", starts with it.
func byRole(role, name string) chromedp.QueryOption {
	return axquery.ByRole(role, func(s string) bool {
		if prefix, ok := strings.CutSuffix(name, "*"); ok {
			return strings.HasPrefix(s, prefix)
		}
		return s == name
	})
}

// waitRole waits for a visible element of role named name (see byRole).
func (b *browser) waitRole(role, name string, timeout time.Duration) error {
	if err := b.do(timeout, chromedp.WaitVisible("", byRole(role, name))); err != nil {
		return fmt.Errorf("%s's app: wait for a %s %q: %w", b.name, role, name, err)
	}
	return nil
}

// clickRole clicks the first visible element of role named name.
func (b *browser) clickRole(role, name string) error {
	if err := b.do(10*time.Second, chromedp.Click("", byRole(role, name), chromedp.NodeVisible)); err != nil {
		return fmt.Errorf("%s's app: click a %s %q: %w", b.name, role, name, err)
	}
	return nil
}

// recorder is installed in a page: it notes, on the page's own clock
// (performance.timeOrigin + now(), shared by both browsers through the
// system clock), when a click was dispatched and when the text it is
// armed with first appears in the region named "Messages" (a
// MutationObserver: the moment it is in the document, before paint).
const recorder = `(() => {
  if (window.__wl) return true;
  const now = () => performance.timeOrigin + performance.now();
  const w = window.__wl = { want: "", seenAt: 0, clickAt: 0 };
  document.addEventListener("click", () => { if (!w.clickAt) w.clickAt = now(); }, true);
  const check = () => {
    if (!w.want || w.seenAt) return;
    const r = document.querySelector('section[aria-label="Messages"]');
    if (r && r.textContent.includes(w.want)) w.seenAt = now();
  };
  new MutationObserver(check).observe(document.body, { childList: true, subtree: true, characterData: true });
  w.arm = want => { w.want = want; w.seenAt = 0; w.clickAt = 0; check(); return true; };
  return true;
})()`

// arm installs the recorder in b's page if it is not there and arms it
// with want.
func arm(b *browser, want string) error {
	_, err := eval[bool](b, recorder)
	if err == nil {
		_, err = eval[bool](b, "window.__wl.arm("+strconv.Quote(want)+")")
	}
	return err
}

// clickToSeen clicks the element of role named name in from's app and
// returns the time from the click to the armed text shown in to's app.
func clickToSeen(ctx context.Context, from, to *browser, role, name string, timeout time.Duration) (time.Duration, error) {
	if err := from.clickRole(role, name); err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		seen, err := eval[float64](to, "window.__wl.seenAt")
		if err != nil {
			return 0, err
		}
		if seen > 0 {
			clicked, err := eval[float64](from, "window.__wl.clickAt")
			if err != nil || clicked == 0 {
				return 0, fmt.Errorf("the click was not seen (%v)", err)
			}
			return time.Duration((seen - clicked) * float64(time.Millisecond)), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	shown, _ := eval[string](to, `(document.querySelector('section[aria-label="Messages"]') || {textContent: "(no Messages region)"}).textContent.slice(-300)`)
	return 0, fmt.Errorf("%s's app did not show it within %v; the end of what it shows: %q", to.name, timeout, shown)
}

// appLatency times n messages from the Send button in from's app to the
// text shown in to's app, with the conversation open on both sides.
func appLatency(ctx context.Context, from, to *browser, n int) ([]time.Duration, error) {
	for _, step := range []func() error{
		func() error { return from.clickRole("listitem", to.name+"*") },
		func() error { return to.clickRole("listitem", from.name+"*") },
		func() error { return from.waitRole("textbox", "Message", 10*time.Second) },
		func() error { return to.waitRole("region", "Messages", 10*time.Second) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	var out []time.Duration
	for i := range n {
		marker := fmt.Sprintf("webload app %d %d", time.Now().UnixNano(), i)
		err := arm(to, marker)
		if err == nil {
			err = from.do(10*time.Second, chromedp.SendKeys("", marker, byRole("textbox", "Message"), chromedp.NodeVisible))
		}
		if err == nil {
			err = arm(from, "")
		}
		var d time.Duration
		if err == nil {
			d, err = clickToSeen(ctx, from, to, "button", "Send", 10*time.Second)
		}
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// openTimes reloads b's app, clicks the conversation with peer and times
// the click to the newest message (last) shown, opens times.
func openTimes(ctx context.Context, b *browser, peer, last string, opens int) ([]time.Duration, error) {
	var out []time.Duration
	for range opens {
		err := b.do(30*time.Second, chromedp.Navigate(b.origin+"/"))
		if err == nil {
			err = b.waitRole("listitem", peer+"*", 30*time.Second)
		}
		if err == nil {
			err = arm(b, last)
		}
		if open, _ := eval[bool](b, "window.__wl.seenAt > 0"); err == nil && open {
			err = errors.New("the app showed the conversation before it was clicked")
		}
		var d time.Duration
		if err == nil {
			d, err = clickToSeen(ctx, b, b, "listitem", peer+"*", 30*time.Second)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// heapResult is the page's JavaScript heap before and after scrolling
// from the newest message to the oldest.
type heapResult struct {
	before, after float64 // used bytes, after a collection
	steps         int     // scroll steps taken
	reachedTop    bool    // the oldest message came into view
}

// scrollScript scrolls the Messages region's scrolling element to the top
// and returns its scroll height, or -1 if there is none.
const scrollScript = `(() => {
  const r = document.querySelector('section[aria-label="Messages"]');
  if (!r) return -1;
  let s = null, best = 0;
  for (const e of [r, ...r.querySelectorAll("*")]) {
    const d = e.scrollHeight - e.clientHeight;
    if (d > best) { best = d; s = e; }
  }
  if (!s) return -1;
  s.scrollTop = 0;
  return s.scrollHeight;
})()`

// scrollHeap scrolls b's open conversation to its beginning, a screen at
// a time as the app loads older messages, and reads the heap before and
// after.
func scrollHeap(ctx context.Context, b *browser) (heapResult, error) {
	var r heapResult
	var err error
	if r.before, err = usedHeap(b); err != nil {
		return r, err
	}
	lastHeight, still := -2.0, 0
	for r.steps = 0; r.steps < 2000 && still < 40; r.steps++ {
		h, err := eval[float64](b, scrollScript)
		if err != nil || h < 0 {
			return r, fmt.Errorf("no scrollable Messages region (%v)", err)
		}
		if still++; h != lastHeight {
			still = 0
		}
		lastHeight = h
		if top, _ := eval[bool](b, `document.querySelector('section[aria-label="Messages"]').textContent.includes("webload warm-up")`); top {
			r.reachedTop = true
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	r.after, err = usedHeap(b)
	return r, err
}

// usedHeap collects garbage and returns the page's used JavaScript heap.
func usedHeap(b *browser) (float64, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (float64, error) {
		if _, err := cdp.Call(ctx, tg, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			return 0, err
		}
		u, err := cdp.Call(ctx, tg, runtime.GetHeapUsage, cdp.Empty{})
		return u.UsedSize, err
	})
}
