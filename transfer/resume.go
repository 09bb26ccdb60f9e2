package transfer

// Resuming: where each entry starts again, on both sides. The receiver's
// checkpoint lags its partial file by up to a SaveInterval of data after
// a crash; the receiver's answer carries the
// hashes of the whole chunks its partial file holds past the checkpoint,
// and the sender keeps those that match its own file by starting the
// entry's segment after them. docs/protocol.md, "Resuming", has the rules.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// Version is the version of the transfer protocol (docs/protocol.md,
// "File transfer") this package speaks, the only one: every offer
// carries it, and a receiver refuses an offer in any other with
// ErrVersion.
const Version = 5

// Bounds on the held chunks an answer reports: they cost the receiver a
// read of its partial files before it answers, and the sender a read of
// its files before the first chunk of each moves.
const (
	maxHeldChunks = 1024   // per entry
	maxHeldTotal  = 16_384 // per answer
)

// lastChunkStart is the offset of a non-empty file's last chunk: resume
// points stay before it, so that the last chunk and the whole-file hash
// are checked in the same attempt.
func lastChunkStart(size, chunkSize int64) int64 {
	return (size - 1) / chunkSize * chunkSize
}

// hashHeld returns the SHA-256 of each whole chunk of f from off up to
// end, at most n of them, reading with buf (at least chunkSize long). It
// stops early, without error, if ctx ends.
func hashHeld(ctx context.Context, f io.ReaderAt, off, end, chunkSize int64, n int, buf []byte) ([][hashSize]byte, error) {
	var held [][hashSize]byte
	chunk := buf[:chunkSize]
	for pos := off; len(held) < n && pos+chunkSize <= end && ctx.Err() == nil; pos += chunkSize {
		if _, err := f.ReadAt(chunk, pos); err != nil {
			return nil, fmt.Errorf("read partial file at %d: %w", pos, err)
		}
		held = append(held, sha256.Sum256(chunk))
	}
	return held, nil
}

// resumePlan is where a Send resumes, from the receiver's answer.
type resumePlan struct {
	offsets []int64            // by entry: bytes the receiver has verified
	held    [][][hashSize]byte // by entry: its hashes of the chunks it holds past offsets
	todo    []int              // files to send, in order
	resumed int64              // bytes verified: offsets and files done
	files   int                // files done
}

// planResume checks the receiver's answer to an offer of entries and
// returns where each entry starts. An answer in another protocol
// version than Version fails with an error wrapping ErrVersion.
func planResume(ans *answerBody, entries []Entry, chunkSize int) (*resumePlan, error) {
	if ans.Version != Version {
		return nil, &versionError{peer: ans.Version}
	}
	p := &resumePlan{offsets: make([]int64, len(entries))}
	done := make([]bool, len(entries))
	cs := int64(chunkSize)
	for _, i := range ans.Done {
		if i < 0 || i >= len(entries) || done[i] {
			return nil, fmt.Errorf("%w: answer: bad done entry %d", ErrProtocol, i)
		}
		done[i] = true
		if !entries[i].Dir {
			p.resumed += entries[i].Size
			p.files++
		}
	}
	seen := make([]bool, len(entries))
	total := 0
	for _, r := range ans.Resume {
		bad := r.Entry < 0 || r.Entry >= len(entries) || done[r.Entry] || seen[r.Entry] ||
			r.Offset < 0 || r.Offset >= entries[r.Entry].Size || r.Offset%cs != 0 ||
			(r.Offset == 0 && len(r.Held) == 0) ||
			(len(r.Held) > 0 && (len(r.Held) > maxHeldChunks || len(r.Held) > maxHeldTotal-total ||
				r.Offset+int64(len(r.Held))*cs > lastChunkStart(entries[r.Entry].Size, cs)))
		if bad {
			return nil, fmt.Errorf("%w: answer: bad resume point for entry %d at %d with %d held chunks", ErrProtocol, r.Entry, r.Offset, len(r.Held))
		}
		seen[r.Entry] = true
		total += len(r.Held)
		if len(r.Held) > 0 {
			if p.held == nil {
				p.held = make([][][hashSize]byte, len(entries))
			}
			held := make([][hashSize]byte, len(r.Held))
			for j, h := range r.Held {
				if len(h) != 2*hashSize {
					return nil, fmt.Errorf("%w: answer: held chunk hash of %d characters", ErrProtocol, len(h))
				}
				if _, err := hex.Decode(held[j][:], []byte(h)); err != nil {
					return nil, fmt.Errorf("%w: answer: held chunk hash: %w", ErrProtocol, err)
				}
			}
			p.held[r.Entry] = held
		}
		p.offsets[r.Entry] = r.Offset
		p.resumed += r.Offset
	}
	for i, e := range entries {
		if !e.Dir && !done[i] {
			p.todo = append(p.todo, i)
		}
	}
	return p, nil
}

// heldOf returns the receiver's hashes of the chunks it holds past the
// offset of entry i.
func (p *resumePlan) heldOf(i int) [][hashSize]byte {
	if p.held == nil {
		return nil
	}
	return p.held[i]
}

// matchHeld reads the chunks of f from off that the receiver holds and
// returns how many bytes of them match, leading ones only, adding them
// to whole. Only these become verified: a chunk's hash from the
// receiver counts once the sender's own file has given the same.
func matchHeld(f *os.File, whole *wholeHash, off, chunkSize int64, held [][hashSize]byte, buf []byte) (int64, error) {
	chunk := buf[:chunkSize]
	pos := off
	for _, h := range held {
		if _, err := f.ReadAt(chunk, pos); err != nil {
			return 0, fmt.Errorf("%w: at %d: %w", ErrSource, pos, err)
		}
		if sha256.Sum256(chunk) != h {
			break
		}
		whole.add(h[:])
		pos += chunkSize
	}
	return pos - off, nil
}
