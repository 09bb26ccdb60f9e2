package transfer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// MaxStreams bounds the data streams of one Send, and DefaultStreams is
// how many it opens unless told: enough for a big file to be hashed,
// read and written on more than one core at each end.
const (
	MaxStreams     = 8
	DefaultStreams = 2
)

// abortTimeout bounds writing a last abort frame once a transfer has
// failed or its context has ended.
const abortTimeout = time.Second

// SendOptions tunes Send. The zero value sends on DefaultStreams data
// streams and reports no progress.
type SendOptions struct {
	// Streams is how many data streams carry the files (1 to MaxStreams;
	// 0 means DefaultStreams), all on the connection given to Send. Small
	// files go whole to one stream; big ones are cut into pieces that
	// every stream takes in turn (striping).
	Streams int
	// OnProgress, if set, is called every ProgressInterval and once at
	// the end, from a goroutine of Send's. It must not block.
	OnProgress       func(Status)
	ProgressInterval time.Duration
	// Logger receives the transfer's events; nil discards them.
	Logger *slog.Logger

	// chunkHook, in tests, sees (and may alter) each chunk after it was
	// hashed and before it is sent.
	chunkHook func(entry int, offset int64, chunk []byte)
}

// SendResult says what one Send moved, or had moved when it failed.
type SendResult struct {
	// Bytes and Chunks count the file data sent in this attempt,
	// re-sent chunks included.
	Bytes  int64
	Chunks int64
	// Resumed counts the bytes the receiver already had: files done,
	// the verified prefixes of the others and the chunks its partial files held past those prefixes that
	// matched the sender's file.
	Resumed int64
	Elapsed time.Duration
	// Striped counts the files sent in pieces over several data streams
	// and StreamBytes the file data each data stream carried.
	Striped     int
	StreamBytes []int64
}

// Send offers o to the peer on c and, once accepted, sends the files,
// resuming where the receiver's verified data ends. It returns when the
// receiver has verified and placed every file, or on failure: an error
// wrapping ErrRejected, ErrCancelled, ErrNoSpace, ErrVersion, ... when
// the receiver aborted, or the stream error when the connection broke.
// The *SendResult is never nil: on failure it counts what was sent
// before.
//
// To cancel the transfer for good (the receiver deletes its partial
// files), cancel ctx with ErrCancelled as the cause; any other end of
// ctx interrupts it, and a later Send of an offer with the same ID
// resumes.
func Send(ctx context.Context, c Conn, o *Offer, opts SendOptions) (*SendResult, error) {
	if err := o.checkLocal(); err != nil {
		return &SendResult{}, fmt.Errorf("send %s: %w", o.ID, err)
	}
	if opts.Streams <= 0 {
		opts.Streams = DefaultStreams
	}
	opts.Streams = min(opts.Streams, MaxStreams)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &sender{conn: c, offer: o, opts: opts, log: opts.Logger.With("transfer", o.ID, "peer", c.User()),
		streamBytes: make([]atomic.Int64, opts.Streams)}
	start := time.Now()
	err := s.run(ctx)
	res := &SendResult{Bytes: s.bytes.Load(), Chunks: s.chunks.Load(), Resumed: s.resumed.Load(), Elapsed: time.Since(start),
		Striped: int(s.striped.Load())}
	for k := range s.streamBytes {
		res.StreamBytes = append(res.StreamBytes, s.streamBytes[k].Load())
	}
	if err != nil {
		s.log.Info("send failed", "bytes", res.Bytes, "chunks", res.Chunks, "resumed", res.Resumed, "err", err)
		return res, fmt.Errorf("send %s to %s: %w", o.ID, c.User(), err)
	}
	s.log.Info("sent", "bytes", res.Bytes, "chunks", res.Chunks, "resumed", res.Resumed, "elapsed", res.Elapsed)
	return res, nil
}

// checkLocal checks an offer about to be sent.
func (o *Offer) checkLocal() error {
	switch {
	case !checkpoint.ValidID(o.ID):
		return errors.New("offer id must be 32 lower-case hex digits")
	case !validChunkSize(o.ChunkSize):
		return fmt.Errorf("bad chunk size %d", o.ChunkSize)
	case len(o.sources) != len(o.Entries):
		return errors.New("offer has no local files: build it with NewOffer")
	case len(o.Entries) == 0 || len(o.Entries) > MaxEntries:
		return fmt.Errorf("%d entries: want 1 to %d", len(o.Entries), MaxEntries)
	}
	return nil
}

