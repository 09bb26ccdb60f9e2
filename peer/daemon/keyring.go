package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/history"
)

// keyLink is what the keyring needs of the server link.
type keyLink interface {
	Call(ctx context.Context, op string, req, resp any) error
	HasSession() bool
}

// keyring keeps the contacts' identity keys: it fetches them from the
// server's directory and pins them in history (raising the alarm when
// one changes, or is pinned for two contacts), caches the prekeys the
// relay seals to, and serves verify, confirm and trust.
type keyring struct {
	db      *history.Store // set once history is open
	link    keyLink        // set once the link exists
	log     *slog.Logger
	session *session
	notify  func(api.Event)
	// closeContact closes the connections to a contact whose key changed.
	closeContact func(user string)
	// released runs when a contact is no longer held for a key change:
	// what waited for them (outbox copies, parked envelopes) may go.
	released func(user string)
	cache    keyCache
	roster   *roster.Roster
	// ctx is the daemon's run.
	ctx context.Context

	mu sync.Mutex
	// sharedWarned holds when each set of contacts (names joined by
	// commas) was last warned of as sharing one key (warnSharedKey).
	sharedWarned map[string]time.Time
}

// Verify returns the safety number shared with user, for the key the user
// has to compare now (the pending one after a change), and that key's
// fingerprint, which Confirm and Trust take back.
func (k *keyring) Verify(ctx context.Context, user string) (api.Verification, error) {
	me, mine, err := k.session.myKey()
	if err != nil {
		return api.Verification{}, err
	}
	c, err := k.contact(ctx, user)
	if err != nil {
		return api.Verification{}, err
	}
	return verification(me, mine, c), nil
}

// Confirm marks user verified, provided the fingerprint the user was shown
// is still that of the pinned key.
func (k *keyring) Confirm(ctx context.Context, user string, req api.KeyRequest) (api.Verification, error) {
	me, mine, err := k.session.myKey()
	if err != nil {
		return api.Verification{}, err
	}
	fp, err := requestFingerprint(req)
	if err != nil {
		return api.Verification{}, err
	}
	c, err := k.contact(ctx, user)
	if err != nil {
		return api.Verification{}, err
	}
	switch {
	case c.PendingKey != nil:
		return api.Verification{}, api.Errorf(api.CodeHeld, "%s's identity key changed; compare the new safety number (lanchat verify %s), then run: lanchat trust %s", c.Username, c.Username, c.Username)
	case len(c.SameKey) > 0:
		return api.Verification{}, sharedKeyError(c)
	case fp != keyFingerprint(c.IdentityKey):
		return api.Verification{}, keyChangedAgain(c.Username)
	}
	err = k.db.MarkVerified(ctx, c.Username, c.IdentityKey)
	if errors.Is(err, history.ErrHeld) || errors.Is(err, history.ErrNotPinned) {
		return api.Verification{}, keyChangedAgain(c.Username) // it changed after we read it
	}
	if err != nil {
		return api.Verification{}, fmt.Errorf("mark verified: %w", err)
	}
	c.Verified = true
	return verification(me, mine, c), nil
}

// Trust accepts user's changed identity key, provided the fingerprint the
// user was shown is still that of the pending key: a key that changed
// again since the user compared numbers is never accepted by mistake.
func (k *keyring) Trust(ctx context.Context, user string, req api.KeyRequest) (api.Contact, error) {
	if _, err := k.session.requireLogin(); err != nil {
		return api.Contact{}, err
	}
	fp, err := requestFingerprint(req)
	if err != nil {
		return api.Contact{}, err
	}
	c, err := k.contact(ctx, user)
	if err != nil {
		return api.Contact{}, err
	}
	switch {
	case c.PendingKey == nil && fp == keyFingerprint(c.IdentityKey):
		return api.Contact{}, api.Errorf(api.CodeConflict, "%s's key has not changed; nothing to trust", c.Username)
	case c.PendingKey == nil || fp != keyFingerprint(c.PendingKey):
		return api.Contact{}, keyChangedAgain(c.Username)
	}
	err = k.db.Trust(ctx, c.Username, c.PendingKey)
	switch {
	case errors.Is(err, history.ErrNotPending):
		return api.Contact{}, keyChangedAgain(c.Username) // it changed after we read it
	case errors.Is(err, history.ErrKeyShared):
		return api.Contact{}, api.Errorf(api.CodeConflict, "%s's new key is also the key of another contact; a key belongs to one account, so it cannot be trusted: ask your server's admin", c.Username)
	case err != nil:
		return api.Contact{}, fmt.Errorf("trust key: %w", err)
	}
	k.log.Info("trusted new identity key", "user", c.Username, "fingerprint", fp)
	k.cache.drop(c.Username)
	k.released(c.Username)
	c, err = k.db.Contact(ctx, c.Username)
	if err != nil {
		return api.Contact{}, fmt.Errorf("contact: %w", err)
	}
	return api.Contact{Username: c.Username, Verified: c.Verified, Held: c.Held()}, nil
}

// contact looks up a pinned contact, fetching the key if we have none.
func (k *keyring) contact(ctx context.Context, user string) (history.Contact, error) {
	name, werr := wire.NormalizeUsername("user", user)
	if werr != nil {
		return history.Contact{}, fromWire(werr)
	}
	c, err := k.db.Contact(ctx, name)
	if errors.Is(err, history.ErrNotFound) && k.link.HasSession() {
		if _, ferr := k.fetchKey(ctx, name); ferr != nil {
			return history.Contact{}, fromServer(ferr)
		}
		c, err = k.db.Contact(ctx, name)
	}
	if errors.Is(err, history.ErrNotFound) {
		return history.Contact{}, api.Errorf(api.CodeNotFound, "no key known for %s", name)
	}
	if err != nil {
		return history.Contact{}, fmt.Errorf("contact: %w", err)
	}
	return c, nil
}

