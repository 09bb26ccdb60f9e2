package transfer

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// Receiver defaults.
const (
	// DefaultSaveInterval is how often a receiver syncs a file being
	// written and records its verified length. A broken stream loses
	// nothing verified. A crash leaves the partial file longer than
	// recorded; the chunks there that the sender finds in its own file
	// are kept, so about this much is sent again only if the crash lost
	// written data too (a power loss).
	DefaultSaveInterval = time.Second
	// DefaultReserve is the free space a receiver leaves on the disk.
	DefaultReserve = 64 << 20
)

// firstFrameTimeout bounds the wait for the first frame of a transfer
// stream, so a peer cannot hold streams open without saying what they
// are for.
const firstFrameTimeout = 10 * time.Second

// streamBufferSize is the read buffer of a transfer stream, allocated
// before anything arrives: small, since chunk reads are larger and
// bypass it. It must hold at least 4 KiB (see frameReader).
const streamBufferSize = 4 << 10

// Request is an offer awaiting the receiver's decision.
type Request struct {
	// Peer is the contact offering, as Conn.User names it, and
	// PeerKey the identity key it proved.
	Peer    string
	PeerKey ed25519.PublicKey
	// Offer has been checked; its paths are sanitised.
	Offer *Offer
	// Resume is set when this transfer was accepted before and is
	// resuming; Dir is then where it was accepted into, and the new
	// decision's Dir is ignored.
	Resume bool
	Dir    string
}

// Decision answers a Request.
type Decision struct {
	// Accept takes the offer into Dir (created if missing).
	Accept bool
	Dir    string
	// Reason, when rejecting, is told to the sender.
	Reason string
	// Cancelled, when rejecting, says the transfer was cancelled here
	// for good, not declined: the sender is refused with ErrCancelled
	// rather than ErrRejected.
	Cancelled bool
}

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	// Decide accepts or rejects each offer; it may take as long as the
	// user does, until ctx is done (the sender gave up or the Receiver
	// closed). Required.
	Decide func(ctx context.Context, req *Request) Decision
	// Progress keeps the state that lets transfers resume. Required.
	Progress Progress
	// Cancelled, if set, is told that a peer cancelled transfer id for
	// good with a cancel notice (docs/protocol.md, "transfer.cancel"),
	// before the Receiver stops the attempt running, if any, and removes
	// what the transfer left. peer is the contact as Conn.User
	// names it. A sender that cancels while Decide waits ends Decide's
	// context with a cause wrapping ErrCancelled instead.
	Cancelled func(ctx context.Context, peer, id string)
	// Pull, if set, answers a peer's pull of a file (pull.go): it
	// returns the file to serve, or an error that refuses the pull
	// (wrap ErrRejected for a file this side does not serve to that
	// peer, ErrSource for one that changed). Without it every pull is
	// refused.
	Pull func(ctx context.Context, req *PullRequest) (PullSource, error)
	// OnProgress, if set, is called every ProgressInterval and once at
	// the end of each attempt, from a goroutine of the Receiver's. It must
	// not block.
	OnProgress       func(Status)
	ProgressInterval time.Duration
	// SaveInterval is how often progress is synced and saved while a file
	// streams (default DefaultSaveInterval).
	SaveInterval time.Duration
	// Reserve is the free space to leave on the destination's disk
	// (default DefaultReserve; negative means none).
	Reserve int64
	// Logger receives transfer events; nil discards them.
	Logger *slog.Logger

	// writeHook, in tests, runs before each chunk is written; an error
	// it returns stands for the write's.
	writeHook func(entry int, offset int64, n int) error
	// windowHook, in tests, runs (holding the session's lock) when the
	// chunk at offset must wait for the verified prefix to move up.
	windowHook func(entry int, offset int64)
}

// Result describes a completed transfer on the receiving side.
type Result struct {
	ID   string
	Peer string
	// Dir is the destination; Paths gives each entry's final path in it,
	// slash-separated, by entry index.
	Dir   string
	Paths []string
	// Bytes counts what this attempt received; Resumed what earlier
	// attempts had verified, or had written and the sender confirmed.
	Bytes   int64
	Resumed int64
	// Direct counts the bytes of Bytes written with direct I/O, past
	// the page cache (directio.go).
	Direct int64
}

