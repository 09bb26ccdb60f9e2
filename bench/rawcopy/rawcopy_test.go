package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/peer/direct"
)

func TestCopyOverLoopback(t *testing.T) {
	for _, conns := range []string{"1", "2"} {
		t.Run("conns="+conns, func(t *testing.T) { testCopy(t, conns) })
	}
}

func TestTLSCopyOverLoopback(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := make([]byte, 3<<20+7)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)
	for _, dst := range []string{filepath.Join(dir, "dst"), ""} {
		args := []string{"--proto", "tls", "--listen", "127.0.0.1:0", "--timeout", "30s"}
		if dst != "" {
			args = append(args, "--out", dst)
		}
		serverOut, out, err := command.Loopback(args, []string{"--proto", "tls", "--timeout", "30s"}, src)
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

func testCopy(t *testing.T, conns string) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	data := make([]byte, 3<<20+7)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)

	serverOut, out, err := command.Loopback([]string{"--listen", "127.0.0.1:0", "--out", dst, "--timeout", "30s", "--conns", conns},
		[]string{"--timeout", "30s", "--conns", conns}, src)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Errorf("copy differs: %d bytes", len(got))
	}
	for _, want := range []string{`"role":"send"`, `"bytes":3145735`, `"max_stream_window":` + strconv.Itoa(direct.DefaultMaxStreamReceiveWindow), `"conns":` + conns} {
		if !strings.Contains(out, want) {
			t.Errorf("send's result lacks %s: %s", want, out)
		}
	}
	if !strings.Contains(serverOut, `"sink":"file+fsync"`) {
		t.Errorf("serve's result: %s", serverOut)
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
	for _, args := range [][]string{nil, {"bogus"}, {"send", "file"}, {"serve", "extra"}, {"serve", "--conns", "0"}, {"serve", "--conns", "17"},
		{"serve", "--proto", "udp"}, {"serve", "--proto", "tls", "--conns", "2"}} {
		if code := run(args, &out, &out); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	if localFor("127.0.0.1:9") != "127.0.0.1:0" || localFor("10.213.77.2:9") != ":0" {
		t.Error("localFor")
	}
}