// checkSameKey warns when user's pinned key is also another contact's;
// those contacts are held from now on, so their cached prekeys go.
func (k *keyring) checkSameKey(ctx context.Context, user string) {
	c, err := k.db.Contact(ctx, user)
	if err != nil || len(c.SameKey) == 0 {
		return
	}
	for _, other := range c.SameKey {
		k.cache.drop(other)
	}
	k.warnSharedKey(append([]string{c.Username}, c.SameKey...), c.IdentityKey)
}

// checkSharedKeys logs every key pinned for more than one contact, at
// start; the warning local clients see comes when such a key is used.
func (k *keyring) checkSharedKeys(ctx context.Context) {
	cs, err := k.db.Contacts(ctx)
	if err != nil {
		k.log.Warn("list contacts", "err", err)
		return
	}
	for _, c := range cs {
		if len(c.SameKey) > 0 && c.Username < slices.Min(c.SameKey) {
			k.log.Warn("one identity key is pinned for several contacts; none of them is admitted",
				"users", strings.Join(append([]string{c.Username}, c.SameKey...), ","), "fingerprint", keyFingerprint(c.IdentityKey))
		}
	}
}

// warnSharedKey tells the user that one key is pinned for all of users:
// none of them is admitted, never "the first match".
func (k *keyring) warnSharedKey(users []string, key []byte) {
	users = slices.Clone(users)
	slices.Sort(users)
	users = slices.Compact(users)
	id := strings.Join(users, ",")
	now := time.Now()
	k.mu.Lock()
	last, seen := k.sharedWarned[id]
	quiet := seen && now.Sub(last) < sharedWarnEvery
	if !quiet {
		if k.sharedWarned == nil || len(k.sharedWarned) >= maxSharedWarned {
			k.sharedWarned = make(map[string]time.Time)
		}
		k.sharedWarned[id] = now
	}
	k.mu.Unlock()
	if quiet {
		return
	}
	fp := keyFingerprint(key)
	k.log.Warn("one identity key is pinned for several contacts; none of them is admitted", "users", id, "fingerprint", fp)
	k.notify(api.Event{Type: api.EventKeyShared, KeyChange: &api.KeyChange{User: users[0], Fingerprint: fp, SameKey: users[1:]}})
}

// fetchKey asks the server's directory for user's keys, pins the identity
// key (raising the alarm if it changed) and returns what the server said.
func (k *keyring) fetchKey(ctx context.Context, user string) (wire.KeysResponse, error) {
	var kr wire.KeysResponse
	if err := k.link.Call(ctx, wire.OpKeysGet, wire.UserRequest{Username: user}, &kr); err != nil {
		return kr, err
	}
	if len(kr.IdentityKey) != ed25519.PublicKeySize {
		return kr, errors.New("server sent a malformed identity key")
	}
	k.pinKey(ctx, user, kr.IdentityKey)
	return kr, nil
}

// pinKey shows the history store a key user was seen with and tells the
// user when it differs from the pinned one.
func (k *keyring) pinKey(ctx context.Context, user string, key []byte) history.PinResult {
	res, err := k.db.PinKey(ctx, user, key)
	if err != nil {
		k.log.Warn("pin key", "user", user, "err", err)
		return 0
	}
	switch res {
	case history.PinChanged:
		k.cache.drop(user)
		k.log.Warn("identity key changed; messages held until trusted", "user", user)
		k.notify(api.Event{Type: api.EventKeyChanged, KeyChange: &api.KeyChange{User: user, Fingerprint: keyFingerprint(key)}})
		k.closeContact(user)
	case history.PinRestored:
		// Logged in elsewhere, then back: the key is the trusted one
		// again, and what waited for it may go.
		k.cache.drop(user)
		k.log.Info("identity key changed back to the pinned one; nothing held for it any more", "user", user)
		k.notify(api.Event{Type: api.EventKeyChanged, KeyChange: &api.KeyChange{User: user, Fingerprint: keyFingerprint(key), Restored: true}})
		k.released(user)
	case history.PinNew:
		k.checkSameKey(ctx, user)
	}
	return res
}

// senderKey returns the pinned identity key of user, fetching and pinning
// it from the server's directory at first sight. A held contact gives
// history.ErrHeld.
func (k *keyring) senderKey(ctx context.Context, user string) (ed25519.PublicKey, error) {
	c, err := k.db.Contact(ctx, user)
	if errors.Is(err, history.ErrNotFound) {
		if _, err := k.fetchKey(ctx, user); err != nil {
			// Even not_found may pass: the directory answers only for
			// users related to us, which a relayed sender was when the
			// server took the envelope, and may be again.
			return nil, fmt.Errorf("key of %s: %w: %v", user, errTransient, err)
		}
		c, err = k.db.Contact(ctx, user)
	}
	if err != nil {
		return nil, fmt.Errorf("key of %s: %w: %v", user, errTransient, err)
	}
	if c.Held() {
		return nil, history.ErrHeld
	}
	return ed25519.PublicKey(c.IdentityKey), nil
}
