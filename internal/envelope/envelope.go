// Package envelope holds the chat message as it travels between peers:
// one value, Message, with one encoding (the inner message below). On a
// direct connection it goes as it is (Encode, Decode), since the
// connection's mutual TLS already proves who sent it. For the rendezvous
// server's relay, which keeps it for a recipient who is offline, it is
// signed and sealed (Seal, Open): the sender signs the message with its
// Ed25519 identity key and seals it with HPKE to the recipient's current
// signed prekey (see package keys); the server sees only a small clear
// header, enough to route the envelope, find the prekey and deduplicate by
// message id. Only standard-library primitives are composed:
// crypto/ed25519, crypto/hpke and crypto/sha256 (through the prekey id).
//
// # Wire layout, version 1
//
// Integers are big-endian; "u8 len || bytes" is a one-byte length followed
// by that many bytes. A message id and a group id travel as their 16 raw
// bytes, a prekey id as its 8 raw bytes (keys.SignedPrekey.ID is their hex).
//
//	envelope   = header || enc || aead
//	header     = 0x01 (version)
//	             || prekey id        [8]
//	             || u8 len || to     (recipient username, 3–32 bytes)
//	             || message id       [16]
//	enc, aead  = hpke.Seal(prekey, HKDF-SHA256, ChaCha20Poly1305, info,
//	                       inner || signature)
//	             (enc is the 1120-byte MLKEM768X25519 encapsulated key,
//	             aead the ciphertext with its 16-byte tag)
//	info       = "lanchat envelope v1\x00" || prekey id || u8 len || to || message id
//	             (that is, the label and the header after its version byte)
//	signature  = Ed25519(sender identity key,
//	                     "lanchat envelope v1\x00" || inner)   [64]
//	inner      = 0x01 (version)
//	             || message id       [16]
//	             || u8 len || from   (sender username, 3–32 bytes)
//	             || u8 len || to     (recipient username, 3–32 bytes)
//	             || u8 len || group  (0 bytes for a direct message, else the 16-byte group id)
//	             || int64 sent       (Unix nanoseconds, not negative)
//	             || u8 len || kind   (1–32 bytes of printable ASCII, no space)
//	             || u32 len || body  (0 to MaxBody bytes)
//
// Usernames follow the protocol's rule (letters, digits, '.', '_', '-') in
// their canonical lower-case form, so every string field is ASCII and thus
// valid UTF-8. Decoding is strict: every length is bounded, every field is
// checked as Seal checks it, and no byte may follow the body, so each
// message has exactly one encoding.
//
// # What the checks guarantee
//
// The signed inner message names the message id, sender, recipient, group
// and time, and the HPKE info binds the prekey id, recipient and message id
// of the clear header. So a server (or anyone) cannot re-address an
// envelope to someone else, re-label it with another id or prekey, or pass
// off one member's copy of a group message as another's: Open refuses all
// of these. Anyone can HPKE-seal to a public prekey; only the signature,
// checked against the sender's pinned identity key, says who wrote the
// message. What the checks cannot stop is a replay of the very same
// envelope (or of the same signed message re-sealed by its recipient);
// that carries the same message id, and the history store, which keeps
// message ids unique, makes it harmless.
package envelope

import (
	"crypto/ed25519"
	"crypto/hpke"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
)

// Version is the envelope format version that this package writes and reads.
const Version = 1

// MaxBody is the largest message body Seal accepts, in bytes.
const MaxBody = 256 << 10

// MaxKind is the longest message kind, in bytes.
const MaxKind = 32

// Sizes of the fixed parts of an envelope.
const (
	idSize       = 16   // message and group ids
	prekeyIDSize = 8    // keys.SignedPrekey.ID, raw
	encSize      = 1120 // MLKEM768X25519 encapsulated key: ML-KEM-768 ciphertext (1088) + X25519 share (32)
	tagSize      = 16   // ChaCha20Poly1305 tag
	sigSize      = ed25519.SignatureSize
	minName      = wire.MinUsername
	maxName      = wire.MaxUsername

	maxHeader = 1 + prekeyIDSize + 1 + maxName + idSize
	minHeader = 1 + prekeyIDSize + 1 + minName + idSize
	maxInner  = 1 + idSize + 1 + maxName + 1 + maxName + 1 + idSize + 8 + 1 + MaxKind + 4 + MaxBody
	minInner  = 1 + idSize + 1 + minName + 1 + minName + 1 + 0 + 8 + 1 + 1 + 4 + 0

	// minSealed is the least that can follow a header: the encapsulated
	// key, the smallest inner message, its signature and the AEAD tag.
	minSealed = encSize + minInner + sigSize + tagSize
)

