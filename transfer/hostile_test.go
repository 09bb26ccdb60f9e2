package transfer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/transfertest"
)

// A peer sending hostile names through the real protocol gets them
// cleaned, and nothing lands outside the destination.
func TestHostileOfferNames(t *testing.T) {
	p := newPair(t)
	src, base := t.TempDir(), t.TempDir()
	dst := filepath.Join(base, "downloads")
	paths := []string{
		"../../escape.txt",
		"/etc/cron.d/evil",
		"CON.txt",
		"a\x00b:c?.txt",
		"dots... ",
		"x/./y/../z",
		"invoice\u202efdp.exe",
		strings.Repeat("n", 300) + ".txt",
		"trap.lanchat-partial",
		"escape.txt", // the same name again, after cleaning
	}
	want := []string{
		"escape.txt",
		"etc/cron.d/evil",
		"_CON.txt",
		"a_b_c_.txt",
		"dots",
		"x/y/z",
		"invoice_fdp.exe",
		strings.Repeat("n", 251) + ".txt",
		"trap.lanchat-partial_",
		"escape (1).txt",
	}
	o := &Offer{ID: NewID(), ChunkSize: ChunkSize}
	contents := map[string][]byte{}
	for i, name := range paths {
		local := filepath.Join(src, "f"+string(rune('a'+i)))
		b := randomFile(t, local, 100+i)
		contents[want[i]] = b
		o.push(local, Entry{Path: name, Size: int64(len(b)), Mode: 0o4777})
	}

	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	out := serveConn(t, r, p.ba)
	if _, err := Send(context.Background(), p.ab, o, SendOptions{}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := waitOutcome(t, out)
	if got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	if !slices.Equal(got.res.Paths, want) {
		t.Errorf("paths\n%q\nwant\n%q", got.res.Paths, want)
	}
	for name, b := range contents {
		mustEqual(t, name, readFile(t, filepath.Join(dst, filepath.FromSlash(name))), b)
		info, _ := os.Stat(filepath.Join(dst, filepath.FromSlash(name)))
		// The owner's execute bit, and no set-id: see TestReceivedFileMode.
		if want := os.FileMode(0o766) &^ os.FileMode(r.umask); info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, info.Mode(), want)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 1 {
		t.Errorf("something was written beside the destination: %v", entries)
	}
}

// Offers that break the rules are refused with "invalid" before any
// decision is asked for.
func TestInvalidOffer(t *testing.T) {
	p := newPair(t)
	dst := t.TempDir()
	asked := false
	r := newReceiver(t, dst, transfertest.NewMemProgress(), func(c *ReceiverConfig) {
		c.Decide = func(context.Context, *Request) Decision { asked = true; return Decision{Accept: true, Dir: dst} }
	})
	out := serveConn(t, r, p.ba)
	id := NewID()
	for _, body := range []string{
		`{"id":"` + id + `","chunk_size":1048576,"entries":[{"path":"..","size":1,"mode":0,"mtime":0}]}`,
		`{"id":"` + id + `","chunk_size":1048576,"entries":[{"path":"a","size":-1,"mode":0,"mtime":0}]}`,
		`{"id":"` + id + `","chunk_size":1000,"entries":[{"path":"a","size":1,"mode":0,"mtime":0}]}`,
		`{"id":"NOT-HEX","chunk_size":1048576,"entries":[{"path":"a","size":1,"mode":0,"mtime":0}]}`,
		`{"id":"` + id + `","chunk_size":1048576,"entries":[]}`,
		`{"id":"` + id + `","chunk_size":1048576,"entries":[{"path":"a","size":4398046511104,"mode":0,"mtime":0},{"path":"b","size":1,"mode":0,"mtime":0}]}`,
		`{"id":"` + id + `","chunk_size":1048576,"entries":[{"path":"a","size":1}],"extra":true}`,
	} {
		body = fmt.Sprintf(`{"version":%d,`, Version) + body[1:]
		code, _ := rawOffer(t, p.ab, json.RawMessage(body))
		if code != "invalid" {
			t.Errorf("offer %s: answered %q, want invalid", body, code)
		}
		wantErr(t, "invalid offer", waitOutcome(t, out).err, ErrInvalidOffer)
	}
	if asked {
		t.Error("Decide was asked about an invalid offer")
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("destination holds %v", entries)
	}
}

// rawOffer sends an offer body on a new control stream and returns the
// code and message of the abort it gets back ("" for an answer).
func rawOffer(t *testing.T, c testConn, body any) (code, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(5 * time.Second))
	if err := writeEvent(s, opOffer, body); err != nil {
		t.Fatal(err)
	}
	f, err := readFrame(wire.NewReader(s, maxControlFrame))
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	if f.Kind != wire.KindEvent || f.Op != opAbort {
		return "", ""
	}
	var a abortBody
	if err := wire.DecodeBody(f.Body, &a); err != nil {
		t.Fatal(err)
	}
	return a.Code, a.Message
}

