package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// Verify returns the safety number shared with user, for the key the user
// has to compare now (the pending one after a change), and that key's
// fingerprint, which Confirm and Trust take back.
func (d *Daemon) Verify(ctx context.Context, user string) (api.Verification, error) {
	me, mine, err := d.session.myKey()
	if err != nil {
		return api.Verification{}, err
	}
	c, err := d.contact(ctx, user)
	if err != nil {
		return api.Verification{}, err
	}
	return verification(me, mine, c), nil
}

// Confirm marks user verified, provided the fingerprint the user was shown
// is still that of the pinned key.
func (d *Daemon) Confirm(ctx context.Context, user string, req api.KeyRequest) (api.Verification, error) {
	me, mine, err := d.session.myKey()
	if err != nil {
		return api.Verification{}, err
	}
	fp, err := requestFingerprint(req)
	if err != nil {
		return api.Verification{}, err
	}
	c, err := d.contact(ctx, user)
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
	err = d.db.MarkVerified(ctx, c.Username, c.IdentityKey)
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
func (d *Daemon) Trust(ctx context.Context, user string, req api.KeyRequest) (api.Contact, error) {
	if _, err := d.session.requireLogin(); err != nil {
		return api.Contact{}, err
	}
	fp, err := requestFingerprint(req)
	if err != nil {
		return api.Contact{}, err
	}
	c, err := d.contact(ctx, user)
	if err != nil {
		return api.Contact{}, err
	}
	switch {
	case c.PendingKey == nil && fp == keyFingerprint(c.IdentityKey):
		return api.Contact{}, api.Errorf(api.CodeConflict, "%s's key has not changed; nothing to trust", c.Username)
	case c.PendingKey == nil || fp != keyFingerprint(c.PendingKey):
		return api.Contact{}, keyChangedAgain(c.Username)
	}
	err = d.db.Trust(ctx, c.Username, c.PendingKey)
	switch {
	case errors.Is(err, history.ErrNotPending):
		return api.Contact{}, keyChangedAgain(c.Username) // it changed after we read it
	case errors.Is(err, history.ErrKeyShared):
		return api.Contact{}, api.Errorf(api.CodeConflict, "%s's new key is also the key of another contact; a key belongs to one account, so it cannot be trusted: ask your server's admin", c.Username)
	case err != nil:
		return api.Contact{}, fmt.Errorf("trust key: %w", err)
	}
	d.log.Info("trusted new identity key", "user", c.Username, "fingerprint", fp)
	d.keys.drop(c.Username)
	d.released(c.Username)
	c, err = d.db.Contact(ctx, c.Username)
	if err != nil {
		return api.Contact{}, fmt.Errorf("contact: %w", err)
	}
	return api.Contact{Username: c.Username, Verified: c.Verified, Held: c.Held()}, nil
}

// released runs when user is no longer held for a key change (trusted,
// or changed back): their outbox copies and the relayed messages left
// for them may go.
func (d *Daemon) released(user string) {
	d.outbox.Kick()
	d.kickReexamine() // relayed messages from them wait parked
}

// verification is what verify shows of contact c: the number and
// fingerprint of the pending key after a change, else of the pinned one.
func verification(me string, mine ed25519.PublicKey, c history.Contact) api.Verification {
	v := api.Verification{User: c.Username, Verified: c.Verified, SameKey: c.SameKey}
	key := c.IdentityKey
	if c.PendingKey != nil {
		key, v.KeyChanged, v.Verified = c.PendingKey, true, false
	}
	v.SafetyNumber = safetyNumber(me, mine, c.Username, key)
	v.Fingerprint = keyFingerprint(key)
	return v
}

func requestFingerprint(req api.KeyRequest) (string, error) {
	fp, ok := parseFingerprint(req.Fingerprint)
	if !ok {
		return "", api.Errorf(api.CodeInvalid, "fingerprint %q is not a key fingerprint (64 hex digits, as lanchat verify shows)", req.Fingerprint)
	}
	return fp, nil
}

func keyChangedAgain(user string) error {
	return api.Errorf(api.CodeKeyChanged, "the key changed again since you compared it; run lanchat verify %s", user)
}

func sharedKeyError(c history.Contact) error {
	return api.Errorf(api.CodeHeld, "%s's identity key is also pinned for %s; a key belongs to one account, so none of them is admitted: ask your server's admin", c.Username, strings.Join(c.SameKey, ", "))
}

// contact looks up a pinned contact, fetching the key if we have none.
func (d *Daemon) contact(ctx context.Context, user string) (history.Contact, error) {
	name, werr := wire.NormalizeUsername("user", user)
	if werr != nil {
		return history.Contact{}, fromWire(werr)
	}
	c, err := d.db.Contact(ctx, name)
	if errors.Is(err, history.ErrNotFound) && d.link.HasSession() {
		if _, ferr := d.fetchKey(ctx, name); ferr != nil {
			return history.Contact{}, fromServer(ferr)
		}
		c, err = d.db.Contact(ctx, name)
	}
	if errors.Is(err, history.ErrNotFound) {
		return history.Contact{}, api.Errorf(api.CodeNotFound, "no key known for %s", name)
	}
	if err != nil {
		return history.Contact{}, fmt.Errorf("contact: %w", err)
	}
	return c, nil
}

// checkSameKey warns when user's pinned key is also another contact's.
func (d *Daemon) checkSameKey(ctx context.Context, user string) {
	c, err := d.db.Contact(ctx, user)
	if err != nil || len(c.SameKey) == 0 {
		return
	}
	d.warnSharedKey(append([]string{c.Username}, c.SameKey...), c.IdentityKey)
}

// checkSharedKeys logs every key pinned for more than one contact, at
// start; the warning local clients see comes when such a key is used.
func (d *Daemon) checkSharedKeys(ctx context.Context) {
	cs, err := d.db.Contacts(ctx)
	if err != nil {
		d.log.Warn("list contacts", "err", err)
		return
	}
	for _, c := range cs {
		if len(c.SameKey) > 0 && c.Username < slices.Min(c.SameKey) {
			d.log.Warn("one identity key is pinned for several contacts; none of them is admitted",
				"users", strings.Join(append([]string{c.Username}, c.SameKey...), ","), "fingerprint", keyFingerprint(c.IdentityKey))
		}
	}
}

// sharedWarnEvery spaces the warnings about one set of contacts sharing
// a key: a contact that keeps dialling is refused each time, but said
// once a minute.
const sharedWarnEvery = time.Minute

// warnSharedKey tells the user that one key is pinned for all of users:
// none of them is admitted, never "the first match".
func (d *Daemon) warnSharedKey(users []string, key []byte) {
	users = slices.Clone(users)
	slices.Sort(users)
	users = slices.Compact(users)
	id := strings.Join(users, ",")
	now := time.Now()
	d.mu.Lock()
	last, seen := d.sharedWarned[id]
	quiet := seen && now.Sub(last) < sharedWarnEvery
	if !quiet {
		if d.sharedWarned == nil || len(d.sharedWarned) >= maxSharedWarned {
			d.sharedWarned = make(map[string]time.Time)
		}
		d.sharedWarned[id] = now
	}
	d.mu.Unlock()
	if quiet {
		return
	}
	fp := keyFingerprint(key)
	d.log.Warn("one identity key is pinned for several contacts; none of them is admitted", "users", id, "fingerprint", fp)
	d.notify(api.Event{Type: api.EventKeyShared, KeyChange: &api.KeyChange{User: users[0], Fingerprint: fp, SameKey: users[1:]}})
}

// maxSharedWarned bounds the sets remembered by warnSharedKey.
const maxSharedWarned = 256
