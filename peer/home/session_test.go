package home

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestToken(t *testing.T) {
	h := open(t)
	user, tok, err := h.Token()
	if err != nil || user != "" || tok != "" {
		t.Fatalf("Token() with none stored = %q, %q, %v; want empty", user, tok, err)
	}
	// Clearing what is not there is fine (logout twice).
	if err := h.ClearToken(); err != nil {
		t.Fatalf("ClearToken() with none stored: %v", err)
	}

	steps := []struct{ user, token string }{
		{"alice", "tok-1"},
		{"alice", "tok-2"}, // a renewed token replaces the old one
		{"bob", "tok-3"},   // another account in the same directory
	}
	for _, s := range steps {
		if err := h.SaveToken(s.user, s.token); err != nil {
			t.Fatal(err)
		}
		user, tok, err := h.Token()
		if err != nil || user != s.user || tok != s.token {
			t.Fatalf("Token() = %q, %q, %v; want %q, %q", user, tok, err, s.user, s.token)
		}
	}
	if got := perm(t, filepath.Join(h.Dir(), sessionFile)); got != 0o600 {
		t.Fatalf("session file mode %04o, want 0600", got)
	}

	if err := h.ClearToken(); err != nil {
		t.Fatal(err)
	}
	if user, tok, err := h.Token(); err != nil || user != "" || tok != "" {
		t.Fatalf("Token() after ClearToken = %q, %q, %v; want empty", user, tok, err)
	}
	if _, err := os.Stat(filepath.Join(h.Dir(), sessionFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("session file still there after ClearToken: %v", err)
	}
}

func TestServer(t *testing.T) {
	h := open(t)
	if p, err := h.Server(); !errors.Is(err, ErrNoServer) || p != (ServerPin{}) {
		t.Fatalf("Server() with none pinned = %+v, %v; want ErrNoServer", p, err)
	}
	pins := []ServerPin{
		{Addr: "chat.example.lan:7443", Fingerprint: "0123456789abcdef"},
		{Addr: "10.0.0.2:7443", Fingerprint: "fedcba9876543210"},
	}
	for _, want := range pins {
		if err := h.SaveServer(want); err != nil {
			t.Fatal(err)
		}
		got, err := h.Server()
		if err != nil || got != want {
			t.Fatalf("Server() = %+v, %v; want %+v", got, err, want)
		}
	}
	// Another Open of the directory sees the pin.
	h2, err := Open(h.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h2.Server(); err != nil || got != pins[len(pins)-1] {
		t.Fatalf("Server() after reopen = %+v, %v", got, err)
	}
	if got := perm(t, filepath.Join(h.Dir(), serverFile)); got != 0o600 {
		t.Fatalf("server file mode %04o, want 0600", got)
	}
}

func TestCorruptJSON(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"truncated", `{"addr": "chat:7443", "finger`},
		{"not JSON", "hello"},
		{"wrong types", `{"addr": 7443, "user": 5}`},
		{"array", `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := open(t)
			for _, name := range []string{serverFile, sessionFile} {
				if err := os.WriteFile(filepath.Join(h.Dir(), name), []byte(tt.data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := h.Server(); err == nil || errors.Is(err, ErrNoServer) {
				t.Errorf("Server() err = %v, want a decoding error", err)
			}
			if _, _, err := h.Token(); err == nil {
				t.Errorf("Token() err = nil, want a decoding error")
			}
			// A corrupt session can still be forgotten.
			if err := h.ClearToken(); err != nil {
				t.Errorf("ClearToken: %v", err)
			}
			if _, _, err := h.Token(); err != nil {
				t.Errorf("Token() after ClearToken: %v", err)
			}
		})
	}
}
