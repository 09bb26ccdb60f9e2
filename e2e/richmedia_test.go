package e2e

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// noisyJPEG is a w×h JPEG of noise (which compresses badly, so it is
// large) with an EXIF segment after its start marker, as a camera's.
func noisyJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(rng.IntN(256)), uint8(x), uint8(rng.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	// APP1 "Exif": a little-endian TIFF header and an empty first IFD.
	exif := append([]byte("Exif\x00\x00II*\x00\x08\x00\x00\x00"), 0, 0, 0, 0, 0, 0)
	seg := binary.BigEndian.AppendUint16([]byte{0xff, 0xe1}, uint16(2+len(exif)))
	seg = append(seg, exif...)
	out := append([]byte{0xff, 0xd8}, seg...)
	return append(out, buf.Bytes()[2:]...)
}

var reSHA256Name = regexp.MustCompile(`^[0-9a-f]{64}$`)

// mediaStored returns the files of u's media store, by name.
func (u *user) mediaStored(t *testing.T) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(u.home, "media"))
	if err != nil {
		t.Fatalf("%s's media store: %v", u.name, err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		if e.Type().IsRegular() && reSHA256Name.MatchString(e.Name()) {
			b, err := os.ReadFile(filepath.Join(u.home, "media", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
	}
	return out
}

// waitFull waits until u's copy of message id with target has its full
// picture or recording.
func (u *user) waitFull(t *testing.T, target, id string) api.Message {
	t.Helper()
	var m api.Message
	eventually(t, 90*time.Second, func() (bool, string) {
		for _, x := range u.history(t, target) {
			if x.ID == id {
				m = x
				return m.Media != nil && m.Media.Full, fmt.Sprintf("%s's copy of %s: %+v", u.name, id, m.Media)
			}
		}
		return false, fmt.Sprintf("%s has no message %s", u.name, id)
	})
	return m
}

// TestRichImageFollowsTransfer: a picture over the inline limit, sent
// while bob is offline, reaches him through the relay as its thumbnail
// (history and API show it, open says only the thumbnail is here); the
// full picture, metadata stripped, follows as a transfer once both
// daemons are online with a direct path, after a restart of each side
// in between, and then open writes the bytes alice's daemon stored.
func TestRichImageFollowsTransfer(t *testing.T) {
	_, alice, bob := startFriends(t)
	photo := filepath.Join(t.TempDir(), "photo.jpg")
	orig := noisyJPEG(t, 1000, 750)
	if len(orig) <= 256<<10 {
		t.Fatalf("the test picture is only %d bytes", len(orig))
	}
	if err := os.WriteFile(photo, orig, 0o600); err != nil {
		t.Fatal(err)
	}

	bob.stop(t)
	var sent []api.SendResult
	alice.mustJSON(t, &sent, "send-image", "bob", photo)
	if len(sent) != 1 {
		t.Fatalf("send-image: %+v", sent)
	}
	id := sent[0].ID
	alice.waitState(t, "bob", "photo.jpg", "sent", 15*time.Second)
	mine := alice.byID(t, "bob", id)
	if mine.Media == nil || !mine.Media.Full || mine.Media.Size <= 128<<10 {
		t.Fatalf("alice's own copy: %+v", mine.Media)
	}
	stored := alice.mediaStored(t)
	if len(stored) != 1 {
		t.Fatalf("alice's media store holds %d files", len(stored))
	}
	var sha string
	var full []byte
	for sha, full = range stored {
	}
	if sum := sha256.Sum256(full); hex.EncodeToString(sum[:]) != sha || int64(len(full)) != mine.Media.Size {
		t.Fatalf("alice's stored picture does not match its name or size")
	}
	if bytes.Equal(full, orig) || bytes.Contains(full, []byte("Exif\x00\x00")) {
		t.Fatal("alice's daemon kept the picture's EXIF")
	}

	// The sender restarts, then goes away: bob gets the relayed copy alone.
	alice.stop(t)
	alice.start(t)
	alice.stop(t)
	bob.start(t)
	m := bob.waitShown(t, "alice", id, "the thumbnail alone", func(m api.Message) bool {
		return m.Kind == "image" && m.Media != nil && len(m.Media.Thumb) > 0
	})
	if m.Media.Full || m.Media.Transfer == "" || m.Via != "relay" || m.Media.Size != int64(len(full)) ||
		m.Media.Width != 1000 || m.Media.Height != 750 {
		t.Fatalf("bob's relayed copy: via %q, %+v", m.Via, m.Media)
	}
	thumb, err := jpeg.Decode(bytes.NewReader(m.Media.Thumb))
	if err != nil || max(thumb.Bounds().Dx(), thumb.Bounds().Dy()) > 320 || len(m.Media.Thumb) >= 48<<10 {
		t.Fatalf("bob's thumbnail: %d bytes, %v", len(m.Media.Thumb), err)
	}
	if l := bob.historyLine(t, "alice", id); !strings.Contains(l, "[image photo.jpg ") {
		t.Fatalf("bob's history: %q", l)
	}
	if e := bob.fails(t, "open", id); !strings.Contains(e, "only the thumbnail") {
		t.Fatalf("open before the full picture came: %q", e)
	}

	// The receiver restarts; then both are online and the picture follows.
	bob.stop(t)
	bob.start(t)
	alice.start(t)
	m = bob.waitFull(t, "alice", id)
	got, err := os.ReadFile(strings.TrimSpace(bob.must(t, "open", id)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, full) {
		t.Fatalf("bob opened %d bytes, not the %d alice's daemon sent", len(got), len(full))
	}
	if _, ok := bob.mediaStored(t)[sha]; !ok {
		t.Fatal("bob's media store does not hold the picture under its sha256")
	}
	var trs []api.Transfer
	bob.mustJSON(t, &trs, "transfers")
	if len(trs) != 1 || trs[0].ID != m.Media.Transfer || trs[0].State != "done" || trs[0].Total != int64(len(full)) {
		t.Fatalf("bob's transfers: %+v", trs)
	}
}

// pngChunk frames a PNG chunk.
func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// bombPNG is a grey PNG that says it is w×h with the given bit depth and
// colour type, whose data is rows rows of zeros (a few bytes each
// compressed): a decoder would allocate for w×h pixels.
func bombPNG(t *testing.T, w, h, depth, colour, rows int) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, byte(depth), byte(colour), 0, 0, 0)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+(w*depth+7)/8)
	for range rows {
		zw.Write(row)
	}
	zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// TestRichImageBombRefused: pictures that claim vast pixel counts are
// refused by send-image with a clear error, from their header, and the
// daemon's resident memory does not grow while it refuses them. Its
// bounds (internal/media.DefaultLimits) are 16384 pixels a side, 40
// megapixels and 160 MiB of decoded pixels; this test allows 32 MiB of
// growth, far below what decoding any of them would take (300 MiB to
// 10 GB).
func TestRichImageBombRefused(t *testing.T) {
	_, alice, _ := startFriends(t)
	dir := t.TempDir()
	bombs := []struct {
		name string
		data []byte
		want string
	}{
		// 20000×20000 1-bit, every row present: 50 MB of zeros in ~50 KB.
		{"side.png", bombPNG(t, 20000, 20000, 1, 0, 20000), "16384 on a side"},
		// 50000×50000, 2.5 gigapixels, header and a few rows.
		{"vast.png", bombPNG(t, 50000, 50000, 8, 0, 64), "16384 on a side"},
		// 12000×12000 1-bit: within the side limit, over the pixel limit.
		{"pixels.png", bombPNG(t, 12000, 12000, 1, 0, 12000), "pixels, the most is 40000000"},
		// 6000×6000 16-bit RGBA: within both, 288 MB of pixels.
		{"deep.png", bombPNG(t, 6000, 6000, 16, 6, 16), "MiB, the most is 160 MiB"},
	}
	pid := alice.daemon.PID()
	rss0, _, err := testbed.Memory(pid)
	if err != nil {
		t.Skipf("no /proc memory figures here: %v", err)
	}
	reset := testbed.ResetPeak(pid) == nil
	for _, b := range bombs {
		p := filepath.Join(dir, b.name)
		if err := os.WriteFile(p, b.data, 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		e := alice.fails(t, "send-image", "bob", p)
		t.Logf("%s (%d bytes) refused in %v: %s", b.name, len(b.data), time.Since(start), strings.TrimSpace(e))
		if !strings.Contains(e, "is not a picture lanchat can send") || !strings.Contains(e, "too large") || !strings.Contains(e, b.want) {
			t.Fatalf("send-image %s: %q, want a too-large refusal naming %q", b.name, e, b.want)
		}
	}
	rss1, hwm1, err := testbed.Memory(pid)
	if err != nil {
		t.Fatal(err)
	}
	peak := rss1
	if reset {
		peak = max(peak, hwm1)
	}
	t.Logf("daemon resident memory: %d MiB before, %d MiB after, peak %d MiB (peak reset: %v)", rss0>>20, rss1>>20, peak>>20, reset)
	if peak-rss0 > 32<<20 {
		t.Fatalf("the daemon grew by %d MiB while refusing bombs", (peak-rss0)>>20)
	}
	if ms := alice.history(t, "bob"); len(ms) != 0 {
		t.Fatalf("a refused picture left messages: %+v", ms)
	}
}

// oggOpusRecording is an Ogg/Opus recording of seconds seconds: 20 ms
// CELT packets of size bytes, 50 to a page.
func oggOpusRecording(seconds, size int) []byte {
	page := func(flags byte, granule int64, seq uint32, packets ...[]byte) []byte {
		var lacing, body []byte
		for _, p := range packets {
			n := len(p)
			for ; n >= 255; n -= 255 {
				lacing = append(lacing, 255)
			}
			lacing = append(lacing, byte(n))
			body = append(body, p...)
		}
		h := append([]byte("OggS\x00"), flags)
		h = binary.LittleEndian.AppendUint64(h, uint64(granule))
		h = binary.LittleEndian.AppendUint32(h, 0x1234)
		h = binary.LittleEndian.AppendUint32(h, seq)
		h = append(h, 0, 0, 0, 0, byte(len(lacing)))
		return append(append(h, lacing...), body...)
	}
	head := binary.LittleEndian.AppendUint16([]byte("OpusHead\x01\x01"), 312)
	head = append(binary.LittleEndian.AppendUint32(head, 48000), 0, 0, 0)
	out := page(0x02, 0, 0, head)
	out = append(out, page(0, 0, 1, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"))...)
	packets := seconds * 50
	var samples int64
	for i, seq := 0, uint32(2); i < packets; i, seq = i+50, seq+1 {
		n := min(50, packets-i)
		ps := make([][]byte, n)
		for j := range ps {
			ps[j] = make([]byte, size)
			ps[j][0] = 0xf8
			ps[j][1] = byte(i + j)
		}
		samples += int64(n) * 960
		flags := byte(0)
		if i+50 >= packets {
			flags = 0x04
		}
		out = append(out, page(flags, samples+312, seq, ps...)...)
	}
	return out
}

// TestRichVoiceFollowsTransfer: a recording over the inline limit comes
// as its duration and waveform at once and its bytes by a transfer,
// kept in bob's media store like a picture; open writes them out.
func TestRichVoiceFollowsTransfer(t *testing.T) {
	_, alice, bob := startFriends(t)
	memo := filepath.Join(t.TempDir(), "memo.ogg")
	rec := oggOpusRecording(60, 300)
	if len(rec) <= 256<<10 {
		t.Fatalf("the test recording is only %d bytes", len(rec))
	}
	if err := os.WriteFile(memo, rec, 0o600); err != nil {
		t.Fatal(err)
	}
	var sent api.SendResult
	alice.mustJSON(t, &sent, "send-voice", "bob", memo)
	m := bob.waitFull(t, "alice", sent.ID)
	if m.Kind != "voice" || m.Media.DurationMS < 59_000 || m.Media.DurationMS > 61_000 || len(m.Media.Waveform) == 0 || m.Media.Transfer == "" {
		t.Fatalf("bob's voice message: %+v", m.Media)
	}
	got, err := os.ReadFile(strings.TrimSpace(bob.must(t, "open", sent.ID)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rec) {
		t.Fatalf("bob opened %d bytes, not the %d-byte recording", len(got), len(rec))
	}
	sum := sha256.Sum256(rec)
	if _, ok := bob.mediaStored(t)[hex.EncodeToString(sum[:])]; !ok {
		t.Fatal("bob's media store does not hold the recording")
	}
}

// TestRichImageToGroup: a picture over the inline limit sent to a group
// reaches each member, who need not be the sender's friends, by a
// transfer of their own.
func TestRichImageToGroup(t *testing.T) {
	_, us := startUsers(t, "alice", "bob", "carol")
	alice, bob, carol := us[0], us[1], us[2]
	alice.must(t, "group", "create", "team")
	for _, u := range []*user{bob, carol} {
		alice.must(t, "group", "invite", "team", u.name)
		u.must(t, "group", "join", "team")
	}
	eventually(t, 15*time.Second, func() (bool, string) {
		for _, u := range us {
			var gm api.GroupMembers
			u.mustJSON(t, &gm, "group", "members", "team")
			if len(gm.Members) != 3 {
				return false, u.name + " does not see 3 members"
			}
		}
		return true, ""
	})
	photo := filepath.Join(t.TempDir(), "team.jpg")
	if err := os.WriteFile(photo, noisyJPEG(t, 800, 600), 0o600); err != nil {
		t.Fatal(err)
	}
	var sent []api.SendResult
	alice.mustJSON(t, &sent, "send-image", "#team", photo)
	var full []byte
	for _, b := range alice.mediaStored(t) {
		full = b
	}
	if len(full) <= 128<<10 {
		t.Fatalf("the picture sent is %d bytes, within the inline limit", len(full))
	}
	seen := map[string]bool{}
	for _, u := range []*user{bob, carol} {
		m := u.waitFull(t, "#team", sent[0].ID)
		if seen[m.Media.Transfer] {
			t.Fatalf("%s's transfer %s is another member's too", u.name, m.Media.Transfer)
		}
		seen[m.Media.Transfer] = true
		got, err := os.ReadFile(strings.TrimSpace(u.must(t, "open", sent[0].ID)))
		if err != nil || !bytes.Equal(got, full) {
			t.Fatalf("%s opened %d bytes (%v), not the %d sent", u.name, len(got), err, len(full))
		}
	}
	var trs []api.Transfer
	alice.mustJSON(t, &trs, "transfers")
	if len(trs) != 2 || trs[0].State != "done" || trs[1].State != "done" || trs[0].Group == "" {
		t.Fatalf("alice's transfers: %+v", trs)
	}
}
