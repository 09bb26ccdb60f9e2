package keys

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// proofContext separates the proof of possession from every other
// signature an identity key makes (prekeys, envelopes, TLS).
const proofContext = "lanchat register v1\x00"

// ErrBadProof reports a proof of possession that does not verify.
var ErrBadProof = errors.New("identity key proof does not verify")

// ServerID names a rendezvous server in signed statements: the SHA-256 of
// its leaf certificate's DER encoding, the raw bytes of the fingerprint
// clients pin.
type ServerID [sha256.Size]byte

// appendName appends a username with its length, so that no two
// (username, rest) pairs encode alike.
func appendName(b []byte, username string) ([]byte, error) {
	if len(username) > 0xffff {
		return nil, fmt.Errorf("username of %d bytes too long to sign", len(username))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(username)))
	return append(b, username...), nil
}

// proofStatement is what a proof of possession signs:
//
//	"lanchat register v1\x00" || uint16be(len(username)) || username || server
func proofStatement(username string, server ServerID) ([]byte, error) {
	b := make([]byte, 0, len(proofContext)+2+len(username)+len(server))
	b = append(b, proofContext...)
	b, err := appendName(b, username)
	if err != nil {
		return nil, err
	}
	return append(b, server[:]...), nil
}

// SignProof proves that the holder of identity claims it for username
// on the server named by server. Register, and a login that brings a new
// identity key, carry it; username must be in its normalized (lower-case)
// form.
func SignProof(identity ed25519.PrivateKey, username string, server ServerID) ([]byte, error) {
	st, err := proofStatement(username, server)
	if err != nil {
		return nil, err
	}
	return ed25519.Sign(identity, st), nil
}

// VerifyProof checks a proof made by SignProof.
func VerifyProof(identity []byte, username string, server ServerID, sig []byte) error {
	if err := CheckIdentityKey(identity); err != nil {
		return err
	}
	st, err := proofStatement(username, server)
	if err != nil {
		return err
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(ed25519.PublicKey(identity), st, sig) {
		return ErrBadProof
	}
	return nil
}

// ParseServerID reads a fingerprint in the form clients pin (64 hex
// digits) as a ServerID.
func ParseServerID(fingerprint string) (ServerID, error) {
	var id ServerID
	b, err := hex.DecodeString(fingerprint)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("server fingerprint %q: want %d hex digits", fingerprint, 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}
