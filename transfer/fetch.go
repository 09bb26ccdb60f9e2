package transfer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"time"
)

// pullSuffix ends the partial file of a fetch: hidden, beside the final
// name, named by the hash, so that a fetch broken off resumes from it.
const pullSuffix = ".lanchat-pull"

// FetchConfig describes one file to fetch from its holders.
type FetchConfig struct {
	// Sources are connections to the holders, in order of preference:
	// the chunk hashes come from the first that gives a list matching
	// SHA256, and every source that answers takes blocks of chunks.
	Sources []Conn
	// SHA256 is the whole-file hash (filehash.go) of a file of Size
	// bytes, as a library listing gives it.
	SHA256 [hashSize]byte
	Size   int64
	// Dir is the destination folder and Name the file's path in it
	// (cleaned with Sanitize); an existing file is never overwritten:
	// the fetched one becomes "name (1)".
	Dir  string
	Name string
	// BlockChunks is how many chunks one request asks a holder for
	// (default DefaultBlockChunks).
	BlockChunks int
	// SourceFailed, if set, is told which source failed and why; a
	// failure wrapping ErrCorrupt or ErrMismatch means the source
	// served other bytes than the listing's.
	SourceFailed func(c Conn, err error)
	// OnProgress, if set, is called as chunks arrive; it must not block.
	OnProgress func(done, total int64)
	Logger     *slog.Logger
}

// FetchResult is a completed fetch.
type FetchResult struct {
	// Path is the file's path in Dir, slash-separated.
	Path string
	// Bytes counts what this fetch received, Resumed what an earlier
	// one had left verified in the partial file.
	Bytes, Resumed int64
	// BySource counts the bytes each source sent, by Conn.User.
	BySource map[string]int64
}

// Fetch downloads a file from its holders: it asks one for the file's
// chunk hashes and checks them against SHA256, then takes blocks of
// chunks from every holder that answers at once, checking each chunk
// against its hash, into a partial file; it checks the whole file again
// before moving it into place. A partial file left by an earlier fetch
// of the same file is kept where its chunks match.
func Fetch(ctx context.Context, cfg FetchConfig) (*FetchResult, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Size < 0 || cfg.Size > MaxTotalSize {
		return nil, fmt.Errorf("fetch: size %d out of range", cfg.Size)
	}
	name, err := Sanitize(cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if len(cfg.Sources) == 0 {
		return nil, fmt.Errorf("fetch %s: %w: no holder online", name, ErrInterrupted)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer root.Close()
	if d := path.Dir(name); d != "." {
		if err := ensureDir(root, d); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", name, rootError(err))
		}
	}
	sum := hex.EncodeToString(cfg.SHA256[:])
	dir, base := path.Split(name)
	tail := "." + sum[:16] + pullSuffix
	partial := dir + "." + truncateBytes(base, MaxNameBytes-1-len(tail)) + tail
	f, err := openPartial(root, partial, true)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, rootError(err))
	}
	defer f.Close()

	fe := &fetch{cfg: cfg, f: f, by: map[string]int64{}}
	hashes, err := fe.hashes(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	fe.sums = hashes
	done, resumed, err := fe.resume()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, err)
	}
	fe.done.Store(resumed)
	sched := newSchedule(done, cfg.BlockChunks)
	var wg sync.WaitGroup
	for _, c := range fe.live() {
		wg.Go(func() { fe.work(ctx, c, sched) })
	}
	wg.Wait()
	if n := sched.left(); n > 0 {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fetch %s: %w: %w", name, ErrInterrupted, context.Cause(ctx))
		}
		return nil, fmt.Errorf("fetch %s: %w: %d chunks left and no holder could send them", name, ErrInterrupted, n)
	}
	// The whole file, as written, once more.
	bufp := getBuffer(ChunkSize)
	got, err := fileSum(f, cfg.Size, ChunkSize, *bufp)
	putBuffer(ChunkSize, bufp)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: check: %w", name, err)
	}
	if got != cfg.SHA256 {
		f.Truncate(0)
		return nil, fmt.Errorf("fetch %s: %w", name, ErrMismatch)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("fetch %s: sync: %w", name, err)
	}
	final, err := place(root, partial, name)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", name, rootError(err))
	}
	return &FetchResult{Path: final, Bytes: fe.done.Load() - resumed, Resumed: resumed, BySource: fe.by}, nil
}

