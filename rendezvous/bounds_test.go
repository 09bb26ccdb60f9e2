package rendezvous

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// heapInUse returns the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// strangers is how many unauthenticated connections the bound is tested
// with, and strangersHeap the growth of the heap they may cause.
const (
	strangers     = 1000
	strangersHeap = 32 << 20
)

// strangersEnv, set to the server's address, makes the test binary
// play the strangers (TestStrangersHelper), in a process of its own so
// that only the server's memory is measured here.
const strangersEnv = "LANCHAT_TEST_STRANGERS"

// A stranger's frame header does not make the server reserve what it
// declares: 1,000 unauthenticated connections, each declaring a frame
// of the largest size (before or after hello, with some of its bytes or
// none), grow the server's heap by less than 32 MiB, and the server
// goes on serving a user.
func TestStrangersDeclaringLargeFrames(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.MaxConnsPerAddr = 2 * strangers
		c.HandshakeTimeout = time.Minute
		// Logs kept by the test would count as the server's memory.
		c.Logger = slog.New(slog.DiscardHandler)
	})
	before := heapInUse()

	cmd := exec.Command(os.Args[0], "-test.run=^TestStrangersHelper$", "-test.v")
	cmd.Env = append(os.Environ(), strangersEnv+"="+ts.addr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	var out bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if sc.Text() == "strangers ready" {
				ok = true
				break
			}
		}
		ready <- ok
		io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			stdin.Close()
			cmd.Wait()
			t.Fatalf("the strangers failed:\n%s%s", out.String(), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the strangers are not ready after 2 minutes")
	}

	// The server reads each header as it comes; give it a moment and
	// take the largest heap seen.
	var grown uint64
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		if h := heapInUse(); h > before {
			grown = max(grown, h-before)
		}
	}
	t.Logf("%d strangers grew the server's heap by %.1f MiB", strangers, float64(grown)/(1<<20))
	if grown >= strangersHeap {
		t.Errorf("%d strangers grew the server's heap by %d MiB, want under %d MiB", strangers, grown>>20, strangersHeap>>20)
	}

	// Someone else is still served.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := ts.register(t, "alice")
	if err := u.c.Call(ctx, wire.OpPing, wire.Empty{}, nil); err != nil {
		t.Errorf("ping beside the strangers: %v", err)
	}
}

// TestStrangersHelper is the strangers of TestStrangersDeclaringLargeFrames,
// run in a process of their own. It opens the connections, sends what
// each declares, says so, and holds them until its stdin closes.
func TestStrangersHelper(t *testing.T) {
	addr := os.Getenv(strangersEnv)
	if addr == "" {
		t.Skip("run by TestStrangersDeclaringLargeFrames")
	}
	hello, err := wire.NewRequest(1, wire.OpHello, wire.HelloRequest{Version: wire.Version})
	if err != nil {
		t.Fatal(err)
	}
	helloFrame, _ := wire.AppendFrame(nil, hello)
	helloFrame = slices.Clip(helloFrame) // each stranger appends to a copy
	login := `{"t":"req","id":2,"op":"login","body":{"username":"`
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 16)
	)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range strangers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			var out []byte
			switch i % 4 {
			case 0: // the hello's own header
				out = binary.BigEndian.AppendUint32(nil, wire.DefaultMaxFrame)
			case 1: // after hello
				out = binary.BigEndian.AppendUint32(helloFrame, wire.DefaultMaxFrame)
			case 2: // after hello, with some of the payload
				out = binary.BigEndian.AppendUint32(helloFrame, wire.DefaultMaxFrame)
				out = append(out, login+strings.Repeat("a", 1000)...)
			case 3: // the largest frame a stranger may send, most of it
				out = binary.BigEndian.AppendUint32(helloFrame, 16<<10)
				out = append(out, login+strings.Repeat("a", 12<<10)...)
			}
			// The server may refuse the frame, and close, before the
			// write is done: that is no failure here.
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			c.Write(out)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	os.Stdout.WriteString("strangers ready\n")
	io.Copy(io.Discard, os.Stdin)
}

// Until login a frame may be at most 16 KiB; after it, up to the
// configured limit; after logout, 16 KiB again.
func TestPreLoginFrameLimit(t *testing.T) {
	ts := startServer(t, nil)
	padded := func(id int, n int) []byte {
		p := fmt.Sprintf(`{"t":"req","id":%d,"op":"ping"}`, id)
		return frameBytes(p + strings.Repeat(" ", n-len(p)))
	}

	rc := ts.rawHello(t)
	rc.write(padded(2, preLoginFrame))
	if f := rc.reply(2); f.Error != nil {
		t.Fatalf("ping of %d bytes before login: %v", preLoginFrame, f.Error)
	}
	// Only the header: the server refuses, and closes, before the rest.
	rc.write(binary.BigEndian.AppendUint32(nil, preLoginFrame+1))
	rc.expectErrorFrame(wire.CodeFrameTooLarge)

	// The hello itself is held to it too.
	rc = ts.raw(t)
	rc.write(binary.BigEndian.AppendUint32(nil, preLoginFrame+1))
	rc.expectErrorFrame(wire.CodeFrameTooLarge)

	u := ts.register(t, "alice")
	rc = ts.rawHello(t)
	id := rc.send(wire.OpResume, wire.ResumeRequest{Token: u.session.Token})
	if f := rc.reply(id); f.Error != nil {
		t.Fatalf("resume: %v", f.Error)
	}
	rc.write(padded(100, 512<<10))
	if f := rc.reply(100); f.Error != nil {
		t.Fatalf("ping of 512 KiB after login: %v", f.Error)
	}
	id = rc.send(wire.OpLogout, nil)
	if f := rc.reply(id); f.Error != nil {
		t.Fatalf("logout: %v", f.Error)
	}
	rc.write(binary.BigEndian.AppendUint32(nil, preLoginFrame+1))
	rc.expectErrorFrame(wire.CodeFrameTooLarge)
}
