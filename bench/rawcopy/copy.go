package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/lanchat/lanchat/internal/directio"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/transfer"
)

// chunkSize is the size of every read and write: lanchat's chunk size,
// so both move data in the same pieces.
const chunkSize = transfer.ChunkSize

// part is the byte range [off, off+length) that stripe k of n carries of
// a file of the given size: n contiguous ranges on chunk boundaries, the
// last one shorter.
func part(size int64, k, n int) (off, length int64) {
	per := ((size+int64(n)-1)/int64(n) + chunkSize - 1) / chunkSize * chunkSize
	off = min(int64(k)*per, size)
	return off, min(per, size-off)
}

// sendAll sends part k of the file at path on streams[k], all at once,
// each a header and its bytes, and checks every receiver's count.
func sendAll(path string, streams []io.ReadWriter) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return each(streams, func(k int, s io.ReadWriter) (int64, error) {
		off, length := part(st.Size(), k, len(streams))
		var hdr [24]byte
		for i, v := range []int64{st.Size(), off, length} {
			binary.BigEndian.PutUint64(hdr[8*i:], uint64(v))
		}
		if _, err := s.Write(hdr[:]); err != nil {
			return 0, fmt.Errorf("write header: %w", err)
		}
		if _, err := io.CopyBuffer(s, io.NewSectionReader(f, off, length), make([]byte, chunkSize)); err != nil {
			return 0, fmt.Errorf("send [%d, +%d): %w", off, length, err)
		}
		var b [8]byte
		if _, err := io.ReadFull(s, b[:]); err != nil {
			return 0, fmt.Errorf("read the receiver's count: %w", err)
		}
		if got := int64(binary.BigEndian.Uint64(b[:])); got != length {
			return 0, fmt.Errorf("the receiver wrote %d bytes, not %d", got, length)
		}
		return length, nil
	})
}

// receiveAll reads a header and the part it announces from each stream
// at once into sink, at the offsets the headers give, syncs the sink,
// and then answers each stream with its count.
func receiveAll(streams []io.ReadWriter, sink *sink) (int64, error) {
	counts := make([]int64, len(streams))
	_, err := each(streams, func(k int, s io.ReadWriter) (int64, error) {
		var err error
		counts[k], err = receive(s, sink)
		return counts[k], err
	})
	if err = errors.Join(err, sink.Close()); err != nil {
		return 0, err
	}
	return each(streams, func(k int, s io.ReadWriter) (int64, error) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(counts[k]))
		_, err := s.Write(b[:])
		return counts[k], err
	})
}

// each runs fn on every stream at once and adds up what they return.
func each(streams []io.ReadWriter, fn func(k int, s io.ReadWriter) (int64, error)) (int64, error) {
	counts, errs := make([]int64, len(streams)), make([]error, len(streams))
	var wg sync.WaitGroup
	for k, s := range streams {
		wg.Go(func() { counts[k], errs[k] = fn(k, s) })
	}
	wg.Wait()
	var n int64
	for _, c := range counts {
		n += c
	}
	return n, errors.Join(errs...)
}

// receive reads a header and the data it announces from r into sink, at
// the offset the header gives, and returns how many bytes it wrote.
func receive(r io.Reader, sink *sink) (int64, error) {
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	size, off, length := int64(binary.BigEndian.Uint64(hdr[0:])), int64(binary.BigEndian.Uint64(hdr[8:])), int64(binary.BigEndian.Uint64(hdr[16:]))
	if size < 0 || off < 0 || length < 0 || off > size || length > size-off {
		return 0, errors.New("read header: range out of bounds")
	}
	buf := directio.Bytes(chunkSize) // aligned, for a direct-I/O sink
	var got int64
	for got < length {
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), length-got)])
		if n > 0 {
			if _, werr := sink.WriteAt(buf[:n], off+got); werr != nil {
				return got, werr
			}
			got += int64(n)
		}
		if err != nil {
			return got, fmt.Errorf("read at %d of [%d, %d): %w", off+got, off, off+length, err)
		}
	}
	return got, nil
}