// fetch is one Fetch at work.
type fetch struct {
	cfg  FetchConfig
	f    *os.File
	sums [][hashSize]byte

	mu   sync.Mutex
	bad  map[Conn]bool
	by   map[string]int64
	done atomic.Int64
}

func (fe *fetch) fail(c Conn, err error) {
	fe.cfg.Logger.Info("holder failed", "peer", c.User(), "err", err)
	fe.mu.Lock()
	if fe.bad == nil {
		fe.bad = map[Conn]bool{}
	}
	fe.bad[c] = true
	fe.mu.Unlock()
	if fe.cfg.SourceFailed != nil {
		fe.cfg.SourceFailed(c, err)
	}
}

// live returns the sources that have not failed.
func (fe *fetch) live() []Conn {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	var out []Conn
	for _, c := range fe.cfg.Sources {
		if !fe.bad[c] {
			out = append(out, c)
		}
	}
	return out
}

// hashes gets the chunk hashes from the first source whose list makes
// the listed whole-file hash.
func (fe *fetch) hashes(ctx context.Context) ([][hashSize]byte, error) {
	var last error = ErrInterrupted
	for _, c := range fe.cfg.Sources {
		sums, err := fe.hashesFrom(ctx, c)
		if err == nil {
			return sums, nil
		}
		fe.fail(c, err)
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("no holder sent the chunk hashes: %w", last)
}

func (fe *fetch) hashesFrom(ctx context.Context, c Conn) (_ [][hashSize]byte, err error) {
	s, br, err := fe.pull(ctx, c, pullBody{Hashes: true})
	if err != nil {
		return nil, err
	}
	defer endStream(s, &err)
	rd := frameReader(br, maxDataHeader, c.Budget())
	defer rd.Release()
	fr, err := readFrame(rd)
	if err != nil {
		return nil, fmt.Errorf("%w: hashes: %w", ErrInterrupted, err)
	}
	var hb hashesBody
	if err := decodeEvent(fr, opHashes, &hb); err != nil {
		return nil, err
	}
	cs := int64(ChunkSize)
	want := (fe.cfg.Size + cs - 1) / cs
	if hb.Count != want {
		return nil, fmt.Errorf("%w: %d chunk hashes for %d chunks", ErrMismatch, hb.Count, want)
	}
	whole := newWholeHash(fe.cfg.Size)
	var sums [][hashSize]byte // grows as the hashes arrive
	for range want {
		var h [hashSize]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return nil, fmt.Errorf("%w: hashes: %w", ErrInterrupted, err)
		}
		whole.add(h[:])
		sums = append(sums, h)
	}
	if whole.sum() != fe.cfg.SHA256 {
		return nil, fmt.Errorf("%w: the chunk hashes do not make the listed hash", ErrMismatch)
	}
	return sums, nil
}