// A symbolic link planted where a received folder goes, between two
// attempts, makes the receiver refuse rather than write through it.
func TestPlantedSymlink(t *testing.T) {
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	randomFile(t, filepath.Join(src, "tree", "sub", "big"), 4<<20)
	prog := transfertest.NewMemProgress()
	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	o, _ := NewOffer(filepath.Join(src, "tree"))
	ctx, cancel := context.WithCancel(context.Background())
	Send(ctx, p.ab, o, SendOptions{chunkHook: func(_ int, off int64, _ []byte) {
		if off == 2*ChunkSize {
			cancel()
			time.Sleep(50 * time.Millisecond)
		}
	}})
	waitOutcome(t, out)

	// Swap the folder for a link to another folder inside the
	// destination.
	elsewhere := filepath.Join(dst, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dst, "tree", "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dst, "tree", "sub")); err != nil {
		t.Fatal(err)
	}
	_, err := Send(context.Background(), p.ab, o, SendOptions{})
	wantErr(t, "Send through a link", err, ErrUnsafePath)
	wantErr(t, "receive through a link", waitOutcome(t, out).err, ErrUnsafePath)
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
}

// A data stream naming another connection's transfer is refused.
func TestDataStreamOfAnotherConnection(t *testing.T) {
	p := newPair(t)
	dst := t.TempDir()
	r := newReceiver(t, dst, transfertest.NewMemProgress(), nil)
	serveConn(t, r, p.ba)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := p.ab.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeEvent(s, opData, dataBody{ID: NewID()})
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err == nil || isTimeoutErr(err) {
		t.Fatalf("data stream for no transfer: read %v, want a reset", err)
	}
}

func isTimeoutErr(err error) bool {
	te, ok := err.(interface{ Timeout() bool })
	return ok && te.Timeout()
}

// A sender that confirms every chunk the receiver holds, a damaged one
// included, makes it keep that chunk and nothing worse: the whole-file
// hash fails, and the file starts over.
func TestHostileHeldClaim(t *testing.T) {
	const size = 4<<20 + 100
	const held = 3 * ChunkSize
	p := newPair(t)
	src, dst := t.TempDir(), t.TempDir()
	want := randomFile(t, filepath.Join(src, "a.bin"), size)
	prog := transfertest.NewMemProgress()
	o, _ := NewOffer(filepath.Join(src, "a.bin"))
	killedAt(t, p, o, dst, prog, want, 0, held)
	alterFile(t, onePartial(t, dst), ChunkSize+7, []byte{want[ChunkSize+7] ^ 1})

	r := newReceiver(t, dst, prog, nil)
	out := serveConn(t, r, p.ba)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctl, err := p.ab.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	ctl.SetDeadline(time.Now().Add(10 * time.Second))
	if err := writeEvent(ctl, opOffer, offerBody{Offer: o, Version: Version}); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(ctl)
	f, err := readFrame(wire.NewReader(br, maxControlFrame))
	if err != nil {
		t.Fatal(err)
	}
	var ans answerBody
	if err := decodeEvent(f, opAnswer, &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.Resume) != 1 || ans.Resume[0].Offset != 0 || int64(len(ans.Resume[0].Held)) != held/ChunkSize {
		t.Fatalf("answer %+v, want %d held chunks", ans, held/ChunkSize)
	}

	// Claim them all, and send the rest as it should be.
	ds, err := p.ab.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writeEvent(ds, opData, dataBody{ID: o.ID})
	writeEvent(ds, opSegment, segmentBody{Entry: 0, Offset: held, End: size, From: held})
	for pos := held; pos < size; pos += ChunkSize {
		chunk := want[pos:min(pos+ChunkSize, size)]
		sum := sha256.Sum256(chunk)
		ds.Write(chunk)
		ds.Write(sum[:])
	}
	ds.Close()
	whole := testSum(t, want, ChunkSize)
	writeEvent(ctl, opFile, fileBody{Entry: 0, SHA256: hex.EncodeToString(whole[:])})
	writeEvent(ctl, opDone, nil)

	wantErr(t, "receive after a false claim", waitOutcome(t, out).err, ErrMismatch)
	if ps := partials(t, dst); len(ps) != 0 {
		t.Errorf("partial file kept after a mismatch: %v", ps)
	}
	if _, err := os.Stat(filepath.Join(dst, "a.bin")); err == nil {
		t.Error("a file that failed its hash was put in place")
	}
	if cp, _ := prog.Load(context.Background(), o.ID); cp == nil || cp.Entries[0].Verified != 0 {
		t.Errorf("checkpoint %+v, want the file to start over", cp)
	}
}
