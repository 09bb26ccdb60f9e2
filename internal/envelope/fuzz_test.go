package envelope

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// fixedParty makes a party whose keys derive from seed, so that envelopes
// in the seed corpus stay openable. Its prekey is unsigned: Seal and Open
// use only the key itself.
func fixedParty(t testing.TB, name string, seed byte) *party {
	t.Helper()
	secret, err := keys.KEM().DeriveKeyPair(bytes.Repeat([]byte{seed, 'k'}, 32))
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2025, 11, 22, 0, 0, 0, 0, time.UTC)
	return &party{
		name:     name,
		identity: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)),
		prekey: keys.SignedPrekey{
			Public:  secret.PublicKey().Bytes(),
			Created: created.Unix(),
			Expires: created.Add(7 * 24 * time.Hour).Unix(),
		},
		secret: secret,
	}
}

// fuzzID is the message id of the seed messages, and the id in the header
// FuzzOpenSealed seals under.
const fuzzID = "00112233445566778899aabbccddeeff"

// fuzzParties are the fixed sender and recipient of the seed envelopes.
func fuzzParties(t testing.TB) (alice, bob *party) {
	return fixedParty(t, "alice", 1), fixedParty(t, "bob", 2)
}

// refusal reports whether err wraps one of the errors Open documents.
func refusal(err error) bool {
	for _, want := range []error{ErrMalformed, ErrWrongRecipient, ErrUnknownPrekey, ErrDecrypt, ErrMismatch, ErrBadSignature, errUnknownSender} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

// FuzzOpen feeds arbitrary bytes to Peek and Open. They must never panic,
// must refuse only with the documented errors, and must agree: whatever
// Open accepts, Peek reads the same id and recipient from, and the message
// it returns is one Seal would accept.
func FuzzOpen(f *testing.F) {
	alice, bob := fuzzParties(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, perr := Peek(b)
		if perr != nil && !errors.Is(perr, ErrMalformed) {
			t.Fatalf("peek: unexpected error %v", perr)
		}
		m, err := bob.open(b, alice)
		if err != nil {
			if !refusal(err) {
				t.Fatalf("open: unexpected error %v", err)
			}
			if perr != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("peek refused (%v) but open said %v", perr, err)
			}
			return
		}
		if perr != nil {
			t.Fatalf("open accepted what peek refused: %v", perr)
		}
		if h.ID != m.ID || h.To != m.To || h.PrekeyID != bob.prekey.ID() {
			t.Fatalf("header %+v does not match message %+v", h, m)
		}
		if _, err := newInner(m); err != nil {
			t.Fatalf("open returned a message Seal refuses: %v", err)
		}
	})
}

// FuzzOpenSealed seals arbitrary plaintext (what should be an inner message
// and its signature) to bob under a well-formed header, reaching the inner
// decoder past HPKE as only a sender can. Open must not panic, must refuse
// only with the documented errors, and what it accepts must encode back to
// the same bytes.
func FuzzOpenSealed(f *testing.F) {
	alice, bob := fuzzParties(f)
	f.Fuzz(func(t *testing.T, plain []byte) {
		if len(plain) > maxInner+sigSize {
			return
		}
		m, err := bob.open(sealRaw(t, bob, fuzzID, plain), alice)
		if err != nil {
			if !refusal(err) {
				t.Fatalf("open: unexpected error %v", err)
			}
			return
		}
		in, err := newInner(m)
		if err != nil {
			t.Fatalf("open returned a message Seal refuses: %v", err)
		}
		if enc := in.append(nil); !bytes.Equal(enc, plain[:len(plain)-sigSize]) {
			t.Fatalf("accepted inner message is not canonical:\n got %x\nwant %x", plain[:len(plain)-sigSize], enc)
		}
	})
}

// FuzzDecode feeds arbitrary bytes to Decode, the decoder of a message
// on a direct connection. It must never panic, must refuse only with
// ErrMalformed, and what it accepts must be a message Encode accepts and
// encodes back to the very same bytes.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode: unexpected error %v", err)
			}
			return
		}
		enc, err := Encode(m)
		if err != nil {
			t.Fatalf("decode returned a message Encode refuses: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("accepted message is not canonical:\n got %x\nwant %x", b, enc)
		}
	})
}

