package direct

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/quic-go/quic-go"
)

// Exchange sends req on a new stream of the given kind and returns the
// peer's one reply frame. The reply may be at most max bytes
// (wire.DefaultMaxFrame if max <= 0). Exchange gives up when ctx is done,
// and after Options.ExchangeTimeout when ctx has no earlier deadline.
//
// The accepting side reads one frame from the stream AcceptStream
// returned (bounding it with wire.NewReader and a deadline of its own),
// writes one reply frame and closes the stream.
func Exchange(ctx context.Context, c *Conn, kind StreamKind, req *wire.Frame, max int) (*wire.Frame, error) {
	deadline := time.Now().Add(c.exchange)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	s, err := c.OpenStream(ctx, kind)
	if err != nil {
		return nil, fmt.Errorf("exchange %s with %s: %w", req.Op, c.user, err)
	}
	// Close also releases the stream if the peer never ends its side.
	defer s.Close()
	// When ctx ends (cancelled, or at the deadline) the stream is aborted,
	// which wakes a blocked Read or Write at once and tells the peer.
	stop := context.AfterFunc(ctx, func() { s.abort(StreamCodeCancelled) })
	defer stop()

	fail := func(err error) (*wire.Frame, error) {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ErrUnknownStreamKind) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return nil, fmt.Errorf("exchange %s with %s: %w", req.Op, c.user, err)
	}
	sendErr := wire.WriteFrame(s, req)
	if sendErr == nil {
		sendErr = s.CloseWrite()
	}
	// A peer may answer before it has read all of the request (a refusal)
	// and stop our sending as it closes: its answer is still to be read.
	if sendErr != nil && !stoppedByPeer(sendErr) {
		return fail(fmt.Errorf("send request: %w", sendErr))
	}
	rd := wire.NewReader(s, max)
	rd.SetBudget(c.budget)
	defer rd.Release()
	reply, err := rd.ReadFrame()
	if err != nil {
		if sendErr != nil {
			return fail(fmt.Errorf("send request: %w", sendErr))
		}
		return fail(fmt.Errorf("read reply: %w", err))
	}
	return reply, nil
}

// stoppedByPeer reports whether err is the peer asking us to stop
// sending on a stream, as it does when it closes the stream.
func stoppedByPeer(err error) bool {
	serr, ok := errors.AsType[*quic.StreamError](err)
	return ok && serr.Remote
}
