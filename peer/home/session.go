package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ServerPin is the server the daemon talks to and the SHA-256 fingerprint
// of the certificate it pinned.
type ServerPin struct {
	Addr        string `json:"addr"`
	Fingerprint string `json:"fingerprint"`
}

type session struct {
	User  string `json:"user"`
	Token string `json:"token"`
}

// Server returns the pinned server, or ErrNoServer.
func (h *Home) Server() (ServerPin, error) {
	var p ServerPin
	err := h.readJSON(serverFile, &p)
	if errors.Is(err, fs.ErrNotExist) {
		return ServerPin{}, ErrNoServer
	}
	if err != nil {
		return ServerPin{}, fmt.Errorf("pinned server: %w", err)
	}
	return p, nil
}

// SaveServer pins a server.
func (h *Home) SaveServer(p ServerPin) error {
	return h.writeJSON(serverFile, p)
}

// Token returns the stored session: the username and the token to resume
// with. Both are empty when there is none.
func (h *Home) Token() (user, token string, err error) {
	var s session
	err = h.readJSON(sessionFile, &s)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("session: %w", err)
	}
	return s.User, s.Token, nil
}

// SaveToken stores the session token of user.
func (h *Home) SaveToken(user, token string) error {
	return h.writeJSON(sessionFile, session{User: user, Token: token})
}

// ClearToken forgets the session token.
func (h *Home) ClearToken() error {
	err := os.Remove(h.path(sessionFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forget session: %w", err)
	}
	return nil
}

func (h *Home) readJSON(name string, v any) error {
	data, err := h.readSmall(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (h *Home) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := h.writeAtomic(name, append(data, '\n')); err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}

// Account returns the username this directory belongs to, or "" before
// the first register or login. A directory holds one account's identity
// key and history, so it never serves another.
func (h *Home) Account() (string, error) {
	var a account
	err := h.readJSON(accountFile, &a)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("account: %w", err)
	}
	return a.User, nil
}

// SetAccount records the username this directory belongs to.
func (h *Home) SetAccount(user string) error {
	return h.writeJSON(accountFile, account{User: user})
}

type account struct {
	User string `json:"user"`
}

type listenPort struct {
	Port int `json:"port"`
}

// ListenPort returns the UDP port the daemon listened on last time, or 0.
// Keeping it across restarts lets contacts find the daemon again at an
// address that worked before, where neither the server nor multicast can
// tell them.
func (h *Home) ListenPort() int {
	var p listenPort
	if err := h.readJSON(listenFile, &p); err != nil || p.Port < 1 || p.Port > 65535 {
		return 0
	}
	return p.Port
}

// SaveListenPort records the daemon's UDP port.
func (h *Home) SaveListenPort(port int) error {
	return h.writeJSON(listenFile, listenPort{Port: port})
}
