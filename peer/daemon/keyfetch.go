package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/history"
)

// sealKey returns the prekey to seal a relayed message to user: the
// cached one, else the directory's, checked against user's pinned
// identity key (fetched and pinned at first sight) and then cached. A
// held contact gives history.ErrHeld.
func (k *keyring) sealKey(ctx context.Context, user string) (keys.SignedPrekey, error) {
	if pk, ok := k.cache.get(user, time.Now()); ok {
		return pk, nil
	}
	kr, err := k.fetchKey(ctx, user)
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("%w: keys of %s: %v", errNoPath, user, err)
	}
	return k.checkPrekey(ctx, user, kr.Prekey, k.cache.generation())
}

// checkPrekey checks pk against user's pinned identity key and, if it
// holds, caches it (unless the cache dropped something since gen).
func (k *keyring) checkPrekey(ctx context.Context, user string, pk keys.SignedPrekey, gen uint64) (keys.SignedPrekey, error) {
	pinned, err := k.senderKey(ctx, user)
	if err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("key of %s: %w", user, err)
	}
	if err := pk.Verify(pinned, user, time.Now()); err != nil {
		return keys.SignedPrekey{}, fmt.Errorf("prekey of %s: %w", user, err)
	}
	k.cache.put(user, pk, gen)
	return pk, nil
}

// prefetch fetches, in few keys.get_many requests, the keys of those of
// users with no prekey cached, pins their identity keys and caches the
// prekeys that check out: sealing a message to a big group then costs no
// request per member. Whoever it could not fetch is left to sealKey.
func (k *keyring) prefetch(ctx context.Context, users []string) {
	now := time.Now()
	var missing []string
	for _, u := range users {
		if _, ok := k.cache.get(u, now); !ok {
			missing = append(missing, u)
		}
	}
	if len(missing) == 0 {
		return
	}
	got, err := k.fetchKeys(ctx, missing)
	if err != nil {
		k.log.Debug("fetch keys", "users", len(missing), "err", err)
	}
	if len(got) == 0 {
		return
	}
	gen := k.cache.generation()
	// The pinned keys, read once for all (a contact's read is a scan).
	cs, err := k.db.Contacts(ctx)
	if err != nil {
		k.log.Warn("list contacts", "err", err)
		return
	}
	pinned := make(map[string]history.Contact, len(cs))
	for _, c := range cs {
		pinned[c.Username] = c
	}
	now = time.Now()
	for _, kr := range got {
		c, ok := pinned[kr.Username]
		if !ok || c.Held() {
			continue // sealKey says why, if a copy is for them
		}
		if err := kr.Prekey.Verify(c.IdentityKey, kr.Username, now); err != nil {
			k.log.Debug("fetched prekey not cached", "user", kr.Username, "err", err)
			continue
		}
		k.cache.put(kr.Username, kr.Prekey, gen)
	}
}

// fetchKeys asks the server's directory for the keys of users,
// wire.MaxKeysBatch a request, and pins the identity keys (raising the
// alarm for any that changed). It returns what the server answered for
// the users asked, and the first error, after which it stops.
func (k *keyring) fetchKeys(ctx context.Context, users []string) ([]wire.KeysResponse, error) {
	var out []wire.KeysResponse
	for len(users) > 0 {
		n := min(len(users), wire.MaxKeysBatch)
		part := users[:n]
		users = users[n:]
		var resp wire.KeysGetManyResponse
		if err := k.link.Call(ctx, wire.OpKeysGetMany, wire.KeysGetManyRequest{Usernames: part}, &resp); err != nil {
			return out, err
		}
		asked := make(map[string]bool, len(part))
		for _, u := range part {
			asked[u] = true
		}
		for _, kr := range resp.Keys {
			// Only the users asked, each once, with a well-formed key:
			// the answer is the server's word, not the users'.
			if !asked[kr.Username] {
				continue
			}
			delete(asked, kr.Username)
			if len(kr.IdentityKey) != ed25519.PublicKeySize {
				k.log.Warn("server sent a malformed identity key", "user", kr.Username)
				continue
			}
			k.pinKey(ctx, kr.Username, kr.IdentityKey)
			out = append(out, kr)
		}
	}
	return out, nil
}

// keysChanged acts on a key.changed push: the identity key is pinned
// (raising the alarm if it changed), and the new prekey, once checked,
// replaces the cached one.
func (k *keyring) keysChanged(ctx context.Context, kc wire.KeyChangedEvent) {
	k.cache.drop(kc.Username)
	if len(kc.IdentityKey) != ed25519.PublicKeySize {
		return
	}
	gen := k.cache.generation()
	k.pinKey(ctx, kc.Username, kc.IdentityKey)
	if kc.Prekey == nil {
		return
	}
	if _, err := k.checkPrekey(ctx, kc.Username, *kc.Prekey, gen); err != nil && !errors.Is(err, context.Canceled) {
		k.log.Debug("pushed prekey not cached", "user", kc.Username, "err", err)
	}
}
