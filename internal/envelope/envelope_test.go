package envelope

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
)

// party is one user: an identity key and a current prekey.
type party struct {
	name     string
	identity ed25519.PrivateKey
	prekey   keys.SignedPrekey
	secret   hpke.PrivateKey
}

func newParty(t testing.TB, name string) *party {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &party{name: name, identity: priv}
	p.rotate(t)
	return p
}

// rotate gives p a fresh prekey.
func (p *party) rotate(t testing.TB) {
	t.Helper()
	pk, secret, err := keys.NewPrekey(p.identity, p.name, time.Now(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p.prekey, p.secret = pk, secret
}

func (p *party) public() ed25519.PublicKey { return p.identity.Public().(ed25519.PublicKey) }

// errUnknownSender is what pinned returns for a user it does not know.
var errUnknownSender = errors.New("no pinned key")

// pinned returns a senderKey function that knows the given parties' keys.
func pinned(ps ...*party) func(string) (ed25519.PublicKey, error) {
	return func(user string) (ed25519.PublicKey, error) {
		for _, p := range ps {
			if p.name == user {
				return p.public(), nil
			}
		}
		return nil, fmt.Errorf("%s: %w", user, errUnknownSender)
	}
}

// open opens b as p, with p's current prekey, trusting the senders' keys.
func (p *party) open(b []byte, senders ...*party) (Message, error) {
	return Open(b, p.name, p.secret, p.prekey.ID(), pinned(senders...))
}

func newID(t testing.TB) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func textMessage(t testing.TB, from, to *party, text string) Message {
	return Message{ID: newID(t), From: from.name, To: to.name, Sent: time.Now(), Kind: "text", Body: []byte(text)}
}

func seal(t testing.TB, m Message, from, to *party) []byte {
	t.Helper()
	b, err := Seal(m, from.identity, to.prekey)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return b
}

// headerLen is the length of b's clear header.
func headerLen(t testing.TB, b []byte) int {
	t.Helper()
	_, n, err := parseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func sameMessage(t testing.TB, got, want Message) {
	t.Helper()
	if got.ID != want.ID || got.From != want.From || got.To != want.To || got.Group != want.Group || got.Kind != want.Kind {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !got.Sent.Equal(want.Sent) || got.Sent.Location() != time.UTC {
		t.Errorf("sent %v, want %v in UTC", got.Sent, want.Sent)
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("body %q, want %q", got.Body, want.Body)
	}
}

func TestRoundTrip(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	tests := []struct {
		name string
		m    Message
	}{
		{"text", Message{From: "alice", To: "bob", Kind: "text",
			Body: []byte("Hi Bob 👋\nsee you at 3?\r\n\n— Alice 🇫🇷")}},
		{"group", Message{From: "alice", To: "bob", Group: "0123456789abcdef0123456789abcdef", Kind: "text",
			Body: []byte("lunch at noon, everyone 🍜")}},
		{"empty body", Message{From: "alice", To: "bob", Kind: "typing"}},
		{"binary body", Message{From: "alice", To: "bob", Kind: "image/png", Body: binary}},
		{"largest body", Message{From: "alice", To: "bob", Kind: "file", Body: bytes.Repeat([]byte{0xa5}, MaxBody)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			m.ID = newID(t)
			m.Sent = time.Date(2025, 11, 22, 9, 30, 15, 123456789, time.FixedZone("CET", 3600))
			b := seal(t, m, alice, bob)

			h, err := Peek(b)
			if err != nil {
				t.Fatalf("peek: %v", err)
			}
			if want := (Header{Version: Version, PrekeyID: bob.prekey.ID(), ID: m.ID, To: "bob"}); h != want {
				t.Errorf("peek: got %+v, want %+v", h, want)
			}
			got, err := bob.open(b, alice)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			sameMessage(t, got, m)
			if len(m.Body) >= 16 && bytes.Contains(b, m.Body[:16]) {
				t.Error("body visible in the envelope")
			}
			if bytes.Contains(b, []byte("alice")) {
				t.Error("sender visible in the envelope")
			}
		})
	}
}

func TestSealsAreRandomized(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	m := textMessage(t, alice, bob, "same")
	if a, b := seal(t, m, alice, bob), seal(t, m, alice, bob); bytes.Equal(a, b) {
		t.Error("two seals of one message are equal")
	}
}

// TestMaxEnvelope checks the size bounds against real envelopes, and with
// them the sizes assumed for the HPKE suite.
func TestMaxEnvelope(t *testing.T) {
	if MaxEnvelope != 263547 {
		t.Errorf("MaxEnvelope is %d; update its documentation", MaxEnvelope)
	}
	long := strings.Repeat("a", maxName)
	from, to := newParty(t, long), newParty(t, strings.Repeat("b", maxName))
	m := Message{
		ID: newID(t), From: from.name, To: to.name, Group: newID(t), Sent: time.Now(),
		Kind: strings.Repeat("k", MaxKind), Body: make([]byte, MaxBody),
	}
	if b := seal(t, m, from, to); len(b) != MaxEnvelope {
		t.Errorf("largest envelope is %d bytes, MaxEnvelope is %d", len(b), MaxEnvelope)
	}
	if _, err := to.open(seal(t, m, from, to), from); err != nil {
		t.Errorf("open largest envelope: %v", err)
	}

	x, y := newParty(t, "xyz"), newParty(t, "abc")
	small := Message{ID: newID(t), From: x.name, To: y.name, Sent: time.Unix(0, 0), Kind: "t"}
	if b := seal(t, small, x, y); len(b) != minHeader+minSealed {
		t.Errorf("smallest envelope is %d bytes, want %d", len(b), minHeader+minSealed)
	}
}

func TestSealRefuses(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	good := textMessage(t, alice, bob, "hello")
	tests := []struct {
		name   string
		change func(m *Message)
		want   error
	}{
		{"body over MaxBody", func(m *Message) { m.Body = make([]byte, MaxBody+1) }, ErrTooLarge},
		{"no id", func(m *Message) { m.ID = "" }, ErrInvalid},
		{"upper-case id", func(m *Message) { m.ID = strings.ToUpper(m.ID) }, ErrInvalid},
		{"short id", func(m *Message) { m.ID = m.ID[:30] }, ErrInvalid},
		{"non-hex id", func(m *Message) { m.ID = "zz" + m.ID[2:] }, ErrInvalid},
		{"no sender", func(m *Message) { m.From = "" }, ErrInvalid},
		{"upper-case sender", func(m *Message) { m.From = "Alice" }, ErrInvalid},
		{"sender too long", func(m *Message) { m.From = strings.Repeat("a", maxName+1) }, ErrInvalid},
		{"recipient too short", func(m *Message) { m.To = "bo" }, ErrInvalid},
		{"recipient with space", func(m *Message) { m.To = "bob smith" }, ErrInvalid},
		{"recipient not ASCII", func(m *Message) { m.To = "böb" }, ErrInvalid},
		{"bad group", func(m *Message) { m.Group = "general" }, ErrInvalid},
		{"upper-case group", func(m *Message) { m.Group = "0123456789ABCDEF0123456789ABCDEF" }, ErrInvalid},
		{"zero time", func(m *Message) { m.Sent = time.Time{} }, ErrInvalid},
		{"before 1970", func(m *Message) { m.Sent = time.Unix(-1, 0) }, ErrInvalid},
		{"after 2262", func(m *Message) { m.Sent = time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC) }, ErrInvalid},
		{"no kind", func(m *Message) { m.Kind = "" }, ErrInvalid},
		{"kind too long", func(m *Message) { m.Kind = strings.Repeat("k", MaxKind+1) }, ErrInvalid},
		{"kind with space", func(m *Message) { m.Kind = "plain text" }, ErrInvalid},
		{"kind with control", func(m *Message) { m.Kind = "text\n" }, ErrInvalid},
		{"kind not ASCII", func(m *Message) { m.Kind = "tëxt" }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			tt.change(&m)
			b, err := Seal(m, alice.identity, bob.prekey)
			if b != nil {
				t.Error("Seal returned bytes with an error")
			}
			wantErr(t, err, tt.want)
		})
	}
	t.Run("short sender key", func(t *testing.T) {
		_, err := Seal(good, alice.identity[:32], bob.prekey)
		wantErr(t, err, ErrInvalid)
	})
	t.Run("bad prekey", func(t *testing.T) {
		pk := bob.prekey
		pk.Public = pk.Public[:100]
		_, err := Seal(good, alice.identity, pk)
		wantErr(t, err, ErrInvalid)
	})
}

func TestTamperedCiphertext(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	b := seal(t, textMessage(t, alice, bob, "attack at dawn"), alice, bob)
	for i := headerLen(t, b); i < len(b); i++ {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		if _, err := bob.open(c, alice); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("byte %d flipped: got %v, want %v", i, err, ErrDecrypt)
		}
	}
}

func TestTamperedHeader(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	b := seal(t, textMessage(t, alice, bob, "hello"), alice, bob)
	n := headerLen(t, b)
	toAt := 1 + prekeyIDSize + 1 // first byte of the recipient name

	t.Run("id", func(t *testing.T) {
		for i := n - idSize; i < n; i++ {
			c := bytes.Clone(b)
			c[i] ^= 0x80
			_, err := bob.open(c, alice)
			wantErr(t, err, ErrDecrypt)
		}
	})
	t.Run("version", func(t *testing.T) {
		c := bytes.Clone(b)
		c[0] = 2
		_, err := bob.open(c, alice)
		wantErr(t, err, ErrMalformed)
		_, err = Peek(c)
		wantErr(t, err, ErrMalformed)
	})
	t.Run("prekey id", func(t *testing.T) {
		c := bytes.Clone(b)
		c[1] ^= 0x01
		_, err := bob.open(c, alice)
		wantErr(t, err, ErrUnknownPrekey)
		// Even with the caller believing the altered id, HPKE refuses.
		h, _ := Peek(c)
		_, err = Open(c, "bob", bob.secret, h.PrekeyID, pinned(alice))
		wantErr(t, err, ErrDecrypt)
	})
	t.Run("recipient", func(t *testing.T) {
		c := bytes.Clone(b)
		copy(c[toAt:], "bot")
		_, err := bob.open(c, alice)
		wantErr(t, err, ErrWrongRecipient)
		// bot, holding bob's secret, still cannot open it.
		_, err = Open(c, "bot", bob.secret, bob.prekey.ID(), pinned(alice))
		wantErr(t, err, ErrDecrypt)
	})
	t.Run("recipient not canonical", func(t *testing.T) {
		c := bytes.Clone(b)
		copy(c[toAt:], "Bob")
		_, err := Peek(c)
		wantErr(t, err, ErrMalformed)
	})
	t.Run("recipient length", func(t *testing.T) {
		c := bytes.Clone(b)
		c[toAt-1] = 0
		_, err := bob.open(c, alice)
		wantErr(t, err, ErrMalformed)
	})
}

func TestWrongRecipient(t *testing.T) {
	alice, bob, carol := newParty(t, "alice"), newParty(t, "bob"), newParty(t, "carol")
	b := seal(t, textMessage(t, alice, bob, "for bob only"), alice, bob)

	// Carol opens it as herself.
	_, err := carol.open(b, alice)
	wantErr(t, err, ErrWrongRecipient)
	// Carol claims to be bob but has only her own prekey.
	_, err = Open(b, "bob", carol.secret, carol.prekey.ID(), pinned(alice))
	wantErr(t, err, ErrUnknownPrekey)
	// Carol claims to be bob and passes her secret under bob's prekey id.
	_, err = Open(b, "bob", carol.secret, bob.prekey.ID(), pinned(alice))
	wantErr(t, err, ErrDecrypt)
}

// TestRelabelled re-addresses an envelope for bob to carol and her prekey,
// as a malicious server might.
func TestRelabelled(t *testing.T) {
	alice, bob, carol := newParty(t, "alice"), newParty(t, "bob"), newParty(t, "carol")
	b := seal(t, textMessage(t, alice, bob, "for bob only"), alice, bob)
	h, n, err := parseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	var carolKey [prekeyIDSize]byte
	hex.Decode(carolKey[:], []byte(carol.prekey.ID()))

	relabelled := appendHeader(nil, carolKey, "carol", h.id)
	relabelled = append(relabelled, b[n:]...)
	got, err := Peek(relabelled)
	if err != nil || got.To != "carol" || got.PrekeyID != carol.prekey.ID() {
		t.Fatalf("peek relabelled: %+v, %v", got, err)
	}
	_, err = carol.open(relabelled, alice)
	wantErr(t, err, ErrDecrypt)

	// Only the name changed: carol's prekey is not the one named.
	nameOnly := appendHeader(nil, h.prekeyID, "carol", h.id)
	nameOnly = append(nameOnly, b[n:]...)
	_, err = carol.open(nameOnly, alice)
	wantErr(t, err, ErrUnknownPrekey)
}

func TestWrongPrekeySecret(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	oldID, oldSecret := bob.prekey.ID(), bob.secret
	bob.rotate(t)
	b := seal(t, textMessage(t, alice, bob, "to the new prekey"), alice, bob)

	_, err := Open(b, "bob", oldSecret, bob.prekey.ID(), pinned(alice))
	wantErr(t, err, ErrDecrypt)
	_, err = Open(b, "bob", oldSecret, oldID, pinned(alice))
	wantErr(t, err, ErrUnknownPrekey)
	_, err = Open(b, "bob", nil, bob.prekey.ID(), pinned(alice))
	wantErr(t, err, ErrUnknownPrekey)
	if _, err := bob.open(b, alice); err != nil {
		t.Fatalf("open with the right secret: %v", err)
	}
}

func TestBadSignature(t *testing.T) {
	alice, bob, mallory := newParty(t, "alice"), newParty(t, "bob"), newParty(t, "mallory")
	b := seal(t, textMessage(t, alice, bob, "hello"), alice, bob)

	t.Run("pinned key differs", func(t *testing.T) {
		_, err := Open(b, "bob", bob.secret, bob.prekey.ID(), func(string) (ed25519.PublicKey, error) {
			return mallory.public(), nil
		})
		wantErr(t, err, ErrBadSignature)
	})
	t.Run("forged sender", func(t *testing.T) {
		forged := seal(t, textMessage(t, alice, bob, "send me your password"), mallory, bob)
		_, err := bob.open(forged, alice)
		wantErr(t, err, ErrBadSignature)
	})
	t.Run("short pinned key", func(t *testing.T) {
		_, err := Open(b, "bob", bob.secret, bob.prekey.ID(), func(string) (ed25519.PublicKey, error) {
			return alice.public()[:31], nil
		})
		wantErr(t, err, ErrBadSignature)
	})
	t.Run("unknown sender", func(t *testing.T) {
		_, err := bob.open(b, mallory)
		wantErr(t, err, errUnknownSender)
	})
	t.Run("no lookup", func(t *testing.T) {
		if _, err := Open(b, "bob", bob.secret, bob.prekey.ID(), nil); err == nil {
			t.Fatal("opened without a sender key")
		}
	})
}

// sealRaw seals an arbitrary plaintext under a well-formed header, as a
// misbehaving sender could.
func sealRaw(t testing.TB, to *party, id string, plain []byte) []byte {
	t.Helper()
	var prekeyID [prekeyIDSize]byte
	var rawID [idSize]byte
	hex.Decode(prekeyID[:], []byte(to.prekey.ID()))
	hex.Decode(rawID[:], []byte(id))
	header := appendHeader(nil, prekeyID, to.name, rawID)
	ct, err := hpke.Seal(to.secret.PublicKey(), kdf, aead, info(header), plain)
	if err != nil {
		t.Fatal(err)
	}
	return append(header, ct...)
}

// signedInner encodes m and signs it as Seal does.
func signedInner(t testing.TB, m Message, from *party) []byte {
	t.Helper()
	in, err := newInner(m)
	if err != nil {
		t.Fatal(err)
	}
	b := in.append(nil)
	return append(b, ed25519.Sign(from.identity, signed(b))...)
}

func TestMismatch(t *testing.T) {
	alice, bob, carol := newParty(t, "alice"), newParty(t, "bob"), newParty(t, "carol")

	t.Run("inner recipient", func(t *testing.T) {
		// A message alice signed for carol, sealed to bob.
		m := textMessage(t, alice, carol, "for carol")
		_, err := bob.open(sealRaw(t, bob, m.ID, signedInner(t, m, alice)), alice)
		wantErr(t, err, ErrMismatch)
	})
	t.Run("inner id", func(t *testing.T) {
		m := textMessage(t, alice, bob, "replayed under another id")
		_, err := bob.open(sealRaw(t, bob, newID(t), signedInner(t, m, alice)), alice)
		wantErr(t, err, ErrMismatch)
	})
	t.Run("consistent", func(t *testing.T) {
		m := textMessage(t, alice, bob, "fine")
		got, err := bob.open(sealRaw(t, bob, m.ID, signedInner(t, m, alice)), alice)
		if err != nil {
			t.Fatal(err)
		}
		sameMessage(t, got, m)
	})
	t.Run("no signature", func(t *testing.T) {
		_, err := bob.open(sealRaw(t, bob, newID(t), []byte("short")), alice)
		wantErr(t, err, ErrMalformed)
	})
	t.Run("garbage inner", func(t *testing.T) {
		_, err := bob.open(sealRaw(t, bob, newID(t), make([]byte, 200)), alice)
		wantErr(t, err, ErrMalformed)
	})
}

func TestTruncated(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	b := seal(t, textMessage(t, alice, bob, "hello, bob"), alice, bob)
	n := headerLen(t, b)
	for i := 0; i < len(b); i++ {
		want := ErrDecrypt
		if i < n+minSealed {
			want = ErrMalformed
		}
		if _, err := bob.open(b[:i], alice); !errors.Is(err, want) {
			t.Fatalf("%d of %d bytes: got %v, want %v", i, len(b), err, want)
		}
		if _, err := Peek(b[:i]); want == ErrMalformed && !errors.Is(err, ErrMalformed) {
			t.Fatalf("peek %d of %d bytes: got %v, want %v", i, len(b), err, ErrMalformed)
		}
	}
	_, err := bob.open(append(bytes.Clone(b), 0), alice)
	wantErr(t, err, ErrDecrypt)
}

func TestOversizeEnvelope(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	b := seal(t, textMessage(t, alice, bob, "x"), alice, bob)
	big := append(bytes.Clone(b), make([]byte, MaxEnvelope+1-len(b))...)
	_, err := bob.open(big, alice)
	wantErr(t, err, ErrMalformed)
	_, err = Peek(big)
	wantErr(t, err, ErrMalformed)
}

func TestParseInnerStrict(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	m := textMessage(t, alice, bob, "hello")
	m.Group = newID(t)
	in, err := newInner(m)
	if err != nil {
		t.Fatal(err)
	}
	good := in.append(nil)
	if got, err := parseInner(good); err != nil || !bytes.Equal(got.append(nil), good) {
		t.Fatalf("round trip: %v", err)
	}

	// Offsets into good.
	fromAt := 1 + idSize // length byte of from
	toAt := fromAt + 1 + len("alice")
	groupAt := toAt + 1 + len("bob")
	sentAt := groupAt + 1 + idSize
	kindAt := sentAt + 8
	bodyAt := kindAt + 1 + len("text")

	tests := []struct {
		name   string
		change func(b []byte) []byte
	}{
		{"version", func(b []byte) []byte { b[0] = 0; return b }},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }},
		{"truncated body", func(b []byte) []byte { return b[:len(b)-1] }},
		{"body length over", func(b []byte) []byte { b[bodyAt+3]++; return b }},
		{"body length huge", func(b []byte) []byte { b[bodyAt] = 0xff; return b }},
		{"upper-case sender", func(b []byte) []byte { b[fromAt+1] = 'A'; return b }},
		{"sender with NUL", func(b []byte) []byte { b[fromAt+2] = 0; return b }},
		{"recipient too short", func(b []byte) []byte { b[toAt] = 2; return b }},
		{"group length 5", func(b []byte) []byte { b[groupAt] = 5; return b }},
		{"negative time", func(b []byte) []byte { b[sentAt] = 0x80; return b }},
		{"empty kind", func(b []byte) []byte { b[kindAt] = 0; return b }},
		{"kind with space", func(b []byte) []byte { b[kindAt+1] = ' '; return b }},
		{"kind not UTF-8", func(b []byte) []byte { b[kindAt+1] = 0xff; return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseInner(tt.change(bytes.Clone(good)))
			wantErr(t, err, ErrMalformed)
		})
	}
}

// TestEncodeDecode: the message of a direct connection is the inner
// message of an envelope, unsigned; Decode gives back what Encode took,
// and Encode refuses what Seal refuses.
func TestEncodeDecode(t *testing.T) {
	alice, bob := newParty(t, "alice"), newParty(t, "bob")
	m := textMessage(t, alice, bob, "Hi Bob 👋")
	m.Group = newID(t)
	b, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := newInner(m)
	if !bytes.Equal(b, in.append(nil)) {
		t.Error("Encode is not the inner message of an envelope")
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	sameMessage(t, got, m)
	opened, err := bob.open(seal(t, m, alice, bob), alice)
	if err != nil {
		t.Fatal(err)
	}
	sameMessage(t, opened, got)

	if _, err := Decode(append(b, 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a byte after the body: %v, want ErrMalformed", err)
	}
	big := m
	big.Body = make([]byte, MaxBody+1)
	if _, err := Encode(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("body over MaxBody: %v, want ErrTooLarge", err)
	}
	noKind := m
	noKind.Kind = ""
	if _, err := Encode(noKind); !errors.Is(err, ErrInvalid) {
		t.Errorf("no kind: %v, want ErrInvalid", err)
	}
}