// sender is one Send in progress.
type sender struct {
	conn  Conn
	offer *Offer
	opts  SendOptions
	log   *slog.Logger

	ctl      Stream
	ctlMu    sync.Mutex // serialises frames written on ctl
	stopWake func() bool
	wakeDone chan struct{} // closed once ctx's end has woken ctl
	quiet    sync.Once     // stops the waking, before a last write
	meter    *meter

	bytes       atomic.Int64
	chunks      atomic.Int64
	resumed     atomic.Int64
	striped     atomic.Int64
	streamBytes []atomic.Int64 // by data stream
}

func (s *sender) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	rd, ans, err := s.propose(ctx)
	if s.ctl == nil {
		return err
	}
	defer s.closeCtl()
	if err != nil {
		return s.abort(ctx, err)
	}
	plan, err := planResume(ans, s.offer.Entries, s.offer.ChunkSize)
	if err != nil {
		return s.abort(ctx, err)
	}
	s.resumed.Store(plan.resumed)
	s.log.Debug("offer accepted", "resumed", plan.resumed, "files", len(plan.todo))

	s.meter = startMeter(s.opts.OnProgress, s.opts.ProgressInterval, Status{
		ID: s.offer.ID, Peer: s.conn.User(), Sending: true, Total: s.offer.Total(), FilesTotal: s.offer.Files(),
	}, plan.resumed, plan.files)

	// The receiver speaks again only to say it is done, or to abort.
	var wg sync.WaitGroup
	defer func() {
		s.ctl.SetReadDeadline(time.Now()) // wakes readReply if still waiting
		wg.Wait()
	}()
	replies := make(chan error, 1)
	wg.Go(func() {
		err := readReply(rd)
		if err != nil {
			cancel(err)
		}
		replies <- err
	})

	err = s.stream(ctx, plan)
	if err != nil && !isPeerError(err) && !errors.Is(err, ErrSource) && ctx.Err() == nil {
		// The receiver resets the data streams when it stops; its reason
		// follows on the control stream, which no stream orders after it.
		select {
		case reply := <-replies:
			if reply != nil && isPeerError(reply) {
				err = reply
			}
		case <-time.After(abortTimeout):
		}
	}
	if err == nil {
		err = s.writeCtl(opDone, nil)
	}
	if err == nil {
		select {
		case err = <-replies:
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
	}
	if err != nil {
		err = s.abort(ctx, err)
	}
	s.meter.stop(err)
	return err
}

