package transfer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// holder is a peer serving one file to pulls.
type holder struct {
	peer *testPeer
	path string
}

// pullFixture is carol connected to the holders, each serving its own
// copy of a file whose listed hash is sum.
type pullFixture struct {
	conns []Conn
	sum   [hashSize]byte
	size  int64
	data  []byte
}

func newPullFixture(t *testing.T, size int, names ...string) (*pullFixture, []*holder) {
	t.Helper()
	carol := newTestPeer(t, "carol")
	src := filepath.Join(t.TempDir(), "orig.bin")
	data := randomFile(t, src, size)
	f, _ := os.Open(src)
	buf := make([]byte, ChunkSize)
	sum, err := fileSum(f, int64(size), ChunkSize, buf)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	fx := &pullFixture{sum: sum, size: int64(size), data: data}
	// The first holder's sources after its first (the hash list) wait
	// until the second holder has opened one: both then send blocks,
	// however the goroutines are scheduled.
	second := make(chan struct{})
	var secondOnce sync.Once
	opened := 0
	var mu sync.Mutex
	var hs []*holder
	for i, name := range names {
		p := newTestPeer(t, name)
		befriend(p, carol)
		h := &holder{peer: p, path: filepath.Join(t.TempDir(), "copy.bin")}
		if err := os.WriteFile(h.path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r := newReceiver(t, t.TempDir(), transfertest.NewMemProgress(), func(cfg *ReceiverConfig) {
			cfg.Pull = func(_ context.Context, req *PullRequest) (PullSource, error) {
				if req.SHA256 != sum || req.Peer != "carol" {
					return nil, ErrRejected
				}
				mu.Lock()
				opened++
				wait := i == 0 && opened > 1 && len(names) > 1
				mu.Unlock()
				if i == 1 {
					secondOnce.Do(func() { close(second) })
				}
				if wait {
					select {
					case <-second:
					case <-time.After(10 * time.Second):
					}
				}
				return os.Open(h.path)
			}
		})
		cd, hd := dial(t, carol, p)
		serveConn(t, r, hd)
		fx.conns = append(fx.conns, cd)
		hs = append(hs, h)
	}
	return fx, hs
}

func (fx *pullFixture) config(dir string) FetchConfig {
	return FetchConfig{Sources: fx.conns, SHA256: fx.sum, Size: fx.size, Dir: dir, Name: "shared/report.bin", BlockChunks: 1}
}

func fetchCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestFetchFromTwoHolders fetches a file from two holders at once: both
// send chunks, and the file matches.
func TestFetchFromTwoHolders(t *testing.T) {
	fx, _ := newPullFixture(t, 8*ChunkSize+1234, "alice", "bob")
	dir := t.TempDir()
	res, err := Fetch(fetchCtx(t), fx.config(dir))
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "fetched file", readFile(t, filepath.Join(dir, filepath.FromSlash(res.Path))), fx.data)
	if res.BySource["alice"] == 0 || res.BySource["bob"] == 0 {
		t.Fatalf("bytes by source %v, want both holders", res.BySource)
	}
	if res.BySource["alice"]+res.BySource["bob"] != fx.size || res.Bytes != fx.size {
		t.Fatalf("bytes by source %v, total %d, want %d", res.BySource, res.Bytes, fx.size)
	}
	if p := partials(t, filepath.Join(dir, "shared")); len(p) != 0 {
		t.Fatalf("partial files left: %v", p)
	}
}

