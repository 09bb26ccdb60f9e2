package rich_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/jpeg"
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