// pull opens a pull stream on c and sends the request, completed with
// the file's hash, size and version.
func (fe *fetch) pull(ctx context.Context, c Conn, b pullBody) (Stream, *bufio.Reader, error) {
	b.Version, b.SHA256, b.Size = Version, hex.EncodeToString(fe.cfg.SHA256[:]), fe.cfg.Size
	s, err := c.OpenStream(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: open stream: %w", ErrInterrupted, err)
	}
	context.AfterFunc(ctx, func() { s.SetDeadline(time.Now()) })
	if err := writeEvent(s, opPull, b); err != nil {
		abortStream(s)
		return nil, nil, fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	return s, bufio.NewReaderSize(s, streamBufferSize), nil
}

// resume marks the chunks the partial file already holds that match
// their hashes, and cuts it after the last whole one.
func (fe *fetch) resume() ([]bool, int64, error) {
	done := make([]bool, len(fe.sums))
	info, err := fe.f.Stat()
	if err != nil {
		return nil, 0, err
	}
	cs := int64(ChunkSize)
	have := min(info.Size(), fe.cfg.Size)
	bufp := getBuffer(ChunkSize)
	defer putBuffer(ChunkSize, bufp)
	var resumed int64
	for i := range fe.sums {
		pos := int64(i) * cs
		n := min(cs, fe.cfg.Size-pos)
		if pos+n > have {
			break
		}
		sum, err := readChunk(fe.f, *bufp, pos, n)
		if err != nil {
			return nil, 0, err
		}
		if sum == fe.sums[i] {
			done[i] = true
			resumed += n
		}
	}
	if info.Size() > fe.cfg.Size {
		if err := fe.f.Truncate(fe.cfg.Size); err != nil {
			return nil, 0, err
		}
	}
	return done, resumed, nil
}

// work fetches blocks from c until none are left or c fails.
func (fe *fetch) work(ctx context.Context, c Conn, sched *schedule) {
	bufp := getBuffer(ChunkSize)
	defer putBuffer(ChunkSize, bufp)
	for ctx.Err() == nil {
		b, ok := sched.take()
		if !ok {
			return
		}
		next, err := fe.block(ctx, c, b, *bufp, sched)
		if err != nil {
			sched.giveBack(next, b[1])
			fe.fail(c, err)
			return
		}
	}
}

// block fetches chunks [b[0], b[1]) from c, writing each that matches
// its hash; it returns the first chunk not fetched.
func (fe *fetch) block(ctx context.Context, c Conn, b [2]int, buf []byte, sched *schedule) (_ int, err error) {
	cs := int64(ChunkSize)
	off, end := int64(b[0])*cs, min(int64(b[1])*cs, fe.cfg.Size)
	s, br, err := fe.pull(ctx, c, pullBody{Offset: off, End: end})
	if err != nil {
		return b[0], err
	}
	defer endStream(s, &err)
	rd := frameReader(br, maxDataHeader, c.Budget())
	fr, err := readFrame(rd)
	if err != nil {
		rd.Release()
		return b[0], fmt.Errorf("%w: %w", ErrInterrupted, err)
	}
	var seg segmentBody
	err = decodeEvent(fr, opSegment, &seg)
	rd.Release()
	if err != nil {
		return b[0], err
	}
	if seg.Entry != 0 || seg.Offset != off || seg.End != end {
		return b[0], fmt.Errorf("%w: segment [%d, %d), asked [%d, %d)", ErrProtocol, seg.Offset, seg.End, off, end)
	}
	for i := b[0]; i < b[1]; i++ {
		pos := int64(i) * cs
		n := min(cs, fe.cfg.Size-pos)
		var h [hashSize]byte
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return i, fmt.Errorf("%w: chunk at %d: %w", ErrInterrupted, pos, err)
		}
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return i, fmt.Errorf("%w: chunk at %d: %w", ErrInterrupted, pos, err)
		}
		if sha256.Sum256(buf[:n]) != fe.sums[i] || h != fe.sums[i] {
			return i, fmt.Errorf("%w: chunk at %d does not match the listed file", ErrCorrupt, pos)
		}
		if _, err := fe.f.WriteAt(buf[:n], pos); err != nil {
			return i, fmt.Errorf("write chunk at %d: %w", pos, err)
		}
		sched.fetched()
		fe.mu.Lock()
		fe.by[c.User()] += n
		fe.mu.Unlock()
		d := fe.done.Add(n)
		if fe.cfg.OnProgress != nil {
			fe.cfg.OnProgress(d, fe.cfg.Size)
		}
	}
	return b[1], nil
}

// endStream closes a pull stream that served its purpose, and resets
// one that failed.
func endStream(s Stream, err *error) {
	if *err != nil {
		abortStream(s)
		return
	}
	s.Close()
}
