package webui

import (
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTokenWorksOnce(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	s := newSessions(c.now)
	tok := s.NewToken()
	id, ok := s.Redeem(tok)
	if !ok || id == "" {
		t.Fatalf("fresh token refused")
	}
	if !s.Valid(id) {
		t.Fatalf("new session not valid")
	}
	if _, ok := s.Redeem(tok); ok {
		t.Fatalf("token redeemed twice")
	}
	if s.Valid(tok) {
		t.Fatalf("a token works as a session id")
	}
	if _, ok := s.Redeem(id); ok {
		t.Fatalf("a session id works as a token")
	}
}

func TestTokenExpires(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	s := newSessions(c.now)
	tok := s.NewToken()
	c.t = c.t.Add(TokenLifetime)
	if _, ok := s.Redeem(tok); ok {
		t.Fatalf("expired token redeemed")
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	s := newSessions(c.now)
	id, _ := s.Redeem(s.NewToken())
	c.t = c.t.Add(SessionIdle - time.Minute)
	if !s.Valid(id) {
		t.Fatalf("session ended before its idle time")
	}
	c.t = c.t.Add(SessionIdle - time.Minute) // used a minute ago: still open
	if !s.Valid(id) {
		t.Fatalf("use did not extend the session")
	}
	c.t = c.t.Add(SessionIdle)
	if s.Valid(id) {
		t.Fatalf("idle session still valid")
	}
}

func TestUnknownSecrets(t *testing.T) {
	s := newSessions(time.Now)
	s.NewToken()
	for _, v := range []string{"", "x", newSecret(), string(make([]byte, 10000))} {
		if _, ok := s.Redeem(v); ok {
			t.Errorf("Redeem(%.10q) succeeded", v)
		}
		if s.Valid(v) {
			t.Errorf("Valid(%.10q) is true", v)
		}
	}
}

func TestTablesBounded(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	s := newSessions(c.now)
	first := s.NewToken()
	for range 3 * maxTokens {
		c.t = c.t.Add(time.Millisecond)
		s.NewToken()
	}
	if len(s.tokens) > maxTokens {
		t.Fatalf("%d pending tokens; limit %d", len(s.tokens), maxTokens)
	}
	if _, ok := s.Redeem(first); ok {
		t.Fatalf("the oldest token survived eviction")
	}
	for range 3 * maxSessions {
		s.Redeem(s.NewToken())
	}
	if len(s.sessions) > maxSessions {
		t.Fatalf("%d sessions; limit %d", len(s.sessions), maxSessions)
	}
}
