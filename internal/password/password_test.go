package password

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fast keeps the tests quick; the production cost is Default.
var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 2)
	for _, pw := range []string{"correct horse battery staple", "", "ünïcødé 🔑", strings.Repeat("x", 1024)} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("encoding %q lacks the expected PHC prefix", enc)
		}
		ok, err := h.Verify(ctx, enc, pw)
		if err != nil || !ok {
			t.Errorf("Verify(own hash) = %v, %v; want true, nil", ok, err)
		}
		ok, err = h.Verify(ctx, enc, pw+"x")
		if err != nil || ok {
			t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
		}
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := NewHasher(fast, 1)
	a, _ := h.Hash(context.Background(), "same")
	b, _ := h.Hash(context.Background(), "same")
	if a == b {
		t.Fatalf("two hashes of one password are equal: %q", a)
	}
}

func TestDefaultEncoding(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes at the production cost")
	}
	h := NewHasher(Default, 1)
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=19456,t=2,p=1" {
		t.Fatalf("encoding %q, want $argon2id$v=19$m=19456,t=2,p=1$...", enc)
	}
	if len(parts[4]) != 22 || len(parts[5]) != 43 { // 16 and 32 bytes, raw base64
		t.Errorf("salt %q / hash %q have the wrong length", parts[4], parts[5])
	}
}

// TestVerifyUsesEncodedParams checks that a hash made with older
// parameters still verifies after the cost is raised.
func TestVerifyUsesEncodedParams(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(Params{Memory: 32, Time: 1, Threads: 1}, 1)
	enc, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	cur := NewHasher(Params{Memory: 128, Time: 2, Threads: 2}, 1)
	if ok, err := cur.Verify(ctx, enc, "pw"); err != nil || !ok {
		t.Fatalf("Verify(old hash) = %v, %v; want true, nil", ok, err)
	}
	if !NeedsRehash(enc, cur.Params()) {
		t.Error("NeedsRehash(old hash, new params) = false")
	}
	if NeedsRehash(enc, old.Params()) {
		t.Error("NeedsRehash(hash, its own params) = true")
	}
}

// TestReferenceVectors verifies hashes made by the argon2 reference
// implementation's command-line tool (Debian package argon2), e.g.
//
//	echo -n hunter2 | argon2 saltsalt12345678 -id -t 1 -k 64 -p 1 -l 32 -e
func TestReferenceVectors(t *testing.T) {
	tests := []struct{ enc, password string }{
		{"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQxMjM0NTY3OA$BdeVRNTni+OGyRnL1q3fGTTBPki46IUGO9D1o/R3k2Y", "hunter2"},
		{"$argon2id$v=19$m=256,t=3,p=2$c29tZXNhbHR2YWx1ZTEyMw$IQuMwmJ+e7lbf6Nj+gX1VQn1+zYXZLeSpKJD6Z1gc0E", "correct horse battery staple"},
	}
	h := NewHasher(fast, 1)
	for _, tt := range tests {
		if ok, err := h.Verify(context.Background(), tt.enc, tt.password); err != nil || !ok {
			t.Errorf("Verify(%q, %q) = %v, %v; want true, nil", tt.enc, tt.password, ok, err)
		}
		if ok, err := h.Verify(context.Background(), tt.enc, tt.password+" "); err != nil || ok {
			t.Errorf("Verify(%q, wrong) = %v, %v; want false, nil", tt.enc, ok, err)
		}
	}
	// The same inputs through this package's encoder give the same string.
	key, err := h.derive(context.Background(), "hunter2", []byte("saltsalt12345678"), fast, keyLen)
	if err != nil {
		t.Fatal(err)
	}
	if got := encode(fast, []byte("saltsalt12345678"), key); got != tests[0].enc {
		t.Errorf("encode = %q, want %q", got, tests[0].enc)
	}
}

