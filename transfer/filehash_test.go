package transfer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/transfer/transfertest"
)

// testSum is the whole-file hash of data.
func testSum(t testing.TB, data []byte, chunkSize int) [hashSize]byte {
	t.Helper()
	sum, err := fileSum(bytes.NewReader(data), int64(len(data)), chunkSize, make([]byte, chunkSize))
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// The whole-file hash is the one docs/protocol.md defines: SHA-256 of
// the prefix, the size and the chunk hashes.
func TestWholeFileHash(t *testing.T) {
	const cs = MinChunkSize
	data := bytes.Repeat([]byte("lanchat"), 5000) // 35000 bytes: 2 whole chunks and a part
	spec := sha256.New()
	spec.Write([]byte("lanchat transfer file hash v2\x00"))
	spec.Write(binary.BigEndian.AppendUint64(nil, uint64(len(data))))
	for off := 0; off < len(data); off += cs {
		h := sha256.Sum256(data[off:min(off+cs, len(data))])
		spec.Write(h[:])
	}
	if got, want := testSum(t, data, cs), [hashSize]byte(spec.Sum(nil)); got != want {
		t.Errorf("hash %x, want %x", got, want)
	}
	empty := sha256.Sum256(append([]byte("lanchat transfer file hash v2\x00"), make([]byte, 8)...))
	if got := testSum(t, nil, cs); got != empty || newWholeHash(0).sum() != empty {
		t.Errorf("hash of an empty file %x, want %x", got, empty)
	}
	// The same chunk hashes under another size (a file that is a
	// prefix of another one, chunk-aligned) give another hash.
	if testSum(t, data[:2*cs], cs) == testSum(t, data[:2*cs+1], cs) {
		t.Error("hash ignores a byte past the last whole chunk")
	}
}

// sameFile recognises a file by its whole-file hash and rejects a file
// that differs in one byte, or another hash of the same bytes.
func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	data := randomFile(t, filepath.Join(dir, "a.bin"), 3*ChunkSize+17)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	size := int64(len(data))
	sum := testSum(t, data, ChunkSize)
	if !sameFile(root, "a.bin", size, sum, ChunkSize) {
		t.Error("the same file is not recognised")
	}
	if sameFile(root, "a.bin", size, sha256.Sum256(data), ChunkSize) {
		t.Error("matched the SHA-256 of the content")
	}
	for _, off := range []int64{0, ChunkSize + 5, size - 1} {
		alterFile(t, filepath.Join(dir, "a.bin"), off, []byte{data[off] ^ 1})
		if sameFile(root, "a.bin", size, sum, ChunkSize) {
			t.Errorf("a file differing at byte %d matched", off)
		}
		alterFile(t, filepath.Join(dir, "a.bin"), off, data[off:off+1])
	}
	if sameFile(root, "a.bin", size-1, sum, ChunkSize) || sameFile(root, "missing", size, sum, ChunkSize) {
		t.Error("matched a wrong size or a missing file")
	}
}

// A resumed transfer whose partial file was altered in its verified
// prefix, which the receiver re-reads rather than receives, fails the
// whole-file hash and starts that file over.
func TestResumeAlteredPrefix(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "a.bin"), 6<<20+3)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "a.bin"))

	ctx, cancel := context.WithCancel(context.Background())
	Send(ctx, p.ab, o, SendOptions{chunkHook: func(_ int, off int64, _ []byte) {
		if off == 3*ChunkSize {
			cancel()
			time.Sleep(50 * time.Millisecond)
		}
	}})
	wantErr(t, "interrupted receive", waitOutcome(t, out).err, ErrInterrupted)
	cp, _ := prog.Load(context.Background(), o.ID)
	if cp == nil || cp.Entries[0].Verified < ChunkSize {
		t.Fatalf("checkpoint %+v, want a chunk or more verified", cp)
	}
	alterFile(t, onePartial(t, dst), cp.Entries[0].Verified-100, []byte{want[cp.Entries[0].Verified-100] ^ 0x80})

	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "Send after the prefix was altered", err, ErrMismatch)
	wantErr(t, "receive after the prefix was altered", waitOutcome(t, out).err, ErrMismatch)
	if ps := partials(t, dst); len(ps) != 0 {
		t.Errorf("partial file kept after a mismatch: %v", ps)
	}
	if _, err := os.Stat(filepath.Join(dst, "a.bin")); err == nil {
		t.Error("a file that failed its hash was put in place")
	}
	res, err := Send(context.Background(), p.ab, o, SendOptions{})
	if err != nil || res.Bytes != int64(len(want)) {
		t.Fatalf("third Send: %+v, %v", res, err)
	}
	if got := waitOutcome(t, out); got.err != nil {
		t.Fatal(got.err)
	}
	mustEqual(t, "a.bin", readFile(t, filepath.Join(dst, "a.bin")), want)
}
