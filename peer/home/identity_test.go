package home

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestIdentityRoundTrip(t *testing.T) {
	h := open(t)
	if _, err := h.Identity(); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("Identity() before create: err = %v, want ErrNoIdentity", err)
	}
	key, err := h.CreateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != ed25519.PrivateKeySize {
		t.Fatalf("key of %d bytes", len(key))
	}
	path := filepath.Join(h.Dir(), identityFile)
	if got := perm(t, path); got != 0o600 {
		t.Fatalf("identity key mode %04o, want 0600", got)
	}
	got, err := h.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(got) {
		t.Fatal("Identity() returned another key than CreateIdentity made")
	}

	// Another Open of the same directory (a restarted daemon) reads it.
	h2, err := Open(h.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := h2.Identity(); err != nil || !key.Equal(got) {
		t.Fatalf("Identity() after reopen: %v, same key %v", err, key.Equal(got))
	}

	// The file is PEM PKCS#8, readable by standard tools.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("identity file is not one PEM PRIVATE KEY block:\n%s", data)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := parsed.(ed25519.PrivateKey); !ok || !key.Equal(k) {
		t.Fatalf("PKCS#8 holds %T, not the key", parsed)
	}
}

func TestCreateIdentityNeverReplaces(t *testing.T) {
	h := open(t)
	key, err := h.CreateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.CreateIdentity(); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second CreateIdentity: err = %v, want already exists", err)
	}
	if got, err := h.Identity(); err != nil || !key.Equal(got) {
		t.Fatalf("key changed after refused CreateIdentity (err %v)", err)
	}
}

// TestCreateIdentityConcurrent checks that of several concurrent creations
// exactly one succeeds, and that the key it returned is the stored one: a
// daemon must never register with a key other than the one on disk.
func TestCreateIdentityConcurrent(t *testing.T) {
	for range 20 {
		h := open(t)
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			made []ed25519.PrivateKey
		)
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				key, err := h.CreateIdentity()
				if err != nil {
					if !strings.Contains(err.Error(), "already exists") {
						t.Errorf("CreateIdentity: %v", err)
					}
					return
				}
				mu.Lock()
				made = append(made, key)
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		if len(made) != 1 {
			t.Fatalf("%d of %d concurrent CreateIdentity calls succeeded, want 1", len(made), n)
		}
		stored, err := h.Identity()
		if err != nil {
			t.Fatal(err)
		}
		if !stored.Equal(made[0]) {
			t.Fatal("the stored key is not the one CreateIdentity returned")
		}
	}
}

func TestIdentityRefusesLooseMode(t *testing.T) {
	tests := []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o644, false},
		{0o640, false},
		{0o604, false},
		{0o660, false},
		{0o666, false},
		{0o610, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			h := open(t)
			key, err := h.CreateIdentity()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(h.Dir(), identityFile)
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := h.Identity()
			if tt.ok {
				if err != nil || !key.Equal(got) {
					t.Fatalf("Identity() with mode %04o: %v", tt.mode, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Identity() accepted a key file of mode %04o", tt.mode)
			}
			if errors.Is(err, ErrNoIdentity) {
				t.Fatalf("err = %v; a loose key is not a missing one", err)
			}
			// The message tells the user how to fix it.
			for _, want := range []string{"chmod 600 " + path, path} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestIdentityMalformed(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "not a PEM private key"},
		{"not PEM", []byte("hello, world\n"), "not a PEM private key"},
		{"raw seed", edKey.Seed(), "not a PEM private key"},
		{"wrong PEM type", pemOf("EC PRIVATE KEY", edDER), "not a PEM private key"},
		{"public key", pemOf("PUBLIC KEY", edDER), "not a PEM private key"},
		{"garbage DER", pemOf("PRIVATE KEY", []byte("not der at all")), "identity key"},
		{"truncated DER", pemOf("PRIVATE KEY", edDER[:len(edDER)-5]), "identity key"},
		{"ECDSA key", pemOf("PRIVATE KEY", ecDER), "not Ed25519"},
		{"too large", make([]byte, maxSmallFile+1), "not a lanchat file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := open(t)
			if err := os.WriteFile(filepath.Join(h.Dir(), identityFile), tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			key, err := h.Identity()
			if err == nil {
				t.Fatalf("Identity() accepted %s: %x", tt.name, key)
			}
			if errors.Is(err, ErrNoIdentity) {
				t.Fatalf("err = %v; a malformed key is not a missing one", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.wantErr)
			}
			// A bad file is reported, never silently replaced.
			if _, err := h.CreateIdentity(); err == nil {
				t.Fatal("CreateIdentity replaced a malformed key file")
			}
		})
	}
}

func TestIdentityNotRegularFile(t *testing.T) {
	h := open(t)
	if err := os.Mkdir(filepath.Join(h.Dir(), identityFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Identity(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Identity() err = %v, want not a regular file", err)
	}
}
