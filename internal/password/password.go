// Package password hashes and verifies account passwords with argon2id.
//
// Hashes are stored as PHC strings
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>") so each one carries
// the cost it was made with and the cost can be raised later (see
// NeedsRehash). A Hasher bounds how many hashes run at once: each one
// takes Params.Memory KiB, so a login storm could otherwise exhaust the
// server's memory.
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
	Memory  uint32 // memory in KiB
	Time    uint32 // passes over the memory
	Threads uint8  // degree of parallelism (lanes)
}

// Default is OWASP's current recommendation for argon2id: 19 MiB of
// memory, 2 iterations, 1 degree of parallelism. See the OWASP Password
// Storage Cheat Sheet,
// https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16 // bytes of random salt in a new hash
	keyLen  = 32 // bytes of derived key in a new hash

	// Bounds on what Verify accepts from an encoded hash, so a corrupt or
	// hostile database row cannot make one check take a minute or a
	// terabyte. NewHasher clamps its Params into the same range so every
	// hash it makes can be verified.
	maxMemory  = 1 << 20 // KiB, i.e. 1 GiB
	maxTime    = 100
	maxThreads = 64
	minBytes   = 8 // shortest salt or hash accepted
	maxBytes   = 64
)

// ErrMalformed is returned (wrapped) by Verify for an encoded hash that
// cannot be parsed or whose parameters are out of bounds.
var ErrMalformed = errors.New("malformed password hash")

// Hasher hashes and verifies passwords, running at most a fixed number
// of argon2id computations at once. It is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{} // one token per running hash

	dummyOnce sync.Once
	dummy     string // see VerifyDummy

	// testHook, when set, runs while a hashing slot is held. Tests use
	// it to observe and hold the semaphore.
	testHook func()
}

// NewHasher returns a Hasher that makes new hashes with p and runs at
// most concurrency hashes at once (runtime.NumCPU() when concurrency <=
// 0). Parameters outside what Verify accepts are clamped into range: a
// zero Time or Threads becomes 1, Memory is raised to argon2's minimum of
// 8 KiB per thread, and nothing exceeds 1 GiB, 100 passes or 64 threads.
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	return &Hasher{params: p.clamp(), sem: make(chan struct{}, concurrency)}
}

// Params returns the parameters the Hasher makes new hashes with, after
// clamping.
func (h *Hasher) Params() Params { return h.params }

// clamp brings p into the range that decode accepts.
func (p Params) clamp() Params {
	p.Threads = max(1, min(p.Threads, maxThreads))
	p.Time = max(1, min(p.Time, maxTime))
	p.Memory = max(8*uint32(p.Threads), min(p.Memory, maxMemory))
	return p
}

// acquire takes a hashing slot, or returns ctx.Err() if ctx ends first.
func (h *Hasher) acquire(ctx context.Context) error {
	// A context that has already ended must not win a free slot by
	// chance of select.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// derive runs argon2id under the semaphore.
func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params, n uint32) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	if h.testHook != nil {
		h.testHook()
	}
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, n), nil
}

// Hash returns the PHC-encoded argon2id hash of password under a fresh
// 16-byte random salt. If ctx ends while it waits for a hashing slot, it
// returns ctx.Err().
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (crypto/rand since Go 1.24)
	key, err := h.derive(ctx, password, salt, h.params, keyLen)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, a hash made by Hash
// (possibly with other parameters: those in encoded are used). The
// comparison takes constant time. An encoded hash that cannot be parsed,
// or whose parameters are out of bounds, gives an error wrapping
// ErrMalformed; if ctx ends while Verify waits for a hashing slot, it
// returns ctx.Err().
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

// VerifyDummy does the work of one Verify, against a fixed hash made
// once with the Hasher's parameters, and throws the result away. Calling
// it for a login to an unknown account makes that login take as long as
// one to a known account, so timing does not tell which accounts exist.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	h.dummyOnce.Do(func() {
		salt := make([]byte, saltLen)
		rand.Read(salt)
		// No password derives to all zeroes in practice; the key only
		// has to have the right length.
		h.dummy = encode(h.params, salt, make([]byte, keyLen))
	})
	_, _ = h.Verify(ctx, h.dummy, password)
}

// NeedsRehash reports whether encoded should be replaced by a new hash
// made with p (clamped as NewHasher does): because it was made with other
// parameters, has a derived key of another length, or cannot be parsed.
// A server calls it after a successful login, when it knows the password.
func NeedsRehash(encoded string, p Params) bool {
	got, _, key, err := decode(encoded)
	return err != nil || got != p.clamp() || len(key) != keyLen
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses "$argon2id$v=19$m=M,t=T,p=P$salt$hash", accepting only
// parameters and lengths within the bounds above.
func decode(s string) (p Params, salt, key []byte, err error) {
	fail := func(what string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("not a PHC string")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported argon2 version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return fail("parameters")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(kv[i], name)
		if !ok || digits == "" || len(digits) > 10 {
			return fail("parameters")
		}
		v, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return fail("parameters")
		}
		vals[i] = v
	}
	m, t, th := vals[0], vals[1], vals[2]
	if th < 1 || th > maxThreads {
		return fail("parallelism out of range")
	}
	if t < 1 || t > maxTime {
		return fail("time out of range")
	}
	if m < 8*th || m > maxMemory {
		return fail("memory out of range")
	}
	b64 := base64.RawStdEncoding.Strict()
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < minBytes || len(salt) > maxBytes {
		return fail("salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < minBytes || len(key) > maxBytes {
		return fail("hash")
	}
	return Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}, salt, key, nil
}