// MaxEnvelope is the size of the largest envelope Seal can make: a MaxBody
// body with the longest names and kind, 263,547 bytes. Open and Peek
// refuse anything larger. The server's relay limit must be at least this.
const MaxEnvelope = maxHeader + encSize + maxInner + sigSize + tagSize

// label prefixes both the signed bytes and the HPKE info.
const label = "lanchat envelope v1\x00"

// The HPKE suite. The KEM is the prekey's, keys.KEM().
var (
	kdf  = hpke.HKDFSHA256()
	aead = hpke.ChaCha20Poly1305()
)

// Errors from Seal, Open and Peek. Every error Open returns wraps exactly
// one of them, except when senderKey fails (Open wraps that error) or is
// nil.
var (
	// ErrInvalid means Seal was given a message or key that breaks the
	// rules in the package documentation.
	ErrInvalid = errors.New("envelope: invalid message")
	// ErrTooLarge means the body is over MaxBody; send it another way.
	ErrTooLarge = errors.New("envelope: body too large")
	// ErrMalformed means the bytes are not an envelope this package
	// writes: bad length, version, field or trailing bytes.
	ErrMalformed = errors.New("envelope: malformed")
	// ErrWrongRecipient means the header names someone else.
	ErrWrongRecipient = errors.New("envelope: addressed to someone else")
	// ErrUnknownPrekey means the envelope is sealed to a prekey whose
	// secret was not given (rotated, deleted, or someone else's).
	ErrUnknownPrekey = errors.New("envelope: sealed to an unknown prekey")
	// ErrDecrypt means HPKE could not open the ciphertext: it was altered,
	// re-labelled, or sealed to another key.
	ErrDecrypt = errors.New("envelope: cannot decrypt")
	// ErrMismatch means the signed inner message disagrees with the clear
	// header (recipient or message id).
	ErrMismatch = errors.New("envelope: inner message does not match its header")
	// ErrBadSignature means the signature does not verify under the
	// sender's pinned identity key.
	ErrBadSignature = errors.New("envelope: signature does not verify")
)

// Message is what a sealed envelope carries.
type Message struct {
	ID    string    // 128-bit message id, 32 lower-case hex digits
	From  string    // sender username, lower-case
	To    string    // recipient username, lower-case
	Group string    // group id (32 lower-case hex digits), or "" for a direct message
	Sent  time.Time // when the sender wrote it; Open returns it in UTC
	Kind  string    // what Body holds, e.g. "text": 1–MaxKind bytes of printable ASCII
	Body  []byte    // at most MaxBody bytes
}

// Header is the clear part of an envelope, readable without any key.
type Header struct {
	Version  int    // always Version for an envelope Peek accepts
	PrekeyID string // the recipient prekey's ID (keys.SignedPrekey.ID)
	ID       string // the message id, 32 lower-case hex digits
	To       string // the recipient username
}

// Seal signs m with the sender's identity key and seals it to the
// recipient's prekey. The caller must have checked recipientPrekey with
// keys.SignedPrekey.Verify against the recipient's pinned identity key;
// Seal uses only its public key. A body over MaxBody gives ErrTooLarge, any
// other rule broken ErrInvalid.
func Seal(m Message, sender ed25519.PrivateKey, recipientPrekey keys.SignedPrekey) ([]byte, error) {
	in, err := newInner(m)
	if err != nil {
		return nil, fmt.Errorf("seal envelope %q: %w", truncate(m.ID), err)
	}
	if len(sender) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("seal envelope %s: %w: sender key has %d bytes", m.ID, ErrInvalid, len(sender))
	}
	pub, err := keys.KEM().NewPublicKey(recipientPrekey.Public)
	if err != nil {
		return nil, fmt.Errorf("seal envelope %s: %w: recipient prekey: %v", m.ID, ErrInvalid, err)
	}
	var prekeyID [prekeyIDSize]byte
	if _, err := hex.Decode(prekeyID[:], []byte(recipientPrekey.ID())); err != nil {
		return nil, fmt.Errorf("seal envelope %s: prekey id: %w", m.ID, err)
	}

	plain := make([]byte, 0, in.size()+sigSize)
	plain = in.append(plain)
	plain = append(plain, ed25519.Sign(sender, signed(plain))...)

	header := appendHeader(make([]byte, 0, maxHeader), prekeyID, in.to, in.id)
	sealed, err := hpke.Seal(pub, kdf, aead, info(header), plain)
	if err != nil {
		return nil, fmt.Errorf("seal envelope %s: hpke: %w", m.ID, err)
	}
	return append(header, sealed...), nil
}

