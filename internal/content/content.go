// Package content defines what the body of a conversation message holds
// for each message kind: text, pictures and voice recordings, files in the
// timeline, replies, reactions, edits, recalls, read receipts and typing.
// A message travels with a kind and a body (directly, or sealed through
// the relay; see internal/envelope and docs/protocol.md, "Message kinds");
// this package turns a body into a small Go value and back, and checks
// every bound a body must keep.
//
// A text body is the UTF-8 text itself, as it always was. Every other kind
// has a JSON object as its body, decoded strictly: no unknown field, no
// trailing data, no field out of its bounds. Byte strings (thumbnails,
// inline pictures and recordings) are standard base64, as encoding/json
// writes them.
//
// What a body cannot say alone is checked by its receiver against its
// history, not here: that a reply, reaction, edit or recall refers to a
// message of the same conversation; that only the sender of a message
// edits or recalls it (an edit or recall names only a message id, which
// is taken as the signed sender's own); that an edit or recall comes
// within MaxEditAge.
package content

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/internal/wire"
)

// The message kinds.
const (
	KindText     = "text"     // Text
	KindImage    = "image"    // Image
	KindVoice    = "voice"    // Voice
	KindFile     = "file"     // File
	KindReply    = "reply"    // Reply
	KindReaction = "reaction" // Reaction
	KindEdit     = "edit"     // Edit
	KindRecall   = "recall"   // Recall
	KindRead     = "read"     // Read
	KindTyping   = "typing"   // Typing
	// KindShare, KindUnshare and KindHolder are in library.go.
)

// Bounds every body keeps.
const (
	// MaxBody is the largest encoded body of any kind, the most a sealed
	// envelope carries (envelope.MaxBody).
	MaxBody = 256 << 10
	// MaxText is the largest text, in bytes: of a text message, a reply,
	// an edit.
	MaxText = 64 << 10
	// MaxEditAge is how long after a message its sender may edit or
	// recall it, by the messages' send times.
	MaxEditAge = 24 * time.Hour
)

// Errors Decode and Encode return; every error wraps one of them.
var (
	// ErrUnknownKind means the kind is none of this package's.
	ErrUnknownKind = errors.New("unknown message kind")
	// ErrMalformed means the body does not decode: not JSON, an unknown
	// field, trailing data, a value of the wrong type.
	ErrMalformed = errors.New("malformed message body")
	// ErrInvalid means a field breaks its rule (see each type's Validate).
	ErrInvalid = errors.New("invalid message body")
	// ErrTooLarge means the body is over MaxBody.
	ErrTooLarge = errors.New("message body too large")
)

// Item is the body of one message kind.
type Item interface {
	// Kind is the message kind the body travels under.
	Kind() string
	// Validate checks every bound of the body, returning an error that
	// wraps ErrInvalid.
	Validate() error
}

// Decode decodes and validates the body of a message of the given kind.
func Decode(kind string, body []byte) (Item, error) {
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%s: %w: %d bytes, the most is %d", kind, ErrTooLarge, len(body), MaxBody)
	}
	var it Item
	switch kind {
	case KindText:
		t := Text(body)
		if err := t.Validate(); err != nil {
			return nil, err
		}
		return t, nil
	case KindImage:
		it = new(Image)
	case KindVoice:
		it = new(Voice)
	case KindFile:
		it = new(File)
	case KindReply:
		it = new(Reply)
	case KindReaction:
		it = new(Reaction)
	case KindEdit:
		it = new(Edit)
	case KindRecall:
		it = new(Recall)
	case KindRead:
		it = new(Read)
	case KindTyping:
		it = new(Typing)
	case KindShare:
		it = new(Share)
	case KindUnshare:
		it = new(Unshare)
	case KindHolder:
		it = new(Holder)
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownKind, clip(kind))
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%s: %w: the body is not a JSON object", kind, ErrMalformed)
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(it); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", kind, ErrMalformed, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: %w: data after the object", kind, ErrMalformed)
	}
	if err := it.Validate(); err != nil {
		return nil, err
	}
	// Return values, not pointers, as Encode takes them.
	switch v := it.(type) {
	case *Image:
		return *v, nil
	case *Voice:
		return *v, nil
	case *File:
		return *v, nil
	case *Reply:
		return *v, nil
	case *Reaction:
		return *v, nil
	case *Edit:
		return *v, nil
	case *Recall:
		return *v, nil
	case *Read:
		return *v, nil
	case *Typing:
		return *v, nil
	case *Share:
		return *v, nil
	case *Unshare:
		return *v, nil
	case *Holder:
		return *v, nil
	}
	return it, nil
}

// Encode validates it and returns its kind and body.
func Encode(it Item) (kind string, body []byte, err error) {
	if err := it.Validate(); err != nil {
		return "", nil, err
	}
	if t, ok := it.(Text); ok {
		return KindText, []byte(t), nil
	}
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(it); err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", it.Kind(), err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > MaxBody {
		return "", nil, fmt.Errorf("%s: %w: %d bytes encoded, the most is %d", it.Kind(), ErrTooLarge, len(b), MaxBody)
	}
	return it.Kind(), b, nil
}

// invalid makes an ErrInvalid for a field of a kind.
func invalid(kind, field, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s %s", kind, ErrInvalid, field, fmt.Sprintf(format, args...))
}

// checkID checks a message (or transfer) id: 32 lower-case hex digits.
func checkID(kind, field, id string) error {
	if wire.CheckMessageID(field, id) != nil {
		return invalid(kind, field, "must be 32 lower-case hex digits")
	}
	return nil
}

// checkUser checks a username in its canonical lower-case form.
func checkUser(kind, field, user string) error {
	if norm, werr := wire.NormalizeUsername(field, user); werr != nil || norm != user {
		return invalid(kind, field, "must be a lower-case username")
	}
	return nil
}

// checkText checks a text that must say something: valid UTF-8, not only
// white space, at most max bytes.
func checkText(kind, field, s string, max int) error {
	if !utf8.ValidString(s) {
		return invalid(kind, field, "must be valid UTF-8")
	}
	if len(s) > max {
		return invalid(kind, field, "is %d bytes; the most is %d", len(s), max)
	}
	if strings.TrimSpace(s) == "" {
		return invalid(kind, field, "is empty")
	}
	return nil
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Ref names a message by its identity: its sender and id.
type Ref struct {
	From string `json:"from"`
	ID   string `json:"id"`
}

func (r Ref) validate(kind, field string) error {
	if err := checkUser(kind, field+".from", r.From); err != nil {
		return err
	}
	return checkID(kind, field+".id", r.ID)
}