func TestVerifyMalformed(t *testing.T) {
	salt := "c2FsdHNhbHQxMjM0NTY3OA"                      // 16 bytes
	hash := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 32 bytes
	valid := "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"dollar", "$"},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash},
		{"too few fields", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"too many fields", valid + "$extra"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + hash},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + hash + "$"},
		{"params reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + hash},
		{"params missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + hash},
		{"params extra", "$argon2id$v=19$m=64,t=1,p=1,k=2$" + salt + "$" + hash},
		{"param empty", "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + hash},
		{"param negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + hash},
		{"param plus sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + hash},
		{"param not a number", "$argon2id$v=19$m=lots,t=1,p=1$" + salt + "$" + hash},
		{"param overflows uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + hash},
		{"param huge digits", "$argon2id$v=19$m=" + strings.Repeat("9", 100) + ",t=1,p=1$" + salt + "$" + hash},
		{"memory 1 GiB + 1 KiB", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + hash},
		{"memory max uint32", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + hash},
		{"memory zero", "$argon2id$v=19$m=0,t=1,p=1$" + salt + "$" + hash},
		{"memory below 8 per lane", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + hash},
		{"time zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + hash},
		{"time 101", "$argon2id$v=19$m=64,t=101,p=1$" + salt + "$" + hash},
		{"threads zero", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + hash},
		{"threads 65", "$argon2id$v=19$m=1024,t=1,p=65$" + salt + "$" + hash},
		{"threads 256", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + hash},
		{"salt empty", "$argon2id$v=19$m=64,t=1,p=1$$" + hash},
		{"salt 7 bytes", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbA$" + hash},
		{"salt 65 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 87) + "$" + hash},
		{"salt padded", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash},
		{"salt url alphabet", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNh-_QxMjM0NTY3OA$" + hash},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!!!!!!!!!$" + hash},
		{"hash empty", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"hash 7 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$c2FsdHNhbA"},
		{"hash 65 bytes", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 87)},
		{"hash non-canonical", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"},
	}
	h := NewHasher(fast, 1)
	if _, err := h.Verify(context.Background(), valid, "pw"); err != nil {
		t.Fatalf("control case %q: %v", valid, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), tt.enc, "pw")
			if ok || !errors.Is(err, ErrMalformed) {
				t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformed", tt.enc, ok, err)
			}
			if !NeedsRehash(tt.enc, fast) {
				t.Errorf("NeedsRehash(%q) = false for a malformed hash", tt.enc)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	h := NewHasher(fast, 1)
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p    Params
		want bool
	}{
		{fast, false},
		{Params{Memory: 64, Time: 1, Threads: 0}, false}, // clamped to 1 thread, as NewHasher does
		{Params{Memory: 128, Time: 1, Threads: 1}, true},
		{Params{Memory: 64, Time: 2, Threads: 1}, true},
		{Params{Memory: 64, Time: 1, Threads: 2}, true},
		{Default, true},
	}
	for _, tt := range tests {
		if got := NeedsRehash(enc, tt.p); got != tt.want {
			t.Errorf("NeedsRehash(%+v hash, %+v) = %v, want %v", fast, tt.p, got, tt.want)
		}
	}
	short := encode(fast, []byte("saltsalt12345678"), make([]byte, 16))
	if !NeedsRehash(short, fast) {
		t.Error("NeedsRehash(16-byte key) = false, want true")
	}
}

func TestNewHasherClamps(t *testing.T) {
	tests := []struct{ in, want Params }{
		{Params{}, Params{Memory: 8, Time: 1, Threads: 1}},
		{Params{Memory: 4, Time: 0, Threads: 4}, Params{Memory: 32, Time: 1, Threads: 4}},
		{Params{Memory: 1 << 30, Time: 1000, Threads: 255}, Params{Memory: 1 << 20, Time: 100, Threads: 64}},
		{Default, Default},
	}
	for _, tt := range tests {
		if got := NewHasher(tt.in, 1).Params(); got != tt.want {
			t.Errorf("NewHasher(%+v).Params() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	// A hasher made from zero params still makes hashes it can verify.
	h := NewHasher(Params{}, 1)
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(context.Background(), enc, "pw"); !ok || err != nil {
		t.Fatalf("Verify(hash from zero params) = %v, %v", ok, err)
	}
	if n := cap(NewHasher(fast, 0).sem); n < 1 {
		t.Errorf("NewHasher(_, 0) allows %d concurrent hashes", n)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(fast, 1)
	var calls atomic.Int32
	h.testHook = func() { calls.Add(1) }
	h.VerifyDummy(context.Background(), "pw")
	h.VerifyDummy(context.Background(), "other")
	if n := calls.Load(); n != 2 {
		t.Fatalf("VerifyDummy ran argon2 %d times for 2 calls, want 2", n)
	}
	if h.dummy == "" {
		t.Fatal("no dummy hash was made")
	}
	if p, _, _, err := decode(h.dummy); err != nil || p != fast {
		t.Fatalf("dummy hash %q decodes to %+v, %v; want the hasher's params", h.dummy, p, err)
	}
	if ok, _ := h.Verify(context.Background(), h.dummy, "pw"); ok {
		t.Fatal("the dummy hash matched a password")
	}
}

// TestConcurrencyBound starts more hashes than the bound allows and
// checks, with a hook that holds each slot, that no more than the bound
// run at once and that they all finish once the slots are released.
func TestConcurrencyBound(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			h := NewHasher(fast, limit)
			var running, peak atomic.Int32
			entered := make(chan struct{})
			release := make(chan struct{})
			h.testHook = func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				entered <- struct{}{}
				<-release
				running.Add(-1)
			}
			const callers = 8
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for i := range callers {
				wg.Go(func() {
					var err error
					if i%2 == 0 {
						_, err = h.Hash(context.Background(), "pw")
					} else {
						_, err = h.Verify(context.Background(), "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQxMjM0NTY3OA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "pw")
					}
					errs <- err
				})
			}
			for range limit {
				<-entered
			}
			// The bound is full: nobody else may get in until a slot is
			// released. Give the waiting callers a moment to try.
			select {
			case <-entered:
				t.Fatalf("a hash started while %d were already running (limit %d)", running.Load()-1, limit)
			case <-time.After(50 * time.Millisecond):
			}
			close(release)
			go func() {
				for range entered {
				}
			}()
			wg.Wait()
			close(entered)
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("hash failed: %v", err)
				}
			}
			if p := peak.Load(); p != int32(limit) {
				t.Errorf("peak concurrency %d, want %d", p, limit)
			}
		})
	}
}

// TestContextWhileWaiting checks that a caller waiting for a slot gives
// up with ctx.Err() when its context ends.
func TestContextWhileWaiting(t *testing.T) {
	h := NewHasher(fast, 1)
	entered := make(chan struct{})
	release := make(chan struct{})
	h.testHook = func() {
		entered <- struct{}{}
		<-release
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "holder")
		done <- err
	}()
	<-entered // the only slot is now held

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	if _, err := h.Hash(ctx, "pw"); err != context.Canceled {
		t.Errorf("Hash with cancelled ctx = %v, want context.Canceled", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer dcancel()
	if ok, err := h.Verify(dctx, "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQxMjM0NTY3OA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "pw"); ok || err != context.DeadlineExceeded {
		t.Errorf("Verify with expired ctx = %v, %v; want false, context.DeadlineExceeded", ok, err)
	}
	h.VerifyDummy(dctx, "pw") // returns rather than blocking

	close(release)
	if err := <-done; err != nil {
		t.Fatalf("holder: %v", err)
	}
	h.testHook = nil
	if len(h.sem) != 0 {
		t.Fatalf("%d slots still held after all callers returned", len(h.sem))
	}
}

func TestCancelledContextNeverHashes(t *testing.T) {
	h := NewHasher(fast, 4) // plenty of free slots
	h.testHook = func() { t.Error("hashed under an already-cancelled context") }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		if _, err := h.Hash(ctx, "pw"); err != context.Canceled {
			t.Fatalf("Hash = %v, want context.Canceled", err)
		}
	}
}

// FuzzVerify checks that Verify never panics on an arbitrary encoded
// hash. Seeds are in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQxMjM0NTY3OA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "pw")
	h := NewHasher(fast, 2)
	f.Fuzz(func(t *testing.T, encoded, password string) {
		p, _, _, err := decode(encoded)
		if err == nil && (p.Memory > 4096 || p.Time > 4) {
			// Valid but costly: decoding was the part under test, and
			// the fuzzer would spend its time in argon2.
			return
		}
		ok, verr := h.Verify(context.Background(), encoded, password)
		if (err == nil) != (verr == nil) {
			t.Fatalf("decode err %v but Verify err %v", err, verr)
		}
		if verr != nil && ok {
			t.Fatalf("Verify = true with error %v", verr)
		}
		if verr != nil && !errors.Is(verr, ErrMalformed) {
			t.Fatalf("Verify error %v does not wrap ErrMalformed", verr)
		}
		_ = NeedsRehash(encoded, fast)
	})
}
