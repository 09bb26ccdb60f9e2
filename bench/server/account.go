package server

import (
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// prekeyLifetime is how long the prekeys rvload makes are valid: longer
// than any run.
const prekeyLifetime = 7 * 24 * time.Hour

// callTimeout bounds one request made outside the timed parts.
const callTimeout = 30 * time.Second

// account is a user rvload acts as. Like a peer daemon it makes the
// identity key and the signed prekey itself and keeps their secrets.
type account struct {
	name     string
	display  string
	password string
	identity ed25519.PrivateKey
	prekey   keys.SignedPrekey
	secret   hpke.PrivateKey
}

// newAccount makes an account with fresh keys.
func newAccount(name, display string) (*account, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity key for %s: %w", name, err)
	}
	pk, secret, err := keys.NewPrekey(priv, name, time.Now(), prekeyLifetime)
	if err != nil {
		return nil, fmt.Errorf("prekey for %s: %w", name, err)
	}
	return &account{
		name:     name,
		display:  display,
		password: "rvload password of " + name,
		identity: priv,
		prekey:   pk,
		secret:   secret,
	}, nil
}

// publicKey returns the account's identity public key.
func (a *account) publicKey() ed25519.PublicKey {
	return a.identity.Public().(ed25519.PublicKey)
}

// proof is the account's key proof for the server c is connected to.
func (a *account) proof(c *client.Client) ([]byte, error) {
	server, err := keys.ParseServerID(c.Fingerprint())
	if err != nil {
		return nil, err
	}
	return keys.SignProof(a.identity, a.name, server)
}

// registerRequest is the account's register body for the server c is
// connected to.
func (a *account) registerRequest(c *client.Client) (wire.RegisterRequest, error) {
	proof, err := a.proof(c)
	if err != nil {
		return wire.RegisterRequest{}, fmt.Errorf("key proof of %s: %w", a.name, err)
	}
	return wire.RegisterRequest{
		Username:    a.name,
		Password:    a.password,
		DisplayName: a.display,
		IdentityKey: a.publicKey(),
		Prekey:      a.prekey,
		KeyProof:    proof,
	}, nil
}

// enroll registers the account on c. If the name is taken (a server kept
// from an earlier run) it logs in instead, publishing its fresh keys.
func (a *account) enroll(ctx context.Context, c *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := a.registerRequest(c)
	if err != nil {
		return err
	}
	err = c.Call(ctx, wire.OpRegister, req, nil)
	if isCode(err, wire.CodeUsernameTaken) {
		pk := a.prekey
		err = c.Call(ctx, wire.OpLogin, wire.LoginRequest{
			Username: a.name, Password: a.password, IdentityKey: a.publicKey(), Prekey: &pk, KeyProof: req.KeyProof,
		}, nil)
		if err != nil {
			return fmt.Errorf("log in %s (the name was taken): %w", a.name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("register %s: %w", a.name, err)
	}
	return nil
}

// befriend makes a and b friends: a asks, b accepts. Both must be logged
// in on ac and bc. Friends already (an earlier run) is fine.
func befriend(ctx context.Context, a *account, ac *client.Client, b *account, bc *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var resp wire.FriendRequestResponse
	err := ac.Call(ctx, wire.OpFriendRequest, wire.UserRequest{Username: b.name}, &resp)
	switch {
	case isCode(err, wire.CodeConflict):
		return nil // already friends
	case err != nil:
		return fmt.Errorf("friend request %s → %s: %w", a.name, b.name, err)
	case resp.Status == "accepted":
		return nil // b had asked first
	}
	if err := bc.Call(ctx, wire.OpFriendAccept, wire.UserRequest{Username: a.name}, nil); err != nil {
		return fmt.Errorf("friend accept %s → %s: %w", b.name, a.name, err)
	}
	return nil
}

// newMessageID returns a fresh random 128-bit message id in hex.
func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// seal signs and seals a text message from a to the holder of prekey.
func (a *account) seal(to string, prekey keys.SignedPrekey, text string) (id string, env []byte, err error) {
	id = newMessageID()
	env, err = envelope.Seal(envelope.Message{
		ID:   id,
		From: a.name,
		To:   to,
		Sent: time.Now(),
		Kind: "text",
		Body: []byte(text),
	}, a.identity, prekey)
	if err != nil {
		return "", nil, fmt.Errorf("seal a message from %s to %s: %w", a.name, to, err)
	}
	return id, env, nil
}

// isCode reports whether err is a protocol error with the given code.
func isCode(err error, code string) bool {
	var werr *wire.Error
	return errors.As(err, &werr) && werr.Code == code
}

// errorCode names an error for counting: the protocol code when the
// server answered, else a short description.
func errorCode(err error) string {
	var werr *wire.Error
	switch {
	case errors.As(err, &werr):
		return werr.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, client.ErrClosed):
		return "closed"
	default:
		return "connection"
	}
}
