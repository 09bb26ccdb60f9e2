package transfer

// Cancelling for good, on either side, and telling the other side: a
// receiver's Cancel removes what a transfer left at once, running or
// not; a sender that cancels a transfer its receiver may still hold
// (offered, accepted while the sender was away, or waiting to resume)
// tells it with a cancel notice, on a stream of its own, once it can
// reach it (docs/protocol.md, "transfer.cancel").

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// opCancel opens a stream that carries only a sender's cancel notice;
// the receiver answers transfer.done once it has acted on it.
const opCancel = "transfer.cancel"

// cancelBody names the transfer cancelled.
type cancelBody struct {
	ID string `json:"id"`
}

// cancelTimeout bounds a cancel notice's exchange.
const cancelTimeout = 10 * time.Second

// SendCancel tells the peer on c that the transfer with the given id,
// which this side sent, is cancelled for good: the peer records it
// cancelled, stops an attempt running, and removes its partial files and
// checkpoint. It returns nil once the peer has acknowledged (whether or
// not it knew the transfer). Any other error means the notice may not
// have arrived: try again at the next connection.
func SendCancel(ctx context.Context, c Conn, id string) error {
	if !checkpoint.ValidID(id) {
		return fmt.Errorf("send cancel notice: %w: bad transfer id", ErrInvalidOffer)
	}
	ctx, cancel := context.WithTimeout(ctx, cancelTimeout)
	defer cancel()
	s, err := c.OpenStream(ctx)
	if err != nil {
		return fmt.Errorf("send cancel notice of %s to %s: %w", id, c.User(), err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.SetDeadline(time.Now()) })
	defer stop()
	if err := writeEvent(s, opCancel, cancelBody{ID: id}); err != nil {
		return fmt.Errorf("send cancel notice of %s to %s: %w", id, c.User(), err)
	}
	f, err := wire.NewReader(s, maxDataHeader).ReadFrame()
	if err == nil {
		err = decodeEvent(f, opDone, nil)
	}
	if err != nil {
		return fmt.Errorf("send cancel notice of %s to %s: %w", id, c.User(), err)
	}
	return nil
}

// serveCancel acts on a cancel notice from the peer on c and
// acknowledges it. Only the transfer's own sender can cancel it: an id
// of another peer's is left alone, and acknowledged all the same, as an
// unknown one is.
func (r *Receiver) serveCancel(ctx context.Context, c Conn, s Stream, f *wire.Frame) error {
	id, err := decodeCancel(f)
	if err != nil {
		refuse(s, err, err.Error())
		return fmt.Errorf("cancel notice from %s: %w", c.User(), err)
	}
	if r.cfg.Cancelled != nil {
		r.cfg.Cancelled(ctx, c.User(), id)
	}
	cause := fmt.Errorf("%w: the sender sent a cancel notice", ErrCancelled)
	if r.cancelTransfer(ctx, peerID(c), id, cause) {
		r.log.Info("sender cancelled transfer", "transfer", id, "peer", c.User())
	}
	s.SetWriteDeadline(time.Now().Add(abortTimeout))
	if err := writeEvent(s, opDone, nil); err != nil {
		return fmt.Errorf("acknowledge cancel notice from %s: %w", c.User(), err)
	}
	return nil
}

// decodeCancel checks a transfer.cancel frame and returns the id it
// names; errors wrap ErrProtocol.
func decodeCancel(f *wire.Frame) (string, error) {
	var b cancelBody
	if err := decodeEvent(f, opCancel, &b); err != nil {
		if !errors.Is(err, ErrProtocol) {
			err = fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		return "", err
	}
	if !checkpoint.ValidID(b.ID) {
		return "", fmt.Errorf("%w: cancel notice: bad transfer id", ErrProtocol)
	}
	return b.ID, nil
}

// cancelTransfer cancels transfer id for good: the attempt running, if
// any, ends with cause and cleans up after itself; otherwise the partial
// files and checkpoint the transfer left are removed now. With peer set
// (a key in hex) only that peer's transfer is touched. It reports
// whether there was such a transfer.
func (r *Receiver) cancelTransfer(ctx context.Context, peer, id string, cause error) bool {
	if r.stopRunning(peer, id, cause) {
		return true
	}
	cp, err := r.cfg.Progress.Load(ctx, id)
	if err != nil {
		r.log.Warn("cannot read the progress of a cancelled transfer", "transfer", id, "err", err)
		return false
	}
	if cp == nil || (peer != "" && cp.Peer != peer) {
		return false
	}
	// Hold the transfer's place while its files go, so that an attempt
	// arriving meanwhile waits (in claim) until they are gone.
	key := cp.Peer + "/" + id
	hold := &session{r: r, id: id, key: key, peer: cp.Peer, ctx: ctx, gone: make(chan struct{}), cancel: func(error) {}, log: r.log}
	r.mu.Lock()
	if t := r.sessions[key]; t != nil {
		r.mu.Unlock()
		t.cancel(cause) // it started meanwhile, and cleans up as it ends
		return true
	}
	r.sessions[key] = hold
	r.mu.Unlock()
	defer r.release(hold)
	hold.discardAt(cp)
	r.log.Info("cancelled a transfer waiting to resume", "transfer", id)
	return true
}

// stopRunning cancels the attempts at transfer id (of peer, if set)
// with cause, and reports whether there was one.
func (r *Receiver) stopRunning(peer, id string, cause error) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	found := false
	for _, t := range r.sessions {
		if t.id == id && (peer == "" || t.peer == peer) {
			t.cancel(cause)
			found = true
		}
	}
	return found
}

// decideWatch reads the control stream while Decide runs: a sender says
// nothing before the answer except to abort, so a frame then is its
// abort (a cancel), and an end of the stream means it went away. Either
// ends the session's context with that reason, which ends Decide.
type decideWatch struct {
	t       *session
	done    chan struct{}
	stopped chan struct{}
	err     error // set before done closes
}

// watchControl starts watching t's control stream; stop ends it.
func (t *session) watchControl() *decideWatch {
	w := &decideWatch{t: t, done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(w.done)
		// Peek consumes nothing, so a stop before any byte leaves the
		// stream as it was for the frames after the answer.
		if _, err := t.br.Peek(1); err != nil {
			select {
			case <-w.stopped:
				return
			default:
			}
			w.err = fmt.Errorf("%w: sender went away: %w", ErrInterrupted, err)
		} else {
			w.err = earlyFrame(t)
		}
		t.cancel(w.err)
	}()
	return w
}

// earlyFrame reads the frame a sender sent before the answer: its abort,
// as an error, or a protocol error.
func earlyFrame(t *session) error {
	f, err := readFrame(t.rd)
	if err != nil {
		return fmt.Errorf("%w: control stream: %w", ErrInterrupted, err)
	}
	if f.Op != opAbort {
		return fmt.Errorf("%w: %s before the answer", ErrProtocol, f.Op)
	}
	return decodeEvent(f, opDone, nil)
}

// stop ends the watch and returns what it saw: nil if the sender said
// nothing.
func (w *decideWatch) stop() error {
	close(w.stopped)
	w.t.ctl.SetReadDeadline(time.Now())
	<-w.done
	w.t.ctl.SetReadDeadline(time.Time{})
	return w.err
}
