// Package password hashes and verifies passwords with argon2id, bounding
// how many hashes run at once so a login storm cannot exhaust memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// Default follows OWASP's Password Storage Cheat Sheet for argon2id:
// 19 MiB of memory, 2 iterations, 1 degree of parallelism.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// Bounds on parameters read from a stored hash.
	maxMemory  = 1 << 20 // KiB (1 GiB)
	maxTime    = 100
	maxThreads = 64
	minBytes   = 8
	maxBytes   = 64
)

// ErrMalformed is returned for an encoded hash that cannot be parsed.
var ErrMalformed = errors.New("malformed password hash")

// Hasher hashes and verifies passwords under a concurrency bound.
type Hasher struct {
	params Params
	sem    chan struct{}

	dummyOnce sync.Once
	dummy     string

	testHook func() // runs while holding the semaphore; tests only
}

// NewHasher returns a Hasher making hashes with p, running at most
// concurrency hashes at once (the number of CPUs when concurrency <= 0).
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	return &Hasher{params: p, sem: make(chan struct{}, concurrency)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params, n uint32) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, fmt.Errorf("wait to hash: %w", err)
	}
	defer h.release()
	if h.testHook != nil {
		h.testHook()
	}
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, n), nil
}

// Hash returns the PHC-formatted argon2id hash of password with a fresh
// random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key, err := h.derive(ctx, password, salt, h.params, keyLen)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches the encoded hash, comparing in
// constant time. The hash's own parameters are used.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, password, salt, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the work of one Verify against a fixed hash, so a
// login for an unknown user takes as long as one for a known user.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	h.dummyOnce.Do(func() {
		salt := make([]byte, saltLen)
		rand.Read(salt)
		h.dummy = encode(h.params, salt, make([]byte, keyLen))
	})
	h.Verify(ctx, h.dummy, password)
}

// NeedsRehash reports whether encoded was made with other parameters than
// p (or cannot be parsed).
func NeedsRehash(encoded string, p Params) bool {
	got, _, _, err := decode(encoded)
	return err != nil || got != p
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$salt$hash" with bounded
// parameters.
func decode(s string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version", ErrMalformed)
	}
	var m, t, th uint64
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, ErrMalformed
	}
	for i, dst := range []*uint64{&m, &t, &th} {
		name := []string{"m=", "t=", "p="}[i]
		if !strings.HasPrefix(kv[i], name) {
			return p, nil, nil, ErrMalformed
		}
		v, err := strconv.ParseUint(kv[i][2:], 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformed
		}
		*dst = v
	}
	if m < 8 || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > maxThreads || m < 8*th {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformed)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minBytes || len(salt) > maxBytes {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformed)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minBytes || len(key) > maxBytes {
		return p, nil, nil, fmt.Errorf("%w: hash", ErrMalformed)
	}
	return Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}, salt, key, nil
}