// propose opens a control stream, offers and reads the answer. s.ctl is left nil if the stream could not be
// opened; otherwise the caller closes it with closeCtl.
func (s *sender) propose(ctx context.Context) (*wire.Reader, *answerBody, error) {
	ctl, err := s.conn.OpenStream(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.ctl = ctl
	// Ending ctx wakes whatever waits on the control stream.
	woken := make(chan struct{})
	s.wakeDone = woken
	s.stopWake = context.AfterFunc(ctx, func() {
		ctl.SetDeadline(time.Now())
		close(woken)
	})

	if err := s.writeCtl(opOffer, offerBody{Offer: s.offer, Version: Version}); err != nil {
		return nil, nil, err
	}
	rd := wire.NewReader(ctl, maxControlFrame)
	rd.SetBudget(s.conn.Budget())
	f, err := rd.ReadFrame()
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	defer rd.Release()
	var ans answerBody
	if err := decodeEvent(f, opAnswer, &ans); err != nil {
		return nil, nil, err
	}
	rd.SetMax(maxDataHeader) // the receiver's last word is small
	return rd, &ans, nil
}

// closeCtl closes the control stream propose opened.
func (s *sender) closeCtl() {
	s.stopWake()
	s.ctl.Close()
	s.ctl = nil
}

// stream sends the files of plan over opts.Streams data streams, each
// taking the next work from a shared queue: a whole file, or a piece of
// a striped one.
func (s *sender) stream(ctx context.Context, plan *resumePlan) error {
	todo := plan.todo
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	streams := len(todo)
	for _, i := range todo {
		if s.stripes(i, plan.offsets[i]) {
			streams = s.opts.Streams
			break
		}
	}
	queue := make(chan work)
	var wg sync.WaitGroup
	for k := range min(s.opts.Streams, streams) {
		wg.Go(func() {
			if err := s.worker(ctx, k, queue); err != nil {
				cancel(err)
			}
		})
	}
	var striped []*stripedFile
	defer func() { closeStriped(striped) }() // once the workers are done
	buf := getBuffer(s.offer.ChunkSize)
	defer putBuffer(s.offer.ChunkSize, buf)
	feed := func(w work) bool {
		select {
		case queue <- w:
			return true
		case <-ctx.Done():
			return false
		}
	}
feeding:
	for _, i := range todo {
		off, held := plan.offsets[i], plan.heldOf(i)
		if !s.stripes(i, off) {
			if !feed(work{entry: i, off: off, held: held}) {
				break
			}
			continue
		}
		p, err := s.openStriped(i, off, held, *buf)
		if err != nil {
			cancel(err)
			break
		}
		striped = append(striped, p)
		s.striped.Add(1)
		for _, pc := range p.pieces(int64(s.offer.ChunkSize)) {
			if !feed(pc) {
				break feeding
			}
		}
	}
	close(queue)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// worker sends work from queue on data stream k of its own, and each
// whole file's hash on the control stream after its data.
func (s *sender) worker(ctx context.Context, k int, queue <-chan work) error {
	ds, err := s.conn.OpenStream(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		ds.CancelWrite()
		ds.CancelRead()
	})
	defer stop()
	if err := writeEvent(ds, opData, dataBody{ID: s.offer.ID}); err != nil {
		return err
	}
	buf := getBuffer(s.offer.ChunkSize)
	defer putBuffer(s.offer.ChunkSize, buf)
	for w := range queue {
		if w.piece != nil {
			if err := s.sendPiece(ds, *buf, w, k); err != nil {
				return err
			}
			continue
		}
		sum, err := s.sendEntry(ds, *buf, w.entry, w.off, w.held, k)
		if err != nil {
			return err
		}
		if err := s.fileDone(w.entry, sum); err != nil {
			return err
		}
	}
	return ds.Close()
}

// fileDone sends entry i's whole-file hash, all its data being sent.
func (s *sender) fileDone(i int, sum [hashSize]byte) error {
	if err := s.writeCtl(opFile, fileBody{Entry: i, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		return err
	}
	s.meter.addFile()
	return nil
}

// writeCtl writes one frame on the control stream.
func (s *sender) writeCtl(op string, body any) error {
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	return writeEvent(s.ctl, op, body)
}

// readReply reads the receiver's last word: nil for transfer.done.
func readReply(rd *wire.Reader) error {
	f, err := rd.ReadFrame()
	if err != nil {
		return fmt.Errorf("%w: control stream: %w", ErrInterrupted, err)
	}
	defer rd.Release()
	return decodeEvent(f, opDone, nil)
}

// abort tells the receiver why the transfer stops, unless the receiver
// is the one who stopped it, and returns the error to report. A context
// cancelled with ErrCancelled cancels the transfer; any other end of the
// context interrupts it.
func (s *sender) abort(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !isPeerError(err) {
		switch {
		case isPeerError(cause):
			err = cause
		case errors.Is(cause, ErrCancelled):
			err = ErrCancelled
		case errors.Is(cause, context.Canceled), errors.Is(cause, context.DeadlineExceeded):
			err = fmt.Errorf("%w: %w", ErrInterrupted, cause)
		default:
			err = cause
		}
	}
	if isPeerError(err) {
		return err
	}
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	s.quiet.Do(func() {
		if !s.stopWake() {
			<-s.wakeDone // else it could undo the deadline set below
		}
	})
	s.ctl.SetWriteDeadline(time.Now().Add(abortTimeout))
	if werr := writeAbort(s.ctl, err); werr != nil {
		s.log.Debug("could not send abort", "err", werr)
	}
	return err
}