// TestFetchRefusesChangedCopy has bob's copy changed after it was
// listed: his chunks are refused (ErrCorrupt), he is reported, and the
// file comes whole from alice.
func TestFetchRefusesChangedCopy(t *testing.T) {
	fx, hs := newPullFixture(t, 6*ChunkSize, "bob", "alice")
	changed := append([]byte(nil), fx.data...)
	for i := range changed {
		changed[i] ^= 0x5a
	}
	if err := os.WriteFile(hs[0].path, changed, 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	failed := map[string]error{}
	cfg := fx.config(t.TempDir())
	cfg.SourceFailed = func(c Conn, err error) {
		mu.Lock()
		failed[c.User()] = err
		mu.Unlock()
	}
	res, err := Fetch(fetchCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "fetched file", readFile(t, filepath.Join(cfg.Dir, filepath.FromSlash(res.Path))), fx.data)
	if err := failed["bob"]; !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bob's failure %v, want a hash mismatch", err)
	}
	if res.BySource["bob"] != 0 {
		t.Fatalf("%d bytes taken from the changed copy", res.BySource["bob"])
	}
}

// TestFetchOnlyChangedCopy fails when the one holder's copy changed,
// leaving no file in place.
func TestFetchOnlyChangedCopy(t *testing.T) {
	fx, hs := newPullFixture(t, 3*ChunkSize, "alice")
	if err := os.WriteFile(hs[0].path, make([]byte, 3*ChunkSize), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fx.config(t.TempDir())
	if _, err := Fetch(fetchCtx(t), cfg); !errors.Is(err, ErrMismatch) {
		t.Fatalf("got %v, want ErrMismatch", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, "shared", "report.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a file was placed: %v", err)
	}
}

// TestFetchResumes leaves a partial file with the first chunks (and a
// corrupt one) and checks that only the rest is fetched.
func TestFetchResumes(t *testing.T) {
	fx, _ := newPullFixture(t, 5*ChunkSize+7, "alice")
	cfg := fx.config(t.TempDir())
	part := append([]byte(nil), fx.data[:4*ChunkSize]...)
	part[3*ChunkSize] ^= 1 // the fourth chunk must come again
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	name := ".report.bin." + hex.EncodeToString(fx.sum[:])[:16] + pullSuffix
	if err := os.WriteFile(filepath.Join(cfg.Dir, "shared", name), part, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Fetch(fetchCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "fetched file", readFile(t, filepath.Join(cfg.Dir, filepath.FromSlash(res.Path))), fx.data)
	if res.Resumed != 3*ChunkSize || res.Bytes != fx.size-3*ChunkSize {
		t.Fatalf("resumed %d, fetched %d; want %d and %d", res.Resumed, res.Bytes, 3*ChunkSize, fx.size-3*ChunkSize)
	}
}

// TestPullRefused checks that a holder without a Pull function, or one
// that refuses, fails the fetch with the holder's reason.
func TestPullRefused(t *testing.T) {
	fx, _ := newPullFixture(t, ChunkSize, "alice")
	cfg := fx.config(t.TempDir())
	cfg.SHA256[0] ^= 1 // a file alice does not serve
	if _, err := Fetch(fetchCtx(t), cfg); !errors.Is(err, ErrRejected) {
		t.Fatalf("got %v, want ErrRejected", err)
	}
}

// FuzzPullRequest feeds arbitrary transfer.pull bodies to the holder's
// checks: no panic, and whatever passes is a range inside the file, on
// chunks.
func FuzzPullRequest(f *testing.F) {
	f.Add([]byte(`{"version":5,"sha256":"` + strings.Repeat("ab", 32) + `","size":3000000,"hashes":true,"offset":1048576,"end":3000000}`))
	f.Add([]byte(`{"version":5,"sha256":"00","size":-1,"offset":0,"end":0}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fr, err := wire.NewEvent(opPull, json.RawMessage(body))
		if err != nil {
			return
		}
		var b pullBody
		if decodeEvent(fr, opPull, &b) != nil {
			return
		}
		if _, err := validPull(&b); err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		cs := int64(ChunkSize)
		if b.Offset < 0 || b.End > b.Size || b.Offset > b.End || b.Offset%cs != 0 || (b.End%cs != 0 && b.End != b.Size) {
			t.Fatalf("accepted %+v", b)
		}
	})
}
