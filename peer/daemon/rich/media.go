package rich

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/media"
)

// Media checks an incoming image or voice message and returns the text
// it shows (a caption, else the file name) and the JSON to keep beside
// it. A thumbnail must decode as a JPEG within its bounds; an inline
// picture or recording must match its SHA-256.
func Media(ctx context.Context, in Incoming) (text, meta string, err error) {
	it, err := content.Decode(in.Kind, []byte(in.Body))
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrRefused, err)
	}
	switch v := it.(type) {
	case content.Image:
		if _, _, err := media.CheckThumb(ctx, v.Thumb); err != nil {
			return "", "", fmt.Errorf("%w: image %s: %v", ErrRefused, in.ID, err)
		}
		if err := checkSum(v.Data, v.SHA256); err != nil {
			return "", "", err
		}
		text = v.Caption
		if text == "" {
			text = v.Name
		}
		return text, in.Body, nil
	case content.Voice:
		if err := checkSum(v.Data, v.SHA256); err != nil {
			return "", "", err
		}
		return v.Name, in.Body, nil
	}
	return "", "", fmt.Errorf("%w: %s is not an image or voice message", ErrRefused, in.Kind)
}

func checkSum(data []byte, want string) error {
	if len(data) == 0 {
		return nil
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != want {
		return fmt.Errorf("%w: the inline data does not match its sha256", ErrRefused)
	}
	return nil
}

// Stored is the picture or recording a stored image or voice message
// keeps in its JSON.
type Stored struct {
	Kind  string
	Image content.Image
	Voice content.Voice
}

// ParseMedia reads the JSON kept with a stored image or voice message.
func ParseMedia(kind, meta string) (Stored, bool) {
	s := Stored{Kind: kind}
	var err error
	switch kind {
	case content.KindImage:
		err = json.Unmarshal([]byte(meta), &s.Image)
	case content.KindVoice:
		err = json.Unmarshal([]byte(meta), &s.Voice)
	default:
		return Stored{}, false
	}
	return s, err == nil
}

// Data returns the bytes and name of a stored picture or recording kept
// inline; ok is false if it came as a transfer.
func (s Stored) Data() (name string, data []byte, ok bool) {
	if s.Kind == content.KindImage {
		return s.Image.Name, s.Image.Data, len(s.Image.Data) > 0
	}
	return s.Voice.Name, s.Voice.Data, len(s.Voice.Data) > 0
}

// Follow returns what an image or voice message says of the transfer
// that brings its picture or recording: the message's transfer field
// (empty if it is inline), and its name, size and sha256.
func (s Stored) Follow() (transfer, name, sha string, size int64) {
	if s.Kind == content.KindImage {
		return s.Image.Transfer, s.Image.Name, s.Image.SHA256, s.Image.Size
	}
	return s.Voice.Transfer, s.Voice.Name, s.Voice.SHA256, s.Voice.Size
}

// MediaTransferID is the id of the transfer that brings the picture or
// recording of a message whose transfer field is x to recipient: each
// recipient of a group message gets a transfer of its own, and each side
// works out its id alone (docs/protocol.md, "Media transfers").
func MediaTransferID(x, recipient string) string {
	h := sha256.New()
	h.Write([]byte("lanchat media transfer\x00"))
	h.Write([]byte(x))
	h.Write([]byte{0})
	h.Write([]byte(recipient))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
