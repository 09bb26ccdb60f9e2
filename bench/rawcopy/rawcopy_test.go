package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/internal/directio"
	"github.com/lanchat/lanchat/peer/direct"
)

// TestCopyOverLoopback copies a file that is not a whole number of
// chunks with each protocol, to a synced file (written with direct I/O
// where there is one) and to nowhere, over one connection and (quic)
// striped over three, serve and send in this process.
func TestCopyOverLoopback(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	data := make([]byte, 5*chunkSize+999)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)
	directFlag := map[bool]string{true: "--direct"}[directio.Flag != 0]
	for _, tc := range []struct{ proto, conns, out, sink string }{
		{"quic", "1", "", `"sink":"discard"`},
		{"tls", "1", "dst", `"sink":"file+fsync"`},
		{"quic", "3", "dst", `"sink":"file+` + map[bool]string{true: "direct+"}[directFlag != ""] + `fsync"`},
	} {
		t.Run(tc.proto+"-"+tc.conns+"-"+tc.out, func(t *testing.T) {
			common := []string{"--proto", tc.proto, "--conns", tc.conns, "--timeout", "30s"}
			dst := filepath.Join(t.TempDir(), "dst")
			serveArgs := append([]string{"serve", "--listen", "127.0.0.1:0"}, common...)
			if tc.out != "" {
				serveArgs = append(serveArgs, "--out", dst)
				if tc.conns == "3" && directFlag != "" {
					serveArgs = append(serveArgs, directFlag)
				}
			}
			pr, pw := io.Pipe()
			served := make(chan int, 1)
			go func() { served <- run(serveArgs, pw, pw); pw.Close() }()
			sc := bufio.NewScanner(pr)
			if !sc.Scan() || !strings.HasPrefix(sc.Text(), "rawcopy listening on ") {
				t.Fatalf("serve printed %q", sc.Text())
			}
			rest := make(chan []byte, 1)
			go func() { b, _ := io.ReadAll(pr); rest <- b }()
			var out bytes.Buffer
			if code := run(append(append([]string{"send", "--to", strings.TrimPrefix(sc.Text(), "rawcopy listening on ")}, common...), src), &out, &out); code != 0 || <-served != 0 {
				t.Fatalf("send exited %d: %s", code, out.String())
			}
			serveOut := <-rest
			wants := []string{`"role":"send"`, `"bytes":` + strconv.Itoa(len(data)), `"cipher":"TLS_`}
			if tc.proto == "quic" {
				wants = append(wants, `"max_stream_window":`+strconv.Itoa(direct.DefaultMaxStreamReceiveWindow), `"conns":`+tc.conns)
			}
			for _, want := range wants {
				if !strings.Contains(out.String(), want) {
					t.Errorf("send's result lacks %s: %s", want, out.String())
				}
			}
			if got, _ := os.ReadFile(dst); !strings.Contains(string(serveOut), tc.sink) || (tc.out != "" && !bytes.Equal(got, data)) {
				t.Errorf("serve's result %s; the copy has %d bytes", serveOut, len(got))
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	discard, _ := openSink("", false)
	// A stream shorter than its header says.
	short := append([]byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10}, "12345"...)
	if n, err := receive(bytes.NewReader(short), discard); err == nil || n != 5 {
		t.Errorf("short stream: %d, %v", n, err)
	}
	// A part past the end of the file it claims to belong to.
	hdr := []byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3}
	if _, err := receive(bytes.NewReader(hdr), discard); err == nil || !strings.Contains(err.Error(), "out of bounds") {
		t.Errorf("bad range: %v", err)
	}
	var out bytes.Buffer
	for _, args := range [][]string{nil, {"bogus"}, {"send", "file"}, {"serve", "extra"}, {"serve", "--conns", "17"},
		{"serve", "--proto", "udp"}, {"serve", "--proto", "tls", "--conns", "2"}, {"serve", "--direct"}} {
		if code := run(args, &out, &out); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}
