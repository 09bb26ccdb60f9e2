package transfer

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// benchSize is what each benchmark iteration moves.
const benchSize = 256 << 20

// BenchmarkSend moves one 256 MiB file with Send over loopback QUIC,
// from a file to a file, hashing and verifying every chunk, on one data
// stream; BenchmarkSendStriped stripes it over the default streams (or
// $BENCH_STREAMS) of the same connection. Compare with
// BenchmarkRawStream:
//
//	go test -run '^$' -bench . -benchtime 3x ./transfer/
func BenchmarkSend(b *testing.B) { benchSend(b, 1) }

func BenchmarkSendStriped(b *testing.B) { benchSend(b, benchStreams()) }

func benchSend(b *testing.B, streams int) {
	p := newPair(b)
	src := b.TempDir()
	randomFile(b, filepath.Join(src, "big.bin"), benchSize)
	dst := b.TempDir()
	r := newReceiver(b, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(b, r, p.ba)
	b.SetBytes(benchSize)
	for b.Loop() {
		o, err := NewOffer(filepath.Join(src, "big.bin"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Send(context.Background(), p.ab, o, SendOptions{Streams: streams}); err != nil {
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
		s, err := p.ab.Conn.OpenStream(context.Background(), direct.StreamTransfer)
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

// smallFiles and smallSize shape BenchmarkSmallFiles: a folder of many
// small files, where per-file costs (syncs, saves, frames) dominate.
const (
	smallFiles = 10_000
	smallSize  = 4 << 10
)

// BenchmarkSmallFiles moves a folder of 10,000 files of 4 KiB with Send
// over loopback QUIC, both ends in this process; files/s is the figure
// to watch:
//
//	go test -run '^$' -bench SmallFiles -benchtime 3x ./transfer/
func BenchmarkSmallFiles(b *testing.B) {
	p := newPair(b)
	tree := filepath.Join(b.TempDir(), "many")
	buf := make([]byte, smallSize)
	for i := range smallFiles {
		dir := filepath.Join(tree, strconv.Itoa(i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		buf[0], buf[1] = byte(i), byte(i>>8)
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	dst := b.TempDir()
	r := newReceiver(b, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(b, r, p.ba)
	b.SetBytes(smallFiles * smallSize)
	for b.Loop() {
		o, err := NewOffer(tree)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Send(context.Background(), p.ab, o, SendOptions{Streams: benchStreams()}); err != nil {
			b.Fatal(err)
		}
		if got := waitOutcome(b, out); got.err != nil {
			b.Fatal(got.err)
		}
		b.StopTimer()
		os.RemoveAll(filepath.Join(dst, "many"))
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*smallFiles)/b.Elapsed().Seconds(), "files/s")
}

// benchStreams is SendOptions.Streams for the benchmarks: $BENCH_STREAMS,
// or 0 (the default).
func benchStreams() int {
	n, _ := strconv.Atoi(os.Getenv("BENCH_STREAMS"))
	return n
}
