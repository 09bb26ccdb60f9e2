package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// Token and session limits.
const (
	// TokenLifetime is how long a sign-in token from lanchat ui stays
	// usable: long enough to open a browser, short enough that a token
	// left in a terminal's scroll-back is worthless.
	TokenLifetime = 2 * time.Minute
	// SessionIdle ends a session nobody used for this long.
	SessionIdle = 7 * 24 * time.Hour
	// maxTokens and maxSessions bound the tables: the oldest entry goes
	// first when a new one needs room.
	maxTokens   = 16
	maxSessions = 64
	// secretBytes is the size of tokens and session ids (256 bits).
	secretBytes = 32
	// maxSecretLen bounds what is hashed of a presented secret.
	maxSecretLen = 128
)

// secretHash is the SHA-256 of a token or session id. The tables keep
// only hashes, so a secret never sits in memory longer than a request.
type secretHash [sha256.Size]byte

// sessions holds the pending sign-in tokens and the open sessions. Each
// token works once: redeeming it removes it and opens a session, whose id
// the browser keeps in a cookie. Lookups compare hashes in constant time.
//
// mu guards both tables; every method takes it.
type sessions struct {
	now func() time.Time

	mu       sync.Mutex
	tokens   map[secretHash]time.Time // token → expiry
	sessions map[secretHash]time.Time // session id → last use
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{
		now:      now,
		tokens:   make(map[secretHash]time.Time),
		sessions: make(map[secretHash]time.Time),
	}
}

// newSecret returns 256 random bits, base64url-encoded.
func newSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(s string) secretHash { return sha256.Sum256([]byte(s)) }

// NewToken makes a one-time sign-in token valid for TokenLifetime.
func (s *sessions) NewToken() string {
	tok := newSecret()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	expire(s.tokens, func(exp time.Time) bool { return !now.Before(exp) })
	evictOldest(s.tokens, maxTokens-1)
	s.tokens[hashSecret(tok)] = now.Add(TokenLifetime)
	return tok
}

// Redeem spends token and returns a new session id; ok is false if the
// token is unknown, already spent or expired.
func (s *sessions) Redeem(token string) (session string, ok bool) {
	if len(token) == 0 || len(token) > maxSecretLen {
		return "", false
	}
	h := hashSecret(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	key, exp, found := lookup(s.tokens, h)
	if !found {
		return "", false
	}
	delete(s.tokens, key)
	if !now.Before(exp) {
		return "", false
	}
	id := newSecret()
	expire(s.sessions, func(last time.Time) bool { return now.Sub(last) >= SessionIdle })
	evictOldest(s.sessions, maxSessions-1)
	s.sessions[hashSecret(id)] = now
	return id, true
}

// Valid reports whether id names an open session, and marks it used.
func (s *sessions) Valid(id string) bool {
	if len(id) == 0 || len(id) > maxSecretLen {
		return false
	}
	h := hashSecret(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	key, last, found := lookup(s.sessions, h)
	if !found {
		return false
	}
	if now.Sub(last) >= SessionIdle {
		delete(s.sessions, key)
		return false
	}
	s.sessions[key] = now
	return true
}

// lookup finds h in m, comparing it with every key in constant time, so
// the time taken says nothing about how much of a guess was right.
func lookup(m map[secretHash]time.Time, h secretHash) (secretHash, time.Time, bool) {
	var (
		key   secretHash
		t     time.Time
		found bool
	)
	for k, v := range m {
		if subtle.ConstantTimeCompare(k[:], h[:]) == 1 {
			key, t, found = k, v, true
		}
	}
	return key, t, found
}

// expire removes the entries for which dead is true.
func expire(m map[secretHash]time.Time, dead func(time.Time) bool) {
	for k, v := range m {
		if dead(v) {
			delete(m, k)
		}
	}
}

// evictOldest removes the entries with the oldest times until m has at
// most n.
func evictOldest(m map[secretHash]time.Time, n int) {
	for len(m) > n {
		var (
			oldest secretHash
			first  = true
			at     time.Time
		)
		for k, v := range m {
			if first || v.Before(at) {
				oldest, at, first = k, v, false
			}
		}
		delete(m, oldest)
	}
}
