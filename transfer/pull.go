package transfer

// A pull: the downloader asks a holder for a range of a file it names
// by its whole-file hash (a shared library's item, docs/protocol.md,
// "Multi-source download"). The downloader opens a stream and sends
// transfer.pull; the holder answers on the same stream with the file's
// chunk hashes if asked (transfer.hashes, then the raw hashes), then the
// range as a transfer.segment followed by its chunks, each with its
// SHA-256, as on a data stream; or with transfer.abort. The holder
// chooses nothing: which file, and whether this peer may have it, is
// the Pull function's decision.

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

const (
	opPull   = "transfer.pull"   // downloader → holder, first frame of a pull stream
	opHashes = "transfer.hashes" // holder → downloader: Count raw chunk hashes follow
)

// MaxPulls bounds the pull streams a Receiver serves at once, from all
// peers: each holds one chunk buffer and reads a file.
const MaxPulls = 16

// pullTimeout bounds a pull stream's writes: a downloader that stops
// reading loses the stream, not the holder's slot.
const pullTimeout = 30 * time.Second

// pullBody is the transfer.pull frame. SHA256 and Size name the file;
// the holder sends the chunk hashes of the whole file if Hashes is set,
// then the bytes [Offset, End), chunk-aligned but for End at Size.
type pullBody struct {
	Version int    `json:"version"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Hashes  bool   `json:"hashes,omitempty"`
	Offset  int64  `json:"offset"`
	End     int64  `json:"end"`
}

// hashesBody announces the chunk hashes that follow it raw, 32 bytes
// each, in order.
type hashesBody struct {
	Count int64 `json:"count"`
}

// PullRequest is a peer's request for a file, which Pull answers.
type PullRequest struct {
	Peer    string
	PeerKey ed25519.PublicKey
	// SHA256 is the whole-file hash (filehash.go) and Size the size of
	// the file asked for.
	SHA256 [hashSize]byte
	Size   int64
}

// PullSource is the file a holder serves a pull from. The holder reads
// it as it sends: a file that changed since it was hashed sends chunks
// that no longer match, which the downloader refuses.
type PullSource interface {
	io.ReaderAt
	io.Closer
}

// validPull checks a pull's range against its size and chunk size.
func validPull(b *pullBody) (sum [hashSize]byte, err error) {
	raw, herr := hex.DecodeString(b.SHA256)
	cs := int64(ChunkSize)
	switch {
	case herr != nil || len(raw) != hashSize:
		return sum, fmt.Errorf("%w: pull: sha256 must be 64 hex digits", ErrProtocol)
	case b.Size < 0 || b.Size > MaxTotalSize:
		return sum, fmt.Errorf("%w: pull: size %d out of range", ErrProtocol, b.Size)
	case b.Offset < 0 || b.Offset > b.End || b.End > b.Size:
		return sum, fmt.Errorf("%w: pull: range [%d, %d) outside the file", ErrProtocol, b.Offset, b.End)
	case b.Offset%cs != 0 || (b.End%cs != 0 && b.End != b.Size):
		return sum, fmt.Errorf("%w: pull: range [%d, %d) not on chunks", ErrProtocol, b.Offset, b.End)
	}
	copy(sum[:], raw)
	return sum, nil
}

// servePull answers one pull stream, whose first frame f is a
// transfer.pull.
func (r *Receiver) servePull(ctx context.Context, c Conn, s Stream, f *wire.Frame) error {
	defer s.Close()
	if r.cfg.Pull == nil {
		err := fmt.Errorf("%w: this peer serves no pulls", ErrRejected)
		refuse(s, err, err.Error())
		return err
	}
	var b pullBody
	if err := decodeEvent(f, opPull, &b); err != nil {
		abortStream(s)
		return fmt.Errorf("pull from %s: %w", c.User(), err)
	}
	if b.Version != Version {
		err := &versionError{peer: b.Version}
		refuse(s, err, err.toPeer())
		return fmt.Errorf("pull from %s: %w", c.User(), err)
	}
	sum, err := validPull(&b)
	if err != nil {
		refuse(s, err, err.Error())
		return fmt.Errorf("pull from %s: %w", c.User(), err)
	}
	select {
	case r.pulls <- struct{}{}:
		defer func() { <-r.pulls }()
	default:
		err := fmt.Errorf("%w: %d pulls running, the most is %d", ErrLimit, MaxPulls, MaxPulls)
		refuse(s, err, err.Error())
		return err
	}
	src, err := r.cfg.Pull(ctx, &PullRequest{Peer: c.User(), PeerKey: c.PeerKey(), SHA256: sum, Size: b.Size})
	if err != nil {
		refuse(s, err, err.Error())
		return fmt.Errorf("pull from %s: %w", c.User(), err)
	}
	defer src.Close()
	stop := context.AfterFunc(ctx, func() { s.SetWriteDeadline(time.Now()) })
	defer stop()
	if err := sendPull(s, src, &b); err != nil {
		if ctx.Err() == nil {
			s.SetWriteDeadline(time.Now().Add(abortTimeout))
			writeAbort(s, err)
		}
		return fmt.Errorf("pull from %s: %w", c.User(), err)
	}
	return nil
}

// sendPull writes the hashes and the range a pull asked for.
func sendPull(s Stream, src io.ReaderAt, b *pullBody) error {
	bufp := getBuffer(ChunkSize)
	defer putBuffer(ChunkSize, bufp)
	buf := *bufp
	w := bufio.NewWriterSize(s, 64<<10)
	cs := int64(ChunkSize)
	deadline := func() { s.SetWriteDeadline(time.Now().Add(pullTimeout)) }
	if b.Hashes {
		deadline()
		n := (b.Size + cs - 1) / cs
		if err := writeEvent(w, opHashes, hashesBody{Count: n}); err != nil {
			return err
		}
		for pos := int64(0); pos < b.Size; pos += cs {
			sum, err := readChunk(src, buf, pos, min(cs, b.Size-pos))
			if err != nil {
				return err
			}
			deadline()
			if _, err := w.Write(sum[:]); err != nil {
				return fmt.Errorf("send hashes: %w", err)
			}
		}
	}
	if b.End > b.Offset {
		deadline()
		if err := writeEvent(w, opSegment, segmentBody{Offset: b.Offset, End: b.End}); err != nil {
			return err
		}
		for pos := b.Offset; pos < b.End; pos += cs {
			n := min(cs, b.End-pos)
			sum, err := readChunk(src, buf, pos, n)
			if err != nil {
				return err
			}
			deadline()
			if _, err := w.Write(buf[:n]); err != nil {
				return fmt.Errorf("send chunk: %w", err)
			}
			if _, err := w.Write(sum[:]); err != nil {
				return fmt.Errorf("send chunk: %w", err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("send pull: %w", err)
	}
	return nil
}

// readChunk reads n bytes at pos into buf and returns their SHA-256; a
// short read means the file shrank.
func readChunk(src io.ReaderAt, buf []byte, pos, n int64) ([hashSize]byte, error) {
	got, err := src.ReadAt(buf[:n], pos)
	if int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return [hashSize]byte{}, fmt.Errorf("%w: read at %d: %w", ErrSource, pos, err)
	}
	return sha256.Sum256(buf[:n]), nil
}
