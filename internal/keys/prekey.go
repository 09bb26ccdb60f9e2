// Package keys holds the identity-key and prekey formats shared by the
// server, which checks signatures, and the peer, which makes and uses the
// keys. See docs/protocol.md, "Keys".
package keys

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// KEM is the HPKE KEM every prekey uses.
func KEM() hpke.KEM { return hpke.MLKEM768X25519() }

// MaxPrekeyLifetime bounds how far a prekey's expiry may lie after its
// creation.
const MaxPrekeyLifetime = 90 * 24 * time.Hour

// clockSkew is how far in the future a prekey's creation time may be.
const clockSkew = 24 * time.Hour

// maxUnix bounds timestamps (year 9999) so arithmetic on them is safe.
const maxUnix = 253402300799

const prekeyContext = "lanchat prekey v1\x00"

// Errors from Verify.
var (
	ErrBadIdentityKey = errors.New("identity key must be a 32-byte Ed25519 public key")
	ErrBadPrekey      = errors.New("malformed prekey")
	ErrBadSignature   = errors.New("prekey signature does not verify")
	ErrPrekeyExpired  = errors.New("prekey expired")
)

// SignedPrekey is an HPKE public key signed by its owner's identity key.
// Relayed messages are sealed to it.
type SignedPrekey struct {
	Public    []byte `json:"public"`  // HPKE MLKEM768X25519 public key
	Created   int64  `json:"created"` // Unix seconds
	Expires   int64  `json:"expires"` // Unix seconds
	Signature []byte `json:"sig"`     // Ed25519 over signedBytes
}

// ID is a short stable name for the prekey: the first 8 bytes of the
// SHA-256 of its public key, in hex.
func (p SignedPrekey) ID() string {
	sum := sha256.Sum256(p.Public)
	return hex.EncodeToString(sum[:8])
}

// signedBytes is what the owner signs: the prekey names its owner, so a
// prekey published under one account cannot pass for another's.
//
//	"lanchat prekey v1\x00" || uint16be(len(username)) || username ||
//	uint64be(created) || uint64be(expires) || public
func (p SignedPrekey) signedBytes(username string) ([]byte, error) {
	b := make([]byte, 0, len(prekeyContext)+2+len(username)+16+len(p.Public))
	b = append(b, prekeyContext...)
	b, err := appendName(b, username)
	if err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint64(b, uint64(p.Created))
	b = binary.BigEndian.AppendUint64(b, uint64(p.Expires))
	return append(b, p.Public...), nil
}

// NewPrekey makes a fresh HPKE key pair valid from now for lifetime and
// signs its public half, for username (normalized, lower-case), with
// identity.
func NewPrekey(identity ed25519.PrivateKey, username string, now time.Time, lifetime time.Duration) (SignedPrekey, hpke.PrivateKey, error) {
	if lifetime <= 0 || lifetime > MaxPrekeyLifetime {
		return SignedPrekey{}, nil, fmt.Errorf("prekey lifetime %v out of range", lifetime)
	}
	priv, err := KEM().GenerateKey()
	if err != nil {
		return SignedPrekey{}, nil, fmt.Errorf("generate prekey: %w", err)
	}
	p, err := SignPrekey(identity, username, SignedPrekey{
		Public:  priv.PublicKey().Bytes(),
		Created: now.Unix(),
		Expires: now.Add(lifetime).Unix(),
	})
	if err != nil {
		return SignedPrekey{}, nil, err
	}
	return p, priv, nil
}

// SignPrekey returns p signed by identity for username (normalized,
// lower-case): its public key, creation and expiry, whatever signature it
// had. NewPrekey is the usual way to get a prekey; this one serves a
// caller that publishes one HPKE key under several names of its own (a
// load generator).
func SignPrekey(identity ed25519.PrivateKey, username string, p SignedPrekey) (SignedPrekey, error) {
	msg, err := p.signedBytes(username)
	if err != nil {
		return SignedPrekey{}, fmt.Errorf("sign prekey: %w", err)
	}
	p.Signature = ed25519.Sign(identity, msg)
	return p, nil
}

// CheckIdentityKey checks that b is an Ed25519 public key.
func CheckIdentityKey(b []byte) error {
	if len(b) != ed25519.PublicKeySize {
		return ErrBadIdentityKey
	}
	return nil
}

// Verify checks the prekey's shape, that identity signed it for username
// (normalized, lower-case), and that it is valid at now.
func (p SignedPrekey) Verify(identity []byte, username string, now time.Time) error {
	if err := CheckIdentityKey(identity); err != nil {
		return err
	}
	if _, err := KEM().NewPublicKey(p.Public); err != nil {
		return fmt.Errorf("%w: %v", ErrBadPrekey, err)
	}
	// Created is bounded first so the subtraction cannot overflow.
	if p.Created <= 0 || p.Created > maxUnix || p.Expires <= p.Created || p.Expires-p.Created > int64(MaxPrekeyLifetime/time.Second) {
		return fmt.Errorf("%w: lifetime out of range", ErrBadPrekey)
	}
	if time.Unix(p.Created, 0).After(now.Add(clockSkew)) {
		return fmt.Errorf("%w: created in the future", ErrBadPrekey)
	}
	msg, err := p.signedBytes(username)
	if err != nil {
		return ErrBadSignature
	}
	if len(p.Signature) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(identity), msg, p.Signature) {
		return ErrBadSignature
	}
	if !now.Before(time.Unix(p.Expires, 0)) {
		return ErrPrekeyExpired
	}
	return nil
}
