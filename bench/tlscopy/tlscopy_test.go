package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopyOverLoopback(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := make([]byte, 3<<20+7)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)
	for _, dst := range []string{filepath.Join(dir, "dst"), ""} {
		args := []string{"--listen", "127.0.0.1:0", "--timeout", "30s"}
		if dst != "" {
			args = append(args, "--out", dst)
		}
		serverOut, out, err := command.Loopback(args, []string{"--timeout", "30s"}, src)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, `"bytes":3145735`) || !strings.Contains(out, `"cipher":"TLS_`) {
			t.Errorf("send's result: %s", out)
		}
		if dst != "" {
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
				t.Errorf("copy differs: %d bytes", len(got))
			}
		} else if !strings.Contains(serverOut, `"sink":"discard"`) {
			t.Errorf("serve's result: %s", serverOut)
		}
	}
}