// sink is where a receiver puts the data: a new file, synced to disk on
// Close (as lanchat's receiver syncs a file before it counts as
// received), or nothing at all. With direct, aligned writes go past the
// page cache (O_DIRECT), as lanchat writes a big file's whole chunks.
type sink struct {
	f, d *os.File // the file (nil: discard) and the same opened for direct I/O
	once sync.Once
	err  error
}

// openSink creates the file path for writing; it must not exist yet. An
// empty path discards the data.
func openSink(path string, direct bool) (*sink, error) {
	if path == "" {
		return &sink{}, nil
	}
	if direct && directio.Flag == 0 {
		return nil, errors.New("direct I/O is not available on this system")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	s := &sink{f: f}
	if direct {
		if s.d, err = os.OpenFile(path, os.O_WRONLY|directio.Flag, 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("open %s for direct I/O: %w", path, err)
		}
	}
	return s, nil
}

// WriteAt writes p to the file at off, or drops it; it is safe to call
// from several goroutines at once.
func (s *sink) WriteAt(p []byte, off int64) (int, error) {
	switch {
	case s.f == nil:
		return len(p), nil
	case s.d != nil && directio.Writable(p, off):
		return s.d.WriteAt(p, off)
	}
	return s.f.WriteAt(p, off)
}

// Close syncs and closes the file, once.
func (s *sink) Close() error {
	s.once.Do(func() {
		if s.f == nil {
			return
		}
		if s.d != nil {
			s.d.Close()
		}
		s.err = errors.Join(s.f.Sync(), s.f.Close())
	})
	return s.err
}

// describe says where the data goes, for the result line.
func (s *sink) describe() string {
	switch {
	case s.f == nil:
		return "discard"
	case s.d != nil:
		return "file+direct+fsync"
	}
	return "file+fsync"
}

// tlsConfig is a TLS 1.3 configuration with a fresh self-signed Ed25519
// certificate, the kind lanchat peers present. A server asks the client
// for one too (mutual TLS, as between lanchat peers). Keys are not
// pinned: a baseline needs the cost of the handshake, not its checks. The
// ALPN names keep these connections apart from lanchat's.
func tlsConfig(alpn string, server bool) *tls.Config {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	c := &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{alpn}, Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	if server {
		c.ClientAuth = tls.RequireAnyClientCert
	} else {
		c.InsecureSkipVerify = true // throw-away keys on both ends
	}
	return c
}

// quicConfig is peer/direct's configuration with its defaults (see
// direct.Options): the same timeouts and flow-control windows, the
// connection window starting at one and a half stream windows. Only the
// stream limits differ: one stream per connection is all a copy needs.
func quicConfig() *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout:           direct.DefaultHandshakeIdleTimeout,
		MaxIdleTimeout:                 direct.DefaultMaxIdleTimeout,
		KeepAlivePeriod:                direct.DefaultKeepAlivePeriod,
		InitialStreamReceiveWindow:     direct.DefaultInitialStreamReceiveWindow,
		MaxStreamReceiveWindow:         direct.DefaultMaxStreamReceiveWindow,
		InitialConnectionReceiveWindow: min(uint64(direct.DefaultInitialStreamReceiveWindow)*3/2, direct.DefaultMaxConnectionReceiveWindow),
		MaxConnectionReceiveWindow:     direct.DefaultMaxConnectionReceiveWindow,
		MaxIncomingStreams:             1,
		MaxIncomingUniStreams:          -1,
	}
}

