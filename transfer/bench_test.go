package transfer

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/lanchat/lanchat/peer/direct"
)

// benchSize is what each benchmark iteration moves.
const benchSize = 256 << 20

// BenchmarkSend moves one 256 MiB file with Send over loopback QUIC,
// from a file to a file, hashing and verifying every chunk. Compare with
// BenchmarkRawStream:
//
//	go test -run '^$' -bench . -benchtime 3x ./transfer/
func BenchmarkSend(b *testing.B) {
	p := newPair(b)
	src := b.TempDir()
	randomFile(b, filepath.Join(src, "big.bin"), benchSize)
	dst := b.TempDir()
	r := newReceiver(b, dst, NewMemProgress(), nil)
	out := serveConn(b, r, p.ba)
	b.SetBytes(benchSize)
	for b.Loop() {
		o, err := NewOffer(filepath.Join(src, "big.bin"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Send(context.Background(), p.ab, o, SendOptions{}); err != nil {
			b.Fatal(err)
		}
		if got := waitOutcome(b, out); got.err != nil {
			b.Fatal(got.err)
		}
		b.StopTimer()
		os.Remove(filepath.Join(dst, "big.bin"))
		b.StartTimer()
	}
}

// BenchmarkRawStream copies 256 MiB from memory over one transfer
// stream of the same loopback QUIC setup to io.Discard: the ceiling for
// BenchmarkSend.
func BenchmarkRawStream(b *testing.B) {
	p := newPair(b)
	buf := make([]byte, ChunkSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		done := make(chan error, 1)
		go func() {
			_, s, err := p.ba.AcceptStream(context.Background())
			if err != nil {
				done <- err
				return
			}
			_, err = io.Copy(io.Discard, s)
			s.Close()
			done <- err
		}()
		s, err := p.ab.OpenStream(context.Background(), direct.StreamTransfer)
		if err != nil {
			b.Fatal(err)
		}
		for range benchSize / ChunkSize {
			if _, err := s.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		s.CloseWrite()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
