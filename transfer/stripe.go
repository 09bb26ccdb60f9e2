package transfer

// Striping, the sender's side: a big file is cut into pieces of
// pieceChunks chunks that every data stream takes in turn, so that one
// file is read, hashed and written on several cores at each end. Each
// piece is a segment of its own; its chunk hashes join the whole-file
// hash in file order, whichever stream sent them.

import (
	"io"
	"os"
	"sync"
)

// Striping tuning: a file is striped when at least stripeMinChunks
// chunks of it remain and there are several data streams; pieces are
// pieceChunks chunks long. Short pieces keep the streams' write
// positions close together, so what a receiver's crash leaves past its
// verified prefix is little, and the streams balance themselves.
const (
	stripeMinChunks = 8
	pieceChunks     = 1
)

// work is what a data stream sends next: a whole entry, or a piece of a
// striped one.
type work struct {
	entry int
	piece *stripedFile // nil: the whole entry
	off   int64        // the piece: [off, end); the whole entry: from off
	end   int64
	held  [][hashSize]byte // the whole entry: the receiver's held chunks past off
}

// stripedFile is a file being sent in pieces.
type stripedFile struct {
	entry int
	f     *os.File // shared: ReadAt is safe at once
	from  int64    // where this attempt's data starts
	size  int64

	mu      sync.Mutex
	whole   *wholeHash
	next    int64                    // the whole-file hash covers [0, next)
	pending map[int64][hashSize]byte // hashes of chunks sent past next
}

// stripes reports whether entry i, from offset off, is sent in pieces.
func (s *sender) stripes(i int, off int64) bool {
	cs := int64(s.offer.ChunkSize)
	return s.opts.Streams > 1 && s.offer.Entries[i].Size-off >= stripeMinChunks*cs
}

// openStriped opens entry i for striping from off: the prefix the
// receiver has, and the held chunks that match, are hashed first.
func (s *sender) openStriped(i int, off int64, held [][hashSize]byte, buf []byte) (*stripedFile, error) {
	f, whole, from, err := s.begin(i, off, held, buf)
	if err != nil {
		return nil, err
	}
	return &stripedFile{entry: i, f: f, from: from, size: s.offer.Entries[i].Size, whole: whole, next: from,
		pending: make(map[int64][hashSize]byte)}, nil
}

// pieces returns the pieces of p.
func (p *stripedFile) pieces(chunkSize int64) []work {
	step := pieceChunks * chunkSize
	var out []work
	for off := p.from; off < p.size; off += step {
		out = append(out, work{entry: p.entry, piece: p, off: off, end: min(off+step, p.size)})
	}
	return out
}

// add records that the chunk at off, with hash sum, was sent. It
// reports whether the whole file has now been, and its hash then.
func (p *stripedFile) add(off, chunkSize int64, sum [hashSize]byte) (bool, [hashSize]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending[off] = sum
	for h, ok := p.pending[p.next]; ok; h, ok = p.pending[p.next] {
		delete(p.pending, p.next)
		p.whole.add(h[:])
		p.next += min(chunkSize, p.size-p.next)
	}
	if p.next < p.size {
		return false, [hashSize]byte{}
	}
	return true, p.whole.sum()
}

// sendPiece sends one piece of a striped file on the data stream w, and
// the file's whole hash on the control stream if it was the last piece
// to go.
func (s *sender) sendPiece(w io.Writer, buf []byte, pc work, stream int) error {
	p := pc.piece
	if err := writeEvent(w, opSegment, segmentBody{Entry: p.entry, Offset: pc.off, End: pc.end, From: p.from}); err != nil {
		return err
	}
	cs := int64(s.offer.ChunkSize)
	for pos := pc.off; pos < pc.end; {
		n := min(cs, pc.end-pos)
		sum, err := s.sendChunk(w, buf, p.f, p.entry, pos, n, nil, stream)
		if err != nil {
			return err
		}
		if complete, whole := p.add(pos, cs, sum); complete {
			if err := s.fileDone(p.entry, whole); err != nil {
				return err
			}
		}
		pos += n
	}
	return nil
}

// closeStriped closes the files of finished or abandoned stripes (read
// only: closing them loses nothing).
func closeStriped(files []*stripedFile) {
	for _, p := range files {
		p.f.Close()
	}
}
