package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := make([]byte, 3<<20+7)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)
	for _, dst := range []string{filepath.Join(dir, "dst"), ""} {
		var serverOut syncBuffer
		served := make(chan int, 1)
		args := []string{"serve", "--listen", "127.0.0.1:0", "--timeout", "30s"}
		if dst != "" {
			args = append(args, "--out", dst)
		}
		go func() { served <- run(args, &serverOut, &serverOut) }()
		re := regexp.MustCompile(`tlscopy listening on (\S+)`)
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
		if code := run([]string{"send", "--to", addr, "--timeout", "30s", src}, &out, &errOut); code != 0 {
			t.Fatalf("send exited %d: %s", code, errOut.String())
		}
		if code := <-served; code != 0 {
			t.Fatalf("serve exited %d: %s", code, serverOut.String())
		}
		if !strings.Contains(out.String(), `"bytes":3145735`) || !strings.Contains(out.String(), `"cipher":"TLS_`) {
			t.Errorf("send's result: %s", out.String())
		}
		if dst != "" {
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
				t.Errorf("copy differs: %d bytes", len(got))
			}
		} else if !strings.Contains(serverOut.String(), `"sink":"discard"`) {
			t.Errorf("serve's result: %s", serverOut.String())
		}
	}
}
