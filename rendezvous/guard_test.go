package rendezvous

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// TestConcurrentWrongLogins is issue 14 item 5: 40 wrong guesses at one
// account sent at once from one address must not all reach the password
// hash; the back-off allows 5.
func TestConcurrentWrongLogins(t *testing.T) {
	ts := startServer(t, func(cfg *Config) {
		// A hash slow enough that the guesses overlap.
		cfg.Password = password.Params{Memory: 4 << 10, Time: 2, Threads: 1}
		cfg.HashConcurrency = 2
	})
	ts.register(t, "alice")
	const n = 40
	conns := make([]*client.Client, n)
	for i := range conns {
		conns[i] = ts.dial(t)
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		codes = map[string]int{}
	)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, werr := callResult(t, c, wire.OpLogin, wire.LoginRequest{Username: "alice", Password: "wrong-password"})
			code := "ok"
			if werr != nil {
				code = werr.Code
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	// Every bad_credentials reply is a guess that was checked.
	if got := codes[wire.CodeBadCredentials]; got > freeFailuresUser {
		t.Fatalf("%d of %d concurrent wrong logins were checked, want at most %d (replies %v)", got, n, freeFailuresUser, codes)
	}
	if codes["ok"] != 0 || codes[wire.CodeBadCredentials]+codes[wire.CodeRateLimited] != n {
		t.Fatalf("replies %v", codes)
	}
}

// TestGuardIPv6Prefix checks that the per-address count takes an IPv6
// client's whole /64, which one machine can hop around in at will.
func TestGuardIPv6Prefix(t *testing.T) {
	now := time.Now()
	g := newLoginGuard(func() time.Time { return now })
	base := netip.MustParseAddr("2001:db8:1:2::").As16()
	for i := range freeFailuresAddr {
		a := base
		a[15], a[14] = byte(i), 0x77
		att, w, err := g.begin(context.Background(), "user"+string(rune('a'+i)), netip.AddrFrom16(a))
		if err != nil || w != 0 {
			t.Fatalf("attempt %d: wait %v, %v", i, w, err)
		}
		att.done(false)
	}
	if _, w, _ := g.begin(context.Background(), "someone", netip.MustParseAddr("2001:db8:1:2:ffff::9")); w <= 0 {
		t.Fatal("failures spread over one /64 did not make that /64 wait")
	}
	att, w, _ := g.begin(context.Background(), "someone", netip.MustParseAddr("2001:db8:1:3::1"))
	if w != 0 {
		t.Fatalf("another /64 waits %v", w)
	}
	att.done(true)
	// IPv4 addresses count one by one; a mapped one is the same address.
	for i := range freeFailuresAddr {
		att, _, _ := g.begin(context.Background(), "v4user"+string(rune('a'+i)), netip.MustParseAddr("::ffff:192.0.2.1"))
		att.done(false)
	}
	if _, w, _ := g.begin(context.Background(), "someone", netip.MustParseAddr("192.0.2.1")); w <= 0 {
		t.Fatal("failures from ::ffff:192.0.2.1 did not make 192.0.2.1 wait")
	}
	if _, w, _ := g.begin(context.Background(), "other", netip.MustParseAddr("192.0.2.2")); w != 0 {
		t.Fatalf("192.0.2.2 waits %v", w)
	}
}

// TestRegisterRateLimited checks that one address cannot create accounts
// without bound.
func TestRegisterRateLimited(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.dial(t)
	for i := range 100 {
		req, _ := registerRequest(t, ts, "user"+string(rune('a'+i/26))+string(rune('a'+i%26)))
		_, werr := callResult(t, c, wire.OpRegister, req)
		if werr != nil {
			if werr.Code != wire.CodeRateLimited || werr.RetryAfterMS <= 0 {
				t.Fatalf("register %d: %v", i, werr)
			}
			return
		}
		call[wire.Empty](t, c, wire.OpLogout, nil)
	}
	t.Fatal("100 registrations from one address were all accepted")
}

// TestGuardOneCheckPerAccount: a second check of an account waits for the
// first to end, and then sees what the first one counted.
func TestGuardOneCheckPerAccount(t *testing.T) {
	now := time.Now()
	g := newLoginGuard(func() time.Time { return now })
	addr := netip.MustParseAddr("192.0.2.1")
	first, _, err := g.begin(context.Background(), "alice", addr)
	if err != nil {
		t.Fatal(err)
	}
	// Another account is not held up.
	other, w, err := g.begin(context.Background(), "bob", addr)
	if err != nil || w != 0 {
		t.Fatalf("bob: wait %v, %v", w, err)
	}
	other.done(true)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := g.begin(ctx, "alice", addr); err == nil {
		t.Fatal("a second check of alice ran while the first was running")
	}
	got := make(chan *attempt)
	go func() {
		a, _, _ := g.begin(context.Background(), "alice", addr)
		got <- a
	}()
	first.done(false)
	second := <-got
	second.done(true)
	if s := g.byUser["alice"]; s != nil {
		t.Fatalf("alice's count after a success: %+v", *s)
	}
	// The address kept the one failure and got the success back.
	if s := g.byAddr[addrKey(addr)]; s == nil || s.fails != 1 {
		t.Fatalf("the address's count: %+v, want 1 failure", s)
	}
}

// TestRegisterLimitPerPrefix: the register budget is per IPv4 address and
// per IPv6 /64, and it refills over the hour.
func TestRegisterLimitPerPrefix(t *testing.T) {
	clk := &manualClock{now: time.Now()}
	r := newRegisterLimit(3, clk.Now)
	for i := range 3 {
		if w := r.take(netip.MustParseAddr(fmt.Sprintf("2001:db8::%x", i+1))); w != 0 {
			t.Fatalf("registration %d waits %v", i+1, w)
		}
	}
	w := r.take(netip.MustParseAddr("2001:db8::ffff:1"))
	if w <= 0 || w > 20*time.Minute+time.Second {
		t.Fatalf("fourth registration from the /64: wait %v, want about 20m", w)
	}
	if w := r.take(netip.MustParseAddr("2001:db8:0:1::1")); w != 0 {
		t.Fatalf("another /64 waits %v", w)
	}
	if w := r.take(netip.MustParseAddr("192.0.2.1")); w != 0 {
		t.Fatalf("an IPv4 address waits %v", w)
	}
	clk.Advance(w)
	if w := r.take(netip.MustParseAddr("2001:db8::2")); w != 0 {
		t.Fatalf("after the wait: %v", w)
	}
	if w := r.take(netip.MustParseAddr("2001:db8::2")); w <= 0 {
		t.Fatal("one wait bought two registrations")
	}
}
