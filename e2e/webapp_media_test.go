package e2e

// Pictures and voice messages in real browsers: a picture picked, pasted
// or dropped in alice's app reaches bob's as a thumbnail that opens the
// full picture (GET /v1/messages/{id}/media), also one that follows its
// message as a transfer; a 30-second Ogg/Opus voice
// message sent from the CLI plays inline in both apps, and the audio
// element reports its 30 s; a recording made in the app (Chromium's fake
// microphone) arrives as a voice message.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lanchat/lanchat/peer/api"
)

// eval evaluates js in a's page (awaiting a promise) and returns its value.
func eval[T any](t *testing.T, a *app, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, webWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s's page: %s: %v", a.name, js, err)
	}
	return v
}

// checkPage fails the test for any uncaught exception, CSP violation or
// request to another host in the apps' pages.
func checkPage(t *testing.T, apps ...*app) {
	t.Helper()
	for _, a := range apps {
		if f := a.appFailures(t); len(f) != 0 {
			t.Errorf("%s's page: %s", a.name, strings.Join(f, "; "))
		}
	}
}

// writeJPEG writes a w×h JPEG with a gradient to path.
func writeJPEG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeNoise writes a w×h JPEG of noise, which compresses badly: a
// picture too large to travel inside a message.
func writeNoise(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	src := rand.New(rand.NewPCG(3, 4))
	for i := range img.Pix {
		img.Pix[i] = byte(src.Uint32())
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// pagePicture is page JavaScript that resolves to a w×h PNG File named
// name, drawn on a canvas.
func pagePicture(name string, w, h int) string {
	return fmt.Sprintf(`(async () => {
  const c = document.createElement("canvas"); c.width = %d; c.height = %d;
  const g = c.getContext("2d"); g.fillStyle = "#3a7"; g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = "#fff"; g.fillRect(10, 10, c.width / 2, c.height / 2);
  const blob = await new Promise((r) => c.toBlob(r, "image/png"));
  return new File([blob], %q, { type: "image/png" });
})()`, w, h, name)
}

func TestWebappPictures(t *testing.T) {
	_, alice, bob := startWebPair(t)
	aliceApp, bobApp := openApp(t, alice), openApp(t, bob)
	defer checkPage(t, aliceApp, bobApp)
	aliceApp.click(t, byRole("listitem", "bob").prefix())
	bobApp.click(t, byRole("listitem", "alice").prefix())

	// Picked: the button opens a picture picker.
	src := filepath.Join(t.TempDir(), "whiteboard.jpg")
	writeJPEG(t, src, 640, 480)
	aliceApp.waitFor(t, byRole("button", "Attach picture"), webWait)
	aliceApp.upload(t, byRole("button", "Picture to send"), src)
	aliceApp.waitFor(t, byRole("button", "Open picture whiteboard.jpg"), 20*time.Second)
	bobApp.waitFor(t, byRole("button", "Open picture whiteboard.jpg"), 20*time.Second)

	// A click opens the full picture, read from the daemon.
	bobApp.click(t, byRole("button", "Open picture whiteboard.jpg"))
	bobApp.waitFor(t, byRole("dialog", "whiteboard.jpg"), webWait)
	eventually(t, webWait, func() (bool, string) {
		w := eval[int](t, bobApp, `(i => i && i.complete ? i.naturalWidth : 0)(document.querySelector("dialog img"))`)
		return w == 640, fmt.Sprintf("the full picture in bob's viewer is %d pixels wide, want 640", w)
	})
	// It is served as what it is, never sniffed.
	hdr := eval[[]string](t, bobApp, `fetch(document.querySelector("dialog img").src).then(r => [String(r.status), r.headers.get("content-type"), r.headers.get("x-content-type-options")])`)
	if strings.Join(hdr, " ") != "200 image/jpeg nosniff" {
		t.Errorf("the full picture is served as %q", hdr)
	}
	bobApp.click(t, byRole("button", "Close"))
	bobApp.waitGone(t, byRole("dialog", "whiteboard.jpg"), webWait)

	// Pasted into the compose box.
	eval[bool](t, aliceApp, `(async () => {
  const dt = new DataTransfer(); dt.items.add(await `+pagePicture("pasted.png", 300, 200)+`);
  document.querySelector("textarea").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  return true;
})()`)
	bobApp.waitFor(t, byRole("button", "Open picture pasted.png"), 20*time.Second)

	// Dropped onto the conversation.
	eval[bool](t, aliceApp, `(async () => {
  const dt = new DataTransfer(); dt.items.add(await `+pagePicture("dropped.png", 200, 300)+`);
  document.querySelector(".conversation").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  return true;
})()`)
	bobApp.waitFor(t, byRole("button", "Open picture dropped.png"), 20*time.Second)

	// Each went as a picture, inside its message.
	var msgs []api.Message
	bob.mustJSON(t, &msgs, "history", "alice")
	var kinds []string
	for _, m := range msgs {
		kinds = append(kinds, m.Kind+" "+m.Text)
	}
	if strings.Join(kinds, ", ") != "image whiteboard.jpg, image pasted.png, image dropped.png" {
		t.Errorf("bob's history with alice: %q", kinds)
	}
	if out := bob.must(t, "transfers"); strings.Contains(out, ".png") || strings.Contains(out, ".jpg") {
		t.Errorf("a small picture went as a transfer:\n%s", out)
	}

	// A picture too large to travel inside its message follows as a
	// transfer; once it is in bob's media store his viewer shows it whole.
	big := filepath.Join(t.TempDir(), "poster.jpg")
	writeNoise(t, big, 1200, 900)
	aliceApp.upload(t, byRole("button", "Picture to send"), big)
	bobApp.waitFor(t, byRole("button", "Open picture poster.jpg"), 20*time.Second)
	eventually(t, 60*time.Second, func() (bool, string) {
		bob.mustJSON(t, &msgs, "history", "alice")
		m := msgs[len(msgs)-1]
		return m.Media != nil && m.Media.Full, fmt.Sprintf("bob's poster.jpg: %+v", m.Media)
	})
	if out := bob.must(t, "transfers"); !strings.Contains(out, "poster.jpg") {
		t.Errorf("the poster did not follow as a transfer:\n%s", out)
	}
	bobApp.click(t, byRole("button", "Open picture poster.jpg"))
	bobApp.waitFor(t, byRole("dialog", "poster.jpg"), webWait)
	eventually(t, webWait, func() (bool, string) {
		w := eval[int](t, bobApp, `(i => i && i.complete ? i.naturalWidth : 0)(document.querySelector("dialog img"))`)
		return w == 1200, fmt.Sprintf("the full poster in bob's viewer is %d pixels wide, want 1200", w)
	})
	bobApp.click(t, byRole("button", "Close"))

	// Only a message of the user's history has its picture served.
	c := api.NewClient(filepath.Join(bob.home, "daemon.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), webWait)
	defer cancel()
	if _, _, err := c.Media(ctx, "0123456789abcdef0123456789abcdef"); !isAPICode(err, api.CodeNotFound) {
		t.Errorf("the picture of a message bob does not have: %v, want not_found", err)
	}
	var res api.SendResult
	alice.mustJSON(t, &res, "send", "bob", "just text")
	bob.waitMessage(t, "alice", "just text", webWait)
	if _, _, err := c.Media(ctx, res.ID); !isAPICode(err, api.CodeNotFound) {
		t.Errorf("the picture of a text message: %v, want not_found", err)
	}
}

// isAPICode reports whether err is an API error with code.
func isAPICode(err error, code string) bool {
	var e *api.Error
	return errors.As(err, &e) && e.Code == code
}

// oggCRC is the Ogg page checksum (CRC-32, polynomial 0x04c11db7, not
// reflected), which demuxers check.
func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// oggPage makes one Ogg page of whole packets.
func oggPage(flags byte, granule int64, seq uint32, packets ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for ; n >= 255; n -= 255 {
			lacing = append(lacing, 255)
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := []byte("OggS\x00")
	h = append(h, flags)
	h = binary.LittleEndian.AppendUint64(h, uint64(granule))
	h = binary.LittleEndian.AppendUint32(h, 0x6c616e63)
	h = binary.LittleEndian.AppendUint32(h, seq)
	h = append(h, 0, 0, 0, 0, byte(len(lacing)))
	page := append(append(h, lacing...), body...)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
	return page
}

// oggVoice makes secs seconds of mono Ogg/Opus: 20 ms CELT fullband
// frames, noise for the first half and Opus's digital-silence frame for
// the second, so that the waveform has a loud and a quiet part.
func oggVoice(secs int) []byte {
	const preSkip = 312
	head := []byte("OpusHead\x01\x01")
	head = binary.LittleEndian.AppendUint16(head, preSkip)
	head = binary.LittleEndian.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0)
	out := oggPage(0x02, 0, 0, head)
	out = append(out, oggPage(0, 0, 1, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"))...)
	n := secs * 50
	src := rand.New(rand.NewPCG(1, 2))
	var packets [][]byte
	for i := range n {
		if i < n/2 {
			p := make([]byte, 60)
			p[0] = 0xf8
			for j := 1; j < len(p); j++ {
				p[j] = byte(src.Uint32())
			}
			packets = append(packets, p)
		} else {
			packets = append(packets, []byte{0xf8, 0xff, 0xfe})
		}
	}
	seq := uint32(2)
	for i := 0; i < n; i += 50 {
		page := packets[i:min(i+50, n)]
		flags := byte(0)
		if i+50 >= n {
			flags = 0x04
		}
		out = append(out, oggPage(flags, int64(i+len(page))*960+preSkip, seq, page...)...)
		seq++
	}
	return out
}

// waitDuration waits until the audio element of the voice message named
// label in a's page knows its duration, and returns it in seconds.
func waitDuration(t *testing.T, a *app, label string) float64 {
	t.Helper()
	var d float64
	eventually(t, 20*time.Second, func() (bool, string) {
		d = eval[float64](t, a, fmt.Sprintf(`(e => e && isFinite(e.duration) ? e.duration : -1)(document.querySelector('audio[aria-label=%q]'))`, label))
		return d > 0, fmt.Sprintf("%s's audio element %q has no duration yet (%v)", a.name, label, d)
	})
	return d
}

func TestWebappVoice(t *testing.T) {
	_, alice, bob := startWebPair(t)
	memo := filepath.Join(t.TempDir(), "memo.ogg")
	if err := os.WriteFile(memo, oggVoice(30), 0o600); err != nil {
		t.Fatal(err)
	}
	bob.must(t, "send-voice", "alice", memo)

	aliceApp, bobApp := openApp(t, alice), openApp(t, bob)
	defer checkPage(t, aliceApp, bobApp)
	for _, c := range []struct {
		a    *app
		peer string
	}{{aliceApp, "bob"}, {bobApp, "alice"}} {
		c.a.click(t, byRole("listitem", c.peer).prefix())
		// The duration and waveform the message carries, and a player.
		c.a.waitFor(t, byRole("group", "Voice message, 0:30"), 20*time.Second)
		bars := eval[int](t, c.a, `document.querySelectorAll(".voice .wave .wv").length`)
		if bars < 8 {
			t.Errorf("%s's voice message shows a waveform of %d bars", c.a.name, bars)
		}
		// The browser reads the recording from the daemon: its own
		// duration is the message's.
		if d := waitDuration(t, c.a, "Play voice message, 0:30"); math.Abs(d-30) > 0.5 {
			t.Errorf("%s's audio element lasts %.2f s, want 30 s", c.a.name, d)
		}
	}
	played(t, aliceApp)
	typ := eval[string](t, aliceApp, `fetch(document.querySelector("audio").src).then(r => r.headers.get("content-type"))`)
	if typ != "audio/ogg" {
		t.Errorf("the recording is served as %q, want audio/ogg", typ)
	}
}

// TestWebappRecordVoice records a voice message in alice's app from
// Chromium's fake microphone (a beep) and sends it: bob's app shows it
// with its length and plays it.
func TestWebappRecordVoice(t *testing.T) {
	_, alice, bob := startWebPair(t)
	aliceApp := openApp(t, alice,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true))
	bobApp := openApp(t, bob)
	defer checkPage(t, aliceApp, bobApp)
	aliceApp.click(t, byRole("listitem", "bob").prefix())
	aliceApp.click(t, byRole("button", "Record voice message"))
	aliceApp.waitFor(t, byRole("button", "Cancel recording"), webWait)
	time.Sleep(3 * time.Second)
	aliceApp.click(t, byRole("button", "Stop and send voice message"))
	aliceApp.waitFor(t, byRole("button", "Record voice message"), webWait)

	bobApp.click(t, byRole("listitem", "alice").prefix())
	bobApp.waitFor(t, byRole("group", "Voice message").prefix(), 20*time.Second)
	var msgs []api.Message
	bob.mustJSON(t, &msgs, "history", "alice")
	if len(msgs) != 1 || msgs[0].Kind != "voice" || msgs[0].Media == nil {
		t.Fatalf("bob's history with alice: %+v", msgs)
	}
	md := msgs[0].Media
	if md.Type != "audio/webm" || md.DurationMS < 2000 || md.DurationMS > 8000 {
		t.Errorf("the recording arrived as %s of %d ms, want audio/webm of about 3 s", md.Type, md.DurationMS)
	}
	played(t, bobApp)
}

// played starts the first audio element of a's page (muted: a page may
// play muted sound without a gesture) and waits until it has played
// half a second.
func played(t *testing.T, a *app) {
	t.Helper()
	eval[bool](t, a, `(e => (e.muted = true, e.play(), true))(document.querySelector("audio"))`)
	eventually(t, 20*time.Second, func() (bool, string) {
		st := eval[[]any](t, a, `(e => [e.currentTime, e.ended, e.readyState, e.error ? e.error.message : "", e.paused])(document.querySelector("audio"))`)
		at, _ := st[0].(float64)
		return at > 0.5, fmt.Sprintf("%s's player: currentTime, ended, readyState, error, paused = %v", a.name, st)
	})
}
