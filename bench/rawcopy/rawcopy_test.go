package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/directio"
	"github.com/lanchat/lanchat/peer/direct"
)

// lockedBuffer is a bytes.Buffer safe to read while a goroutine writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loopback runs serve with serveArgs in this process and, once it
// listens, send with sendArgs on the file src; it returns what each
// printed.
func loopback(serveArgs, sendArgs []string, src string) (serveOut, sendOut string, err error) {
	var srv lockedBuffer
	served := make(chan int, 1)
	go func() { served <- run(append([]string{"serve"}, serveArgs...), &srv, &srv) }()
	re := regexp.MustCompile(`rawcopy listening on (\S+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(srv.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		return srv.String(), "", fmt.Errorf("no listening line: %s", srv.String())
	}
	var out, errOut bytes.Buffer
	if code := run(append(append([]string{"send", "--to", addr}, sendArgs...), src), &out, &errOut); code != 0 {
		return srv.String(), out.String(), fmt.Errorf("send exited %d: %s", code, errOut.String())
	}
	if code := <-served; code != 0 {
		return srv.String(), out.String(), fmt.Errorf("serve exited %d: %s", code, srv.String())
	}
	return srv.String(), out.String(), nil
}

// source writes a file of random data that is not a whole number of
// chunks.
func source(t *testing.T) (string, []byte) {
	src := filepath.Join(t.TempDir(), "src")
	data := make([]byte, 5*chunkSize+999)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return src, data
}

// TestCopyOverLoopback copies a file with each protocol, to a synced
// file (written with direct I/O where there is one) and to nowhere, over
// one connection and (quic) striped over three.
func TestCopyOverLoopback(t *testing.T) {
	src, data := source(t)
	type copyCase struct {
		proto, conns string
		out, sink    string
		direct       bool
	}
	cases := []copyCase{
		{"quic", "1", "", "discard", false},
		{"tls", "1", "dst", "file+fsync", false},
		{"quic", "3", "dst", "file+fsync", false},
	}
	if directio.Flag != 0 {
		cases[2] = copyCase{"quic", "3", "dst", "file+direct+fsync", true}
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s-%s-%s", tc.proto, tc.conns, tc.sink), func(t *testing.T) {
			common := []string{"--proto", tc.proto, "--conns", tc.conns, "--timeout", "30s"}
			serveArgs := append([]string{"--listen", "127.0.0.1:0"}, common...)
			dst := filepath.Join(t.TempDir(), "dst")
			if tc.out != "" {
				serveArgs = append(serveArgs, "--out", dst)
			}
			if tc.direct {
				serveArgs = append(serveArgs, "--direct")
			}
			serveOut, out, err := loopback(serveArgs, common, src)
			if err != nil {
				t.Fatal(err)
			}
			wants := []string{`"role":"send"`, `"bytes":` + strconv.Itoa(len(data)), `"cipher":"TLS_`}
			if tc.proto == "quic" {
				wants = append(wants, `"max_stream_window":`+strconv.Itoa(direct.DefaultMaxStreamReceiveWindow), `"conns":`+tc.conns)
			}
			for _, want := range wants {
				if !strings.Contains(out, want) {
					t.Errorf("send's result lacks %s: %s", want, out)
				}
			}
			if !strings.Contains(serveOut, `"sink":"`+tc.sink+`"`) {
				t.Errorf("serve's result: %s", serveOut)
			}
			if tc.out != "" {
				if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
					t.Errorf("copy differs: %d bytes", len(got))
				}
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