// connect takes (serve) or opens (send) the streams of one copy:
// o.conns QUIC connections of one stream each, all from one UDP socket
// per side, or one TLS connection. A QUIC socket is handed to a
// quic.Transport as peer/direct does: quic-go then enlarges the socket
// buffers itself and uses GSO and batched reads where the kernel has
// them; a sender binds loopback for a loopback server, any address
// otherwise (a network namespace's link). r holds the result line's
// transport facts; done lets the last bytes reach the peer and closes.
// Everything closes when ctx ends.
func connect(ctx context.Context, o options, overTLS, serve bool, stdout io.Writer) (streams []io.ReadWriter, r *result, done func(), err error) {
	if overTLS {
		var raw net.Conn
		if serve {
			ln, err := net.Listen("tcp", o.listen)
			if err != nil {
				return nil, nil, nil, err
			}
			defer ln.Close()
			defer context.AfterFunc(ctx, func() { ln.Close() })()
			fmt.Fprintf(stdout, "rawcopy listening on %s\n", ln.Addr())
			raw, err = ln.Accept()
		} else {
			raw, err = (&net.Dialer{}).DialContext(ctx, "tcp", o.to)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		c := tls.Client(raw, tlsConfig("rawcopy-tls", false))
		if serve {
			c = tls.Server(raw, tlsConfig("rawcopy-tls", true))
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		done = func() { stop(); c.Close() }
		if err := c.HandshakeContext(ctx); err != nil {
			done()
			return nil, nil, nil, err
		}
		return []io.ReadWriter{c}, &result{Cipher: tls.CipherSuiteName(c.ConnectionState().CipherSuite)}, done, nil
	}
	local := o.listen
	if host, _, err := net.SplitHostPort(o.to); !serve && (err != nil || net.ParseIP(host).IsLoopback()) {
		local = "127.0.0.1:0"
	} else if !serve {
		local = ":0"
	}
	ua, err := net.ResolveUDPAddr("udp", local)
	if err != nil {
		return nil, nil, nil, err
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, nil, nil, err
	}
	tr := &quic.Transport{Conn: udp}
	closeAll := func() { tr.Close(); udp.Close() }
	stop := context.AfterFunc(ctx, closeAll)
	conns := make([]*quic.Conn, o.conns)
	done = func() {
		for _, c := range conns {
			select { // the peer closes once it has what it waits for
			case <-c.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}
		stop()
		closeAll()
	}
	var ln *quic.Listener
	var ra *net.UDPAddr
	if serve {
		ln, err = tr.Listen(tlsConfig("rawcopy-quic", true), quicConfig())
		fmt.Fprintf(stdout, "rawcopy listening on %s\n", udp.LocalAddr())
	} else {
		ra, err = net.ResolveUDPAddr("udp", o.to)
		done = func() { stop(); closeAll() }
	}
	streams = make([]io.ReadWriter, o.conns)
	for k := range conns {
		if err != nil {
			break
		}
		if serve {
			if conns[k], err = ln.Accept(ctx); err == nil {
				streams[k], err = conns[k].AcceptStream(ctx)
			}
		} else if conns[k], err = tr.Dial(ctx, ra, tlsConfig("rawcopy-quic", false), quicConfig()); err == nil {
			streams[k], err = conns[k].OpenStreamSync(ctx)
		}
	}
	if err != nil {
		stop()
		closeAll()
		return nil, nil, nil, err
	}
	conf := quicConfig()
	d := map[string]any{
		"initial_stream_window": conf.InitialStreamReceiveWindow, "max_stream_window": conf.MaxStreamReceiveWindow,
		"initial_conn_window": conf.InitialConnectionReceiveWindow, "max_conn_window": conf.MaxConnectionReceiveWindow,
		"conns": len(conns), "gso": conns[0].ConnectionState().GSO,
	}
	if rcv, snd, err := direct.UDPSocketBuffers(udp); err == nil {
		d["socket_rcvbuf"], d["socket_sndbuf"] = rcv, snd
	}
	return streams, &result{Cipher: tls.CipherSuiteName(conns[0].ConnectionState().TLS.CipherSuite), Details: d}, done, nil
}
