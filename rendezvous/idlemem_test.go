package rendezvous

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// Environment of TestIdleSessionMemory: the number of sessions (default
// 200; the figures in docs/architecture.md use 2000), a file for the
// server's heap profile, and, set by the test for its own subprocess, the
// client side's parameters.
const (
	idleSessionsEnv = "LANCHAT_IDLE_SESSIONS"
	idleProfileEnv  = "LANCHAT_IDLE_HEAPPROFILE"
	idleClientsEnv  = "LANCHAT_IDLE_CLIENTS" // addr,fingerprint,count
)

// TestIdleSessionMemory measures what an idle, logged-in session costs the
// server: real TLS sessions on loopback, held by clients in a subprocess
// so that only the server's share is counted, then the heap and goroutine
// stacks per session after the collector ran. It logs the figures and
// never fails on them (timings and sizes vary with the machine); it fails
// only if the sessions cannot be set up.
func TestIdleSessionMemory(t *testing.T) {
	if spec := os.Getenv(idleClientsEnv); spec != "" {
		holdIdleClients(t, spec)
		return
	}
	if testing.Short() {
		t.Skip("sets up hundreds of TLS sessions")
	}
	n := 200
	if v := os.Getenv(idleSessionsEnv); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive count", idleSessionsEnv, v)
		}
	}
	profile := os.Getenv(idleProfileEnv)
	if profile != "" {
		old := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		t.Cleanup(func() { runtime.MemProfileRate = old })
	}
	ts := startServer(t, func(c *Config) {
		c.MaxConns = n + 16
		c.MaxConnsPerAddr = n + 16
		c.RegisterRate = n + 16
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) // a verbose run's log would count
	})

	before := settledMem()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleSessionMemory$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%d", idleClientsEnv, ts.addr, ts.fp, n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the subprocess closes its sessions and exits
		cmd.Wait()
	}()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "idle-ready") || strings.HasPrefix(line, "idle-failed") {
				ready <- line
			}
		}
		close(ready)
	}()
	start := time.Now()
	select {
	case line, ok := <-ready:
		if !ok || line != "idle-ready" {
			t.Fatalf("client subprocess: %q", line)
		}
	case <-time.After(8 * time.Minute):
		t.Fatal("client subprocess did not set up its sessions in 8 minutes")
	}
	setup := time.Since(start)
	if got := ts.srv.hub.count(); got != n {
		t.Fatalf("%d sessions online, want %d", got, n)
	}
	time.Sleep(time.Second) // the last replies and presence pushes drain
	after := settledMem()

	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) / 1024 }
	heap := per(after.heap, before.heap)
	stack := per(after.stack, before.stack)
	t.Logf("%d idle sessions (set up in %v): per session heap %.1f KiB (in use %.1f KiB), goroutine stack %.1f KiB, total %.1f KiB, goroutines %.2f",
		n, setup.Round(time.Millisecond), heap, per(after.heapInuse, before.heapInuse), stack, heap+stack,
		float64(after.goroutines-before.goroutines)/float64(n))
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			t.Fatal(err)
		}
		t.Logf("heap profile in %s (go tool pprof -sample_index=inuse_space)", profile)
	}
}

type memFigures struct {
	heap, heapInuse, stack uint64
	goroutines             int
}

// settledMem reads the heap and stack in use after a few collections: a
// goroutine stack shrinks by half at most per collection, as it would
// over minutes in a long-running server.
func settledMem() memFigures {
	var ms runtime.MemStats
	for range 4 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return memFigures{heap: ms.HeapAlloc, heapInuse: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// holdIdleClients is the subprocess of TestIdleSessionMemory: it registers
// count users on their own connections, says so on stdout and holds the
// sessions, heartbeats included, until stdin closes.
func holdIdleClients(t *testing.T, spec string) {
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		t.Fatalf("%s=%q", idleClientsEnv, spec)
	}
	addr, fp := parts[0], parts[1]
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	server, err := keys.ParseServerID(fp)
	if err != nil {
		t.Fatal(err)
	}
	clients := make([]*client.Client, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				c, err := registerIdle(addr, fp, server, fmt.Sprintf("idle%05d", i))
				if err != nil {
					failed.Store(err)
					return
				}
				clients[i] = c
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		fmt.Printf("idle-failed %v\n", err)
	} else {
		fmt.Println("idle-ready")
	}
	bufio.NewReader(os.Stdin).ReadByte() // until the parent closes stdin
	for _, c := range clients {
		if c != nil {
			c.Close()
		}
	}
}

// registerIdle dials and registers one user.
func registerIdle(addr, fp string, server keys.ServerID, name string) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(ctx, addr, client.Options{Fingerprint: fp, ClientName: "idle"})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	pk, _, err := keys.NewPrekey(priv, name, time.Now(), 7*24*time.Hour)
	if err != nil {
		c.Close()
		return nil, err
	}
	proof, err := keys.SignProof(priv, name, server)
	if err != nil {
		c.Close()
		return nil, err
	}
	var sess wire.Session
	err = c.Call(ctx, wire.OpRegister, wire.RegisterRequest{
		Username:    name,
		Password:    "pw-" + name + "-secret",
		IdentityKey: priv.Public().(ed25519.PublicKey),
		Prekey:      pk,
		KeyProof:    proof,
	}, &sess)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	return c, nil
}
