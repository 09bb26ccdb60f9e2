package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/direct"
)

// syncBuffer is a bytes.Buffer safe to read while a goroutine writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCopyOverLoopback(t *testing.T) {
	for _, conns := range []string{"1", "2"} {
		t.Run("conns="+conns, func(t *testing.T) { testCopy(t, conns) })
	}
}

func testCopy(t *testing.T, conns string) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	data := make([]byte, 3<<20+7)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)

	var serverOut syncBuffer
	served := make(chan int, 1)
	go func() {
		served <- run([]string{"serve", "--listen", "127.0.0.1:0", "--out", dst, "--timeout", "30s", "--conns", conns}, &serverOut, &serverOut)
	}()
	re := regexp.MustCompile(`quiccopy listening on (\S+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(serverOut.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("no listening line: %s", serverOut.String())
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"send", "--to", addr, "--timeout", "30s", "--conns", conns, src}, &out, &errOut); code != 0 {
		t.Fatalf("send exited %d: %s", code, errOut.String())
	}
	if code := <-served; code != 0 {
		t.Fatalf("serve exited %d: %s", code, serverOut.String())
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Errorf("copy differs: %d bytes", len(got))
	}
	for _, want := range []string{`"role":"send"`, `"bytes":3145735`, `"max_stream_window":` + strconv.Itoa(direct.DefaultMaxStreamReceiveWindow), `"conns":` + conns} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("send's result lacks %s: %s", want, out.String())
		}
	}
	if !strings.Contains(serverOut.String(), `"sink":"file+fsync"`) {
		t.Errorf("serve's result: %s", serverOut.String())
	}
}

func TestConfigMatchesDirect(t *testing.T) {
	c := quicConfig()
	if c.InitialStreamReceiveWindow != direct.DefaultInitialStreamReceiveWindow ||
		c.MaxStreamReceiveWindow != direct.DefaultMaxStreamReceiveWindow ||
		c.MaxConnectionReceiveWindow != direct.DefaultMaxConnectionReceiveWindow ||
		c.InitialConnectionReceiveWindow != direct.DefaultInitialStreamReceiveWindow*3/2 ||
		c.KeepAlivePeriod != direct.DefaultKeepAlivePeriod || c.MaxIdleTimeout != direct.DefaultMaxIdleTimeout {
		t.Errorf("config %+v differs from peer/direct's defaults", c)
	}
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{nil, {"bogus"}, {"send", "file"}, {"serve", "extra"}, {"serve", "--conns", "0"}, {"serve", "--conns", "17"}} {
		if code := run(args, &out, &out); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	if localFor("127.0.0.1:9") != "127.0.0.1:0" || localFor("10.213.77.2:9") != ":0" {
		t.Error("localFor")
	}
}
