package rawcopy

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/directio"
)

func TestCopyToFileAndDiscard(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := make([]byte, 2*ChunkSize+12345)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	type sinkCase struct {
		out    string
		direct bool
		sink   string
	}
	cases := []sinkCase{{filepath.Join(dir, "dst"), false, "file+fsync"}, {"", false, "discard"}}
	if directio.Flag != 0 {
		cases = append(cases, sinkCase{filepath.Join(dir, "dst-direct"), true, "file+direct+fsync"})
	}
	for _, tc := range cases {
		out := tc.out
		a, b := net.Pipe()
		sent := make(chan error, 1)
		go func() {
			n, err := Send(a, src)
			if err == nil && n != int64(len(data)) {
				err = bytes.ErrTooLarge
			}
			if err == nil {
				err = ReadCount(a, n)
			}
			a.Close()
			sent <- err
		}()
		sink, err := OpenSink(out, tc.direct)
		if err != nil {
			t.Fatal(err)
		}
		n, err := Receive(b, sink)
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Receive = %d, %v", n, err)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		if err := WriteCount(b, n); err != nil {
			t.Fatal(err)
		}
		if err := <-sent; err != nil {
			t.Fatalf("Send: %v", err)
		}
		b.Close()
		if out != "" {
			if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
				t.Errorf("%s: file copy differs (%d bytes)", tc.sink, len(got))
			}
		}
		if sink.Describe() != tc.sink {
			t.Errorf("sink says %q, want %q", sink.Describe(), tc.sink)
		}
	}
	if _, err := OpenSink(filepath.Join(dir, "dst"), false); err == nil {
		t.Error("OpenSink overwrote an existing file")
	}
}

func TestReceiveShort(t *testing.T) {
	var in bytes.Buffer
	in.Write([]byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10})
	in.WriteString("12345")
	sink, _ := OpenSink("", false)
	if n, err := Receive(&in, sink); err == nil || n != 5 {
		t.Errorf("short stream: %d, %v", n, err)
	}
	if err := ReadCount(bytes.NewReader([]byte{0, 0, 0, 0, 0, 0, 0, 9}), 10); err == nil {
		t.Error("wrong count: no error")
	}
}

func TestReceiveBadRange(t *testing.T) {
	// A part past the end of the file it claims to belong to.
	hdr := []byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 3}
	sink, _ := OpenSink("", false)
	if _, err := Receive(bytes.NewReader(hdr), sink); err == nil || !strings.Contains(err.Error(), "out of bounds") {
		t.Errorf("bad range: %v", err)
	}
}

func TestStripedParts(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	data := make([]byte, 5*ChunkSize+999)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)
	sink, err := OpenSink(dst, false)
	if err != nil {
		t.Fatal(err)
	}
	const parts = 3
	var total int64
	for k := parts - 1; k >= 0; k-- { // out of order, as concurrent streams may be
		off, length := Part(int64(len(data)), k, parts)
		if off%ChunkSize != 0 || length == 0 {
			t.Errorf("part %d is [%d, +%d): empty or not on a chunk boundary", k, off, length)
		}
		var stream bytes.Buffer
		n, err := SendPart(&stream, src, k, parts)
		if err != nil || n != length {
			t.Fatalf("SendPart %d = %d, %v (want %d)", k, n, err, length)
		}
		got, err := Receive(&stream, sink)
		if err != nil || got != length {
			t.Fatalf("Receive part %d = %d, %v", k, got, err)
		}
		total += got
	}
	sink.Close()
	if back, _ := os.ReadFile(dst); total != int64(len(data)) || !bytes.Equal(back, data) {
		t.Errorf("striped copy differs: %d bytes of %d", total, len(data))
	}
}

func TestTLS(t *testing.T) {
	sconf, err := ServerTLS("x")
	if err != nil {
		t.Fatal(err)
	}
	cconf, err := ClientTLS("x")
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	done := make(chan error, 1)
	srv := tls.Server(b, sconf)
	go func() { done <- srv.Handshake() }()
	cli := tls.Client(a, cconf)
	cli.SetDeadline(time.Now().Add(10 * time.Second))
	if err := cli.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cs := cli.ConnectionState()
	if cs.Version != tls.VersionTLS13 || cs.NegotiatedProtocol != "x" || len(srv.ConnectionState().PeerCertificates) != 1 {
		t.Errorf("connection state: version %#x, ALPN %q", cs.Version, cs.NegotiatedProtocol)
	}
	if !strings.HasPrefix(CipherSuite(cs), "TLS_") {
		t.Errorf("cipher %q", CipherSuite(cs))
	}
}

func TestResultPrint(t *testing.T) {
	var buf bytes.Buffer
	r := Result{Role: "send", Bytes: 7, Details: map[string]any{"gso": true}}
	if err := r.Print(&buf, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Seconds != 1.5 || back.Bytes != 7 || !strings.HasSuffix(buf.String(), "}\n") {
		t.Errorf("printed %q, read back %+v, %v", buf.String(), back, err)
	}
}