// Receiver receives the transfers peers send. The daemon hands it every
// transfer stream with Serve; offers then go to Decide, and data streams
// to the transfer they belong to. Close it to interrupt every transfer.
type Receiver struct {
	cfg ReceiverConfig
	log *slog.Logger

	ctx    context.Context // done when Close starts
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // Serve calls

	pulls  chan struct{} // a slot per pull stream served
	umask  int           // the process's, read once: received files' modes
	offers offerLog      // each peer's new offers in the last hour

	// spaceMu serialises reserve: a free-space check and the bytes it
	// reserves are one step.
	spaceMu sync.Mutex

	mu       sync.Mutex
	closed   bool
	sessions map[string]*session // by peer key + "/" + transfer id: attempts deciding, running, or being cleaned up
}

// NewReceiver returns a Receiver configured by cfg.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	if cfg.Decide == nil || cfg.Progress == nil {
		return nil, errors.New("new receiver: Decide and Progress are required")
	}
	if cfg.SaveInterval <= 0 {
		cfg.SaveInterval = DefaultSaveInterval
	}
	if cfg.Reserve == 0 {
		cfg.Reserve = DefaultReserve
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Receiver{cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel, sessions: map[string]*session{},
		pulls: make(chan struct{}, MaxPulls), umask: processUmask()}, nil
}

// Serve handles one transfer stream that the peer on c opened, and
// closes it. For a control stream (one starting with an offer) it runs
// the whole transfer and returns its Result once every file is verified
// and in place; for a data stream it returns nil, nil when the stream
// ends. What the stream's frames and buffers hold is
// taken from c.Budget. The daemon calls Serve in a goroutine of its own
// for each such stream. Cancelling ctx interrupts the stream, keeping
// what was verified.
func (r *Receiver) Serve(ctx context.Context, c Conn, s Stream) (*Result, error) {
	if !r.enter() {
		abortStream(s)
		return nil, fmt.Errorf("serve transfer stream: %w", net.ErrClosed)
	}
	defer r.wg.Done()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(r.ctx, func() { cancel(context.Cause(r.ctx)) })
	defer stop()

	s.SetReadDeadline(time.Now().Add(firstFrameTimeout))
	br := bufio.NewReaderSize(s, streamBufferSize)
	// Only an offer may be large.
	rd := frameReader(br, maxControlFrame, c.Budget())
	defer rd.Release()
	rd.SetLarge(maxDataHeader, opOffer)
	f, err := readFrame(rd)
	if err != nil {
		abortStream(s)
		return nil, fmt.Errorf("transfer stream from %s: %w", c.User(), err)
	}
	s.SetReadDeadline(time.Time{})
	rd.SetMax(maxDataHeader)
	rd.SetLarge(0, "")
	switch {
	case f.Kind == wire.KindEvent && f.Op == opOffer:
		defer s.Close()
		return r.receive(ctx, c, s, br, rd, f)
	case f.Kind == wire.KindEvent && f.Op == opData:
		return nil, r.serveData(ctx, c, s, br, rd, f)
	case f.Kind == wire.KindEvent && f.Op == opPull:
		return nil, r.servePull(ctx, c, s, f)
	case f.Kind == wire.KindEvent && f.Op == opCancel:
		defer s.Close()
		return nil, r.serveCancel(ctx, c, s, f)
	default:
		abortStream(s)
		return nil, fmt.Errorf("transfer stream from %s: %w: first frame %s %q", c.User(), ErrProtocol, f.Kind, f.Op)
	}
}

// Cancel cancels the transfer with the given id, from any peer, for
// good: a running attempt is stopped and the sender told; the partial
// files and the checkpoint are removed, at once when no attempt runs
// (the transfer waits for its sender to resume it). It reports whether
// there was such a transfer. Files already in place stay.
//
// The caller makes sure a later resume is refused (Decide): without a
// checkpoint, a resumed offer is a new one.
func (r *Receiver) Cancel(ctx context.Context, id string) bool {
	return r.cancelTransfer(ctx, "", id, ErrCancelled)
}