// Encode checks m as Seal does and encodes it as an inner message (see
// the package documentation), neither signed nor sealed: the form a
// message takes on a direct connection between two peers, whose mutual
// TLS handshake has already proved who is at each end. A body over
// MaxBody gives ErrTooLarge, any other rule broken ErrInvalid.
func Encode(m Message) ([]byte, error) {
	in, err := newInner(m)
	if err != nil {
		return nil, fmt.Errorf("encode message %q: %w", truncate(m.ID), err)
	}
	return in.append(make([]byte, 0, in.size())), nil
}

// Decode decodes an inner message that Encode made, checking every field
// as Open does; anything else (a bad length, version or field, a byte
// after the body) gives an error wrapping ErrMalformed. It checks no
// signature: the caller must know who sent b, and that it is the message's
// From. The returned Body aliases b.
func Decode(b []byte) (Message, error) {
	in, err := parseInner(b)
	if err != nil {
		return Message{}, fmt.Errorf("decode message: %w", err)
	}
	return in.message(), nil
}

// Peek reads the clear header of an envelope without decrypting it, and
// checks that the envelope's size is within what Seal can make. It returns
// an error wrapping ErrMalformed if not.
func Peek(b []byte) (Header, error) {
	h, _, err := parseHeader(b)
	if err != nil {
		return Header{}, fmt.Errorf("peek envelope: %w", err)
	}
	return h.public(), nil
}

