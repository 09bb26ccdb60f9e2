package home

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

const pemPrivateKey = "PRIVATE KEY"

// Identity reads the identity key. It refuses a key file that others may
// read, as ssh does: a private key anyone on the machine could copy is not
// private.
func (h *Home) Identity() (ed25519.PrivateKey, error) {
	fi, err := os.Lstat(h.path(identityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoIdentity
	}
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("identity key %s has mode %04o; others may read it. Fix with: chmod 600 %s",
			h.path(identityFile), fi.Mode().Perm(), h.path(identityFile))
	}
	data, err := h.readSmall(identityFile)
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	return parseIdentity(data)
}

func parseIdentity(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemPrivateKey {
		return nil, errors.New("identity key: not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("identity key: a %T, not Ed25519", k)
	}
	return key, nil
}

// CreateIdentity makes a new Ed25519 identity key and stores it (mode
// 0600). It never replaces an existing key.
func (h *Home) CreateIdentity() (ed25519.PrivateKey, error) {
	if _, err := os.Lstat(h.path(identityFile)); err == nil {
		return nil, fmt.Errorf("identity key %s already exists", h.path(identityFile))
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate identity key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode identity key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der})
	// The check above is only for a quick answer: writeNew is what makes
	// sure a key that another caller stored meanwhile is never replaced.
	if err := h.writeNew(identityFile, data); errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("identity key %s already exists", h.path(identityFile))
	} else if err != nil {
		return nil, fmt.Errorf("save identity key: %w", err)
	}
	return key, nil
}