// Close interrupts every transfer (keeping what was verified, so they
// can resume) and waits for every Serve call to return.
func (r *Receiver) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel(fmt.Errorf("%w: receiver closed", ErrInterrupted))
	r.wg.Wait()
	return nil
}

func (r *Receiver) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// receive runs one transfer from its offer to its end.
func (r *Receiver) receive(ctx context.Context, c Conn, s Stream, br *bufio.Reader, rd *wire.Reader, f *wire.Frame) (*Result, error) {
	offer, err := DecodeOffer(f.Body)
	rd.Release()
	if err != nil {
		refuse(s, err, err.Error())
		return nil, fmt.Errorf("offer from %s: %w", c.User(), err)
	}
	t := newSession(ctx, r, c, s, br, rd, offer)
	if err := r.claim(t); err != nil {
		refuse(s, err, err.Error())
		return nil, fmt.Errorf("receive %s from %s: %w", offer.ID, c.User(), err)
	}
	defer r.release(t)
	res, err := t.receive()
	if err != nil {
		return res, fmt.Errorf("receive %s from %s: %w", offer.ID, c.User(), err)
	}
	return res, nil
}

// claim registers t as the one attempt of its transfer. An older attempt
// still running (its peer reconnected before we noticed the old
// connection die) is interrupted first, and claim waits until it has
// saved its progress. A peer with MaxOffersInFlight attempts already is
// refused with ErrLimit.
func (r *Receiver) claim(t *session) error {
	for {
		r.mu.Lock()
		old := r.sessions[t.key]
		if old == nil {
			if n := r.inFlight(t.peer); n >= MaxOffersInFlight {
				r.mu.Unlock()
				return fmt.Errorf("%w: %d offers from you are waiting for an answer or running, the most is %d; this one waits",
					ErrLimit, n, MaxOffersInFlight)
			}
			r.sessions[t.key] = t
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		old.cancel(fmt.Errorf("%w: superseded by a new attempt", ErrInterrupted))
		select {
		case <-old.gone:
		case <-t.ctx.Done():
			return context.Cause(t.ctx)
		}
	}
}

func (r *Receiver) release(t *session) {
	r.mu.Lock()
	if r.sessions[t.key] == t {
		delete(r.sessions, t.key)
	}
	r.mu.Unlock()
	close(t.gone)
}

// serveData attaches a data stream to the running transfer it names,
// found by the key the stream's connection proved and the transfer id.
func (r *Receiver) serveData(ctx context.Context, c Conn, s Stream, br *bufio.Reader, rd *wire.Reader, f *wire.Frame) error {
	var b dataBody
	if err := decodeEvent(f, opData, &b); err != nil {
		abortStream(s)
		return fmt.Errorf("data stream from %s: %w", c.User(), err)
	}
	r.mu.Lock()
	t := r.sessions[peerID(c)+"/"+b.ID]
	ok := t != nil && t.attach()
	r.mu.Unlock()
	if !ok {
		abortStream(s)
		return fmt.Errorf("data stream from %s: %w %q", c.User(), ErrUnknownTransfer, b.ID)
	}
	defer t.data.Done()
	if err := t.serveData(ctx, s, br, rd, c.Budget()); err != nil {
		abortStream(s)
		if _, ok := errors.AsType[*brokenStream](err); ok {
			// No stream orders the sender's reason after this reset:
			// give the control stream a moment to deliver it.
			select {
			case <-t.ctx.Done():
			case <-time.After(abortTimeout):
			}
		}
		t.fail(err)
		return fmt.Errorf("data stream of %s from %s: %w", b.ID, c.User(), err)
	}
	s.Close()
	return nil
}

// refuse answers an offer with an abort instead of an answer.
func refuse(s Stream, err error, msg string) {
	s.SetWriteDeadline(time.Now().Add(abortTimeout))
	msg = detailOf(err, msg)
	if len(msg) > maxAbortMessage {
		msg = msg[:maxAbortMessage]
	}
	writeEvent(s, opAbort, abortBody{Code: codeOf(err), Message: msg})
}

// abortStream resets both directions of a stream we give up on.
func abortStream(s Stream) {
	s.CancelRead()
	s.CancelWrite()
}