// Open checks and opens an envelope addressed to the user me (a lower-case
// username) and sealed to the prekey whose secret and ID are given.
// senderKey returns the pinned identity key of the user the message claims
// to be from; its error is returned wrapped. Open refuses, wrapping the
// sentinel named:
//
//   - bytes that do not parse, or an inner message that does not:
//     ErrMalformed;
//   - a header naming another recipient: ErrWrongRecipient;
//   - a header naming another prekey (or no secret): ErrUnknownPrekey;
//   - a ciphertext that does not open under this secret and header:
//     ErrDecrypt;
//   - an inner message for another recipient or id than the header's:
//     ErrMismatch;
//   - a signature that does not verify under senderKey(From):
//     ErrBadSignature.
//
// Message.From is then the authenticated sender; the relay's own "from" is
// only the server's word. Open does not deduplicate: the same envelope
// opens as often as it is given.
func Open(b []byte, me string, prekeySecret hpke.PrivateKey, prekeyID string, senderKey func(user string) (ed25519.PublicKey, error)) (Message, error) {
	h, n, err := parseHeader(b)
	if err != nil {
		return Message{}, fmt.Errorf("open envelope: %w", err)
	}
	id := hex.EncodeToString(h.id[:])
	if h.to != me {
		return Message{}, fmt.Errorf("open envelope %s: %w: it is for %s, not %s", id, ErrWrongRecipient, h.to, me)
	}
	if hex.EncodeToString(h.prekeyID[:]) != prekeyID || prekeySecret == nil {
		return Message{}, fmt.Errorf("open envelope %s: %w: %x", id, ErrUnknownPrekey, h.prekeyID)
	}
	plain, err := hpke.Open(prekeySecret, kdf, aead, info(b[:n]), b[n:])
	if err != nil {
		return Message{}, fmt.Errorf("open envelope %s: %w: %v", id, ErrDecrypt, err)
	}
	if len(plain) < sigSize {
		return Message{}, fmt.Errorf("open envelope %s: %w: no signature", id, ErrMalformed)
	}
	innerBytes, sig := plain[:len(plain)-sigSize], plain[len(plain)-sigSize:]
	in, err := parseInner(innerBytes)
	if err != nil {
		return Message{}, fmt.Errorf("open envelope %s: %w", id, err)
	}
	if in.to != h.to {
		return Message{}, fmt.Errorf("open envelope %s: %w: inner recipient is %s", id, ErrMismatch, in.to)
	}
	if in.id != h.id {
		return Message{}, fmt.Errorf("open envelope %s: %w: inner id is %x", id, ErrMismatch, in.id)
	}
	if senderKey == nil {
		return Message{}, fmt.Errorf("open envelope %s: no sender key lookup", id)
	}
	pub, err := senderKey(in.from)
	if err != nil {
		return Message{}, fmt.Errorf("open envelope %s: key of sender %s: %w", id, in.from, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return Message{}, fmt.Errorf("open envelope %s: %w: key of sender %s has %d bytes", id, ErrBadSignature, in.from, len(pub))
	}
	if !ed25519.Verify(pub, signed(innerBytes), sig) {
		return Message{}, fmt.Errorf("open envelope %s: %w: not signed by %s", id, ErrBadSignature, in.from)
	}
	return in.message(), nil
}

// signed is what the sender's identity key signs.
func signed(inner []byte) []byte {
	b := make([]byte, 0, len(label)+len(inner))
	b = append(b, label...)
	return append(b, inner...)
}

// info is the HPKE info for an envelope with the given header: the label,
// then the header after its version byte (which the label already names).
func info(header []byte) []byte {
	b := make([]byte, 0, len(label)+len(header)-1)
	b = append(b, label...)
	return append(b, header[1:]...)
}

// header is the parsed clear header.
type header struct {
	prekeyID [prekeyIDSize]byte
	to       string
	id       [idSize]byte
}

func (h header) public() Header {
	return Header{
		Version:  Version,
		PrekeyID: hex.EncodeToString(h.prekeyID[:]),
		ID:       hex.EncodeToString(h.id[:]),
		To:       h.to,
	}
}

func appendHeader(b []byte, prekeyID [prekeyIDSize]byte, to string, id [idSize]byte) []byte {
	b = append(b, Version)
	b = append(b, prekeyID[:]...)
	b = append(b, byte(len(to)))
	b = append(b, to...)
	return append(b, id[:]...)
}

// parseHeader parses the header at the start of b and returns it with its
// length. It also checks b's total size.
func parseHeader(b []byte) (header, int, error) {
	var h header
	if len(b) > MaxEnvelope {
		return h, 0, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxEnvelope)
	}
	if len(b) < minHeader+minSealed {
		return h, 0, fmt.Errorf("%w: %d bytes, too short", ErrMalformed, len(b))
	}
	r := reader{b: b}
	if v := r.u8(); v != Version {
		return h, 0, fmt.Errorf("%w: version %d", ErrMalformed, v)
	}
	copy(h.prekeyID[:], r.next(prekeyIDSize))
	to, err := r.name("recipient")
	if err != nil {
		return h, 0, err
	}
	h.to = to
	copy(h.id[:], r.next(idSize))
	if r.err != nil || len(r.b) < minSealed {
		return h, 0, fmt.Errorf("%w: too short", ErrMalformed)
	}
	return h, len(b) - len(r.b), nil
}

// inner is the signed message in its wire form.
type inner struct {
	id    [idSize]byte
	from  string
	to    string
	group []byte // empty or idSize bytes
	sent  int64  // Unix nanoseconds
	kind  string
	body  []byte
}

// newInner checks m and converts it to its wire form.
func newInner(m Message) (inner, error) {
	var in inner
	if len(m.Body) > MaxBody {
		return in, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(m.Body), MaxBody)
	}
	if !isHexID(m.ID) {
		return in, fmt.Errorf("%w: message id must be 32 lower-case hex digits", ErrInvalid)
	}
	hex.Decode(in.id[:], []byte(m.ID))
	if !isName(m.From) {
		return in, fmt.Errorf("%w: sender %q is not a lower-case username", ErrInvalid, truncate(m.From))
	}
	if !isName(m.To) {
		return in, fmt.Errorf("%w: recipient %q is not a lower-case username", ErrInvalid, truncate(m.To))
	}
	if m.Group != "" {
		if !isHexID(m.Group) {
			return in, fmt.Errorf("%w: group id %q must be 32 lower-case hex digits", ErrInvalid, truncate(m.Group))
		}
		in.group, _ = hex.DecodeString(m.Group)
	}
	if m.Sent.Before(time.Unix(0, 0)) || m.Sent.After(time.Unix(0, math.MaxInt64)) {
		return in, fmt.Errorf("%w: sent time %v outside 1970–2262", ErrInvalid, m.Sent)
	}
	if !isKind(m.Kind) {
		return in, fmt.Errorf("%w: kind %q must be 1 to %d printable ASCII bytes", ErrInvalid, truncate(m.Kind), MaxKind)
	}
	in.from, in.to, in.sent, in.kind, in.body = m.From, m.To, m.Sent.UnixNano(), m.Kind, m.Body
	return in, nil
}

