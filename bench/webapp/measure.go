package webapp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lanchat/lanchat/peer/api"
)

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

func install(b *browser) error {
	_, err := eval[bool](b, recorder)
	return err
}

func arm(b *browser, want string) error {
	_, err := eval[bool](b, "window.__wl.arm("+strconv.Quote(want)+")")
	return err
}

// waitSeen polls the page until the armed text was seen and returns when.
func waitSeen(ctx context.Context, b *browser, timeout time.Duration) (float64, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		at, err := eval[float64](b, "window.__wl.seenAt")
		if err != nil {
			return 0, err
		}
		if at > 0 {
			return at, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("%s's app did not show it within %v", b.name, timeout)
}

// appLatency times n messages from the Send button in from's app to the
// text shown in to's app, with the conversation open on both sides.
func appLatency(ctx context.Context, from, to *browser, toName, fromName string, n int) ([]time.Duration, error) {
	if err := from.clickRole("listitem", startsWith(toName)); err != nil {
		return nil, err
	}
	if err := to.clickRole("listitem", startsWith(fromName)); err != nil {
		return nil, err
	}
	if err := from.waitRole("textbox", exactly("Message"), 10*time.Second); err != nil {
		return nil, err
	}
	if err := to.waitRole("region", exactly("Messages"), 10*time.Second); err != nil {
		return nil, err
	}
	if err := install(from); err != nil {
		return nil, err
	}
	if err := install(to); err != nil {
		return nil, err
	}
	run := time.Now().UnixNano()
	var out []time.Duration
	for i := range n {
		marker := fmt.Sprintf("webload app %d %d", run, i)
		if err := arm(to, marker); err != nil {
			return nil, err
		}
		if err := from.typeInto("textbox", "Message", marker); err != nil {
			return nil, err
		}
		if err := arm(from, ""); err != nil {
			return nil, err
		}
		if err := from.clickRole("button", exactly("Send")); err != nil {
			return nil, err
		}
		seen, err := waitSeen(ctx, to, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		clicked, err := eval[float64](from, "window.__wl.clickAt")
		if err != nil || clicked == 0 {
			return nil, fmt.Errorf("message %d: the click on Send was not seen (%v)", i, err)
		}
		out = append(out, time.Duration((seen-clicked)*float64(time.Millisecond)))
		if (i+1)%50 == 0 {
			say("  %d/%d", i+1, n)
		}
	}
	return out, nil
}

// apiLatency times n messages from alice's API (POST /v1/messages) to
// bob's event stream.
func apiLatency(ctx context.Context, alice, bob *peer, n int) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	ev, err := bob.API.Events(ctx)
	if err != nil {
		return nil, err
	}
	defer ev.Close()
	run := time.Now().UnixNano()
	var out []time.Duration
	for i := range n {
		text := fmt.Sprintf("webload api %d %d", run, i)
		start := time.Now()
		if _, err := alice.API.Send(ctx, api.SendRequest{Target: bob.Name, Text: text}); err != nil {
			return nil, err
		}
		if err := waitText(ev, text); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// fill sends count messages from a to target through the API, four
// senders at a time.
func fill(ctx context.Context, a *peer, target string, count int) error {
	var next atomic.Int64
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(count) && errs[w] == nil; i = next.Add(1) {
				_, errs[w] = a.API.Send(ctx, api.SendRequest{Target: target, Text: fmt.Sprintf("webload fill %d: the quick brown fox jumps over the lazy dog", i)})
				if i%2000 == 0 {
					say("  %d/%d", i, count)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// openTimes reloads b's app, clicks the conversation with peer and times
// the click to the newest message (last) shown, opens times.
func openTimes(ctx context.Context, b *browser, peerName, last string, opens int) ([]time.Duration, error) {
	var out []time.Duration
	for range opens {
		if err := b.do(30*time.Second, chromedp.Navigate(b.origin+"/")); err != nil {
			return nil, err
		}
		if err := b.waitRole("listitem", startsWith(peerName), 30*time.Second); err != nil {
			return nil, err
		}
		if err := install(b); err != nil {
			return nil, err
		}
		if err := arm(b, last); err != nil {
			return nil, err
		}
		if open, _ := eval[bool](b, "window.__wl.seenAt > 0"); open {
			return nil, errors.New("the app showed the conversation before it was clicked")
		}
		if err := b.clickRole("listitem", startsWith(peerName)); err != nil {
			return nil, err
		}
		seen, err := waitSeen(ctx, b, 30*time.Second)
		if err != nil {
			shown, _ := eval[string](b, `(document.querySelector('section[aria-label="Messages"]') || {textContent: "(no Messages region)"}).textContent.slice(-300)`)
			return nil, fmt.Errorf("%w; the end of what it shows: %q", err, shown)
		}
		clicked, err := eval[float64](b, "window.__wl.clickAt")
		if err != nil || clicked == 0 {
			return nil, fmt.Errorf("the click was not seen (%v)", err)
		}
		out = append(out, time.Duration((seen-clicked)*float64(time.Millisecond)))
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
		if err != nil {
			return r, err
		}
		if h < 0 {
			return r, errors.New("no scrollable Messages region")
		}
		if h == lastHeight {
			still++
		} else {
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