// seedMessages are the messages of the valid seeds, by file name.
func seedMessages() map[string]Message {
	sent := time.Date(2025, 11, 22, 9, 30, 0, 0, time.UTC)
	return map[string]Message{
		"valid-direct": {ID: fuzzID, From: "alice", To: "bob", Sent: sent,
			Kind: "text", Body: []byte("Hi Bob 👋\nlunch?")},
		"valid-group": {ID: fuzzID, From: "alice", To: "bob", Sent: sent,
			Group: "ffeeddccbbaa99887766554433221100", Kind: "text", Body: []byte("team lunch at noon")},
		"valid-empty-body": {ID: fuzzID, From: "alice", To: "bob", Sent: sent, Kind: "typing"},
	}
}

// TestSeedCorpus checks that the valid seed envelopes still open with the
// fixed keys, so the fuzzers start from inputs that reach every check.
// With -update-seeds it writes the corpora first.
func TestSeedCorpus(t *testing.T) {
	alice, bob := fuzzParties(t)
	if *updateSeeds {
		writeSeeds(t, alice, bob)
	}
	for name, want := range seedMessages() {
		b := readSeed(t, filepath.Join("testdata", "fuzz", "FuzzOpen", name))
		got, err := bob.open(b, alice)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameMessage(t, got, want)

		plain := readSeed(t, filepath.Join("testdata", "fuzz", "FuzzOpenSealed", name))
		got, err = bob.open(sealRaw(t, bob, fuzzID, plain), alice)
		if err != nil {
			t.Fatalf("FuzzOpenSealed/%s: %v", name, err)
		}
		sameMessage(t, got, want)

		got, err = Decode(readSeed(t, filepath.Join("testdata", "fuzz", "FuzzDecode", name)))
		if err != nil {
			t.Fatalf("FuzzDecode/%s: %v", name, err)
		}
		sameMessage(t, got, want)
	}
}

func writeSeeds(t *testing.T, alice, bob *party) {
	open := filepath.Join("testdata", "fuzz", "FuzzOpen")
	sealed := filepath.Join("testdata", "fuzz", "FuzzOpenSealed")
	decode := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for _, dir := range []string{open, sealed, decode} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, m := range seedMessages() {
		b := seal(t, m, alice, bob)
		writeSeed(t, filepath.Join(open, name), b)
		writeSeed(t, filepath.Join(sealed, name), signedInner(t, m, alice))
		enc, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		writeSeed(t, filepath.Join(decode, name), enc)
	}
	group, err := Encode(seedMessages()["valid-group"])
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":         {},
		"truncated":     group[:len(group)-1],
		"trailing-byte": append(bytes.Clone(group), 0),
		"signed":        signedInner(t, seedMessages()["valid-group"], alice),
		"wrong-version": append([]byte{2}, group[1:]...),
	} {
		writeSeed(t, filepath.Join(decode, name), b)
	}
	direct := seal(t, seedMessages()["valid-direct"], alice, bob)
	n := headerLen(t, direct)
	other := bytes.Clone(direct)
	copy(other[1+prekeyIDSize+1:], "bot")
	badInner := signedInner(t, seedMessages()["valid-group"], alice)
	badInner[len(badInner)-1] ^= 1
	for name, b := range map[string][]byte{
		"empty":              {},
		"version-only":       {Version},
		"header-only":        direct[:n],
		"truncated":          direct[:len(direct)/2],
		"wrong-version":      append([]byte{2}, direct[1:]...),
		"other-recipient":    other,
		"flipped-ciphertext": append(bytes.Clone(direct[:len(direct)-1]), direct[len(direct)-1]^1),
		"trailing-byte":      append(bytes.Clone(direct), 0),
		"garbage":            []byte("lanchat envelope v1\x00 not really"),
	} {
		writeSeed(t, filepath.Join(open, name), b)
	}
	for name, b := range map[string][]byte{
		"empty":         {},
		"bad-signature": badInner,
		"short":         []byte("too short to hold a signature"),
	} {
		writeSeed(t, filepath.Join(sealed, name), b)
	}
}

// writeSeed writes b as a one-value corpus file in the format go test reads.
func writeSeed(t *testing.T, path string, b []byte) {
	t.Helper()
	data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" ||
		!strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
		t.Fatalf("%s: not a one-value corpus file", path)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}