func (in inner) message() Message {
	m := Message{
		ID:   hex.EncodeToString(in.id[:]),
		From: in.from,
		To:   in.to,
		Sent: time.Unix(0, in.sent).UTC(),
		Kind: in.kind,
		Body: in.body,
	}
	if len(in.group) > 0 {
		m.Group = hex.EncodeToString(in.group)
	}
	return m
}

// size is the length of the encoded inner message.
func (in inner) size() int {
	return 1 + idSize + 1 + len(in.from) + 1 + len(in.to) + 1 + len(in.group) + 8 + 1 + len(in.kind) + 4 + len(in.body)
}

func (in inner) append(b []byte) []byte {
	b = append(b, Version)
	b = append(b, in.id[:]...)
	b = append(b, byte(len(in.from)))
	b = append(b, in.from...)
	b = append(b, byte(len(in.to)))
	b = append(b, in.to...)
	b = append(b, byte(len(in.group)))
	b = append(b, in.group...)
	b = binary.BigEndian.AppendUint64(b, uint64(in.sent))
	b = append(b, byte(len(in.kind)))
	b = append(b, in.kind...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(in.body)))
	return append(b, in.body...)
}

// parseInner decodes an inner message, refusing anything newInner would
// refuse and any byte after the body. The body aliases b.
func parseInner(b []byte) (inner, error) {
	var in inner
	if len(b) < minInner || len(b) > maxInner {
		return in, fmt.Errorf("%w: inner message of %d bytes", ErrMalformed, len(b))
	}
	r := reader{b: b}
	if v := r.u8(); v != Version {
		return in, fmt.Errorf("%w: inner version %d", ErrMalformed, v)
	}
	copy(in.id[:], r.next(idSize))
	var err error
	if in.from, err = r.name("sender"); err != nil {
		return in, err
	}
	if in.to, err = r.name("recipient"); err != nil {
		return in, err
	}
	switch n := int(r.u8()); n {
	case 0:
	case idSize:
		in.group = r.next(idSize)
	default:
		return in, fmt.Errorf("%w: group id of %d bytes", ErrMalformed, n)
	}
	in.sent = int64(r.u64())
	if in.sent < 0 {
		return in, fmt.Errorf("%w: sent time before 1970", ErrMalformed)
	}
	in.kind = string(r.next(int(r.u8())))
	if r.err == nil && !isKind(in.kind) {
		return in, fmt.Errorf("%w: kind %q", ErrMalformed, truncate(in.kind))
	}
	n := r.u32()
	if n > MaxBody {
		return in, fmt.Errorf("%w: body of %d bytes", ErrMalformed, n)
	}
	in.body = r.next(int(n))
	if r.err != nil {
		return in, fmt.Errorf("%w: inner message truncated", ErrMalformed)
	}
	if len(r.b) != 0 {
		return in, fmt.Errorf("%w: %d bytes after the body", ErrMalformed, len(r.b))
	}
	return in, nil
}

// reader consumes b from the front. After a read past the end, err is set
// and every later read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = ErrMalformed
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if v := r.next(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.next(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.next(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// name reads a length-prefixed username and checks it.
func (r *reader) name(what string) (string, error) {
	s := string(r.next(int(r.u8())))
	if r.err != nil {
		return "", fmt.Errorf("%w: truncated %s", ErrMalformed, what)
	}
	if !isName(s) {
		return "", fmt.Errorf("%w: %s %q is not a lower-case username", ErrMalformed, what, truncate(s))
	}
	return s, nil
}

// isName reports whether s is a username in canonical (lower-case) form.
func isName(s string) bool {
	norm, werr := wire.NormalizeUsername("username", s)
	return werr == nil && norm == s
}

// isHexID reports whether s is 128 bits as 32 lower-case hex digits.
func isHexID(s string) bool {
	return wire.CheckMessageID("id", s) == nil
}

// isKind reports whether s is 1 to MaxKind bytes of printable ASCII other
// than space.
func isKind(s string) bool {
	if len(s) == 0 || len(s) > MaxKind {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
