package rich_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/jpeg"
	"runtime"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/peer/daemon/rich"
	"github.com/lanchat/lanchat/peer/history"
)

func imageBody(t *testing.T, thumb, data []byte, sum string) string {
	t.Helper()
	_, body, err := content.Encode(content.Image{Name: "p.jpg", Type: "image/jpeg", Size: int64(len(data)), SHA256: sum,
		Width: 40, Height: 30, Thumb: thumb, ThumbWidth: 40, ThumbHeight: 30, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

func TestMediaChecksThumbAndSum(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 40, 30)), nil); err != nil {
		t.Fatal(err)
	}
	thumb := buf.Bytes()
	data := []byte("the picture itself")
	s := sha256.Sum256(data)
	sum := hex.EncodeToString(s[:])
	in := rich.Incoming{ID: idX, From: "alice", Conversation: history.Direct("alice"), Kind: "image"}
	ctx := context.Background()

	in.Body = imageBody(t, thumb, data, sum)
	text, meta, err := rich.Media(ctx, in)
	if err != nil || text != "p.jpg" || meta != in.Body {
		t.Fatalf("good image: %q %v", text, err)
	}
	for name, body := range map[string]string{
		"thumbnail not a JPEG": imageBody(t, []byte("GIF89a not really"), data, sum),
		"wrong sha256":         imageBody(t, thumb, data, hex.EncodeToString(make([]byte, 32))),
	} {
		in.Body = body
		if _, _, err := rich.Media(ctx, in); !errors.Is(err, rich.ErrRefused) {
			t.Errorf("%s: %v, want refused", name, err)
		}
	}
}

// bombJPEG is a baseline JPEG whose frame header says w×h, three
// components, followed by nothing a decoder could use: what a peer could
// send as a thumbnail to make the receiver allocate w×h×3 bytes.
func bombJPEG(w, h int) []byte {
	b := []byte{0xff, 0xd8}
	// APP0 JFIF, version 1.1, no thumbnail.
	b = append(b, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0)
	// SOF0: length 17, 8-bit precision, height, width, 3 components.
	b = append(b, 0xff, 0xc0, 0, 17, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return append(b, 0xff, 0xd9)
}

// TestMediaRefusesBombThumb: a received image message whose thumbnail
// claims 60000×60000 pixels (10 GB decoded), or more than a thumbnail's
// 320 a side, is refused from its header, allocating next to nothing.
func TestMediaRefusesBombThumb(t *testing.T) {
	ctx := context.Background()
	data := []byte("the picture itself")
	s := sha256.Sum256(data)
	sum := hex.EncodeToString(s[:])
	for _, side := range []int{60000, 20000, 321} {
		in := rich.Incoming{ID: idX, From: "alice", Conversation: history.Direct("alice"), Kind: "image",
			Body: imageBody(t, bombJPEG(side, side), data, sum)}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err := rich.Media(ctx, in)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, rich.ErrRefused) || !strings.Contains(err.Error(), "too large") {
			t.Fatalf("%d×%d thumbnail: %v, want refused as too large", side, side, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Fatalf("refusing a %d×%d thumbnail allocated %d bytes", side, side, alloc)
		}
	}
}

// TestMediaTransferID: each recipient of a message gets a transfer id of
// its own, the same on both sides.
func TestMediaTransferID(t *testing.T) {
	x := "00112233445566778899aabbccddeeff"
	a, b := rich.MediaTransferID(x, "alice"), rich.MediaTransferID(x, "bob")
	if a == b || a != rich.MediaTransferID(x, "alice") || len(a) != 32 || a == x {
		t.Fatalf("ids %q and %q", a, b)
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Fatalf("id %q: %v", a, err)
	}
}
