package link

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
)

// relayItemOverhead is what one envelope adds to a relay.send frame
// besides its base64 bytes: field names, its recipient and id, quotes.
const relayItemOverhead = 128

// relayCallTimeout bounds one relay.send request, which runs whatever
// its leader's context says (others wait for it too).
const relayCallTimeout = 30 * time.Second

// relayFrameSlack is kept free in a relay.send frame for the frame's own
// fields.
const relayFrameSlack = 1024

// relayQueue makes one relay.send request of the envelopes that concurrent
// callers of Relay hand it. It has no goroutine: the first caller to find
// no request in flight sends everything queued so far; envelopes that
// arrive meanwhile go in the next request, sent by the oldest of their
// callers. Alone an envelope costs one request, as before; under load a
// request carries whatever arrived during the one before.
type relayQueue struct {
	mu      sync.Mutex
	queue   []*relayCall
	sending bool
}

// relayCall is one caller's envelope.
type relayCall struct {
	env  wire.RelayEnvelope
	wake chan struct{}
	lead bool
	done bool
	res  wire.RelaySendResult
	err  error
}

// Relay stores one sealed envelope on the server's relay, in a relay.send
// request it may share with envelopes of concurrent callers (several
// recipients' too). It returns once the server committed the envelope:
// nil for "queued" and "duplicate" alike, the envelope's own refusal as a
// *wire.Error, or the request's error (wrapping ErrOffline when the link
// is down).
func (l *Link) Relay(ctx context.Context, env wire.RelayEnvelope) error {
	return l.wait(ctx, l.enqueue([]wire.RelayEnvelope{env})[0])
}

// RelayMany stores envs on the server's relay as Relay does each, but
// queues them all at once, so they leave in as few relay.send requests
// as the batch and frame limits allow (a group message's copies: one
// request up to wire.MaxRelayBatch envelopes). It returns one result per
// envelope, in order, once every one is settled.
func (l *Link) RelayMany(ctx context.Context, envs []wire.RelayEnvelope) []error {
	calls := l.enqueue(envs)
	errs := make([]error, len(calls))
	for i, rc := range calls {
		errs[i] = l.wait(ctx, rc)
	}
	return errs
}

// enqueue queues envs in order; the first takes the lead when no request
// is in flight.
func (l *Link) enqueue(envs []wire.RelayEnvelope) []*relayCall {
	q := &l.relay
	calls := make([]*relayCall, len(envs))
	q.mu.Lock()
	for i, env := range envs {
		calls[i] = &relayCall{env: env, wake: make(chan struct{}, 1)}
		q.queue = append(q.queue, calls[i])
	}
	if !q.sending && len(calls) > 0 {
		q.sending = true
		calls[0].lead = true
	}
	q.mu.Unlock()
	return calls
}

// wait sends requests while rc leads and returns rc's result once its
// request is answered.
func (l *Link) wait(ctx context.Context, rc *relayCall) error {
	q := &l.relay
	for {
		q.mu.Lock()
		done, lead := rc.done, rc.lead
		q.mu.Unlock()
		if done {
			return rc.result()
		}
		if lead {
			l.sendRelayBatch(ctx)
			continue
		}
		select {
		case <-rc.wake:
		case <-ctx.Done():
			q.mu.Lock()
			if rc.lead || rc.done {
				q.mu.Unlock()
				continue
			}
			for i, o := range q.queue {
				if o == rc {
					q.queue = append(q.queue[:i], q.queue[i+1:]...)
					q.mu.Unlock()
					return fmt.Errorf("%s: %w", wire.OpRelaySend, ctx.Err())
				}
			}
			q.mu.Unlock()
			<-rc.wake // in a request in flight: its answer comes
		}
	}
}

func (rc *relayCall) result() error {
	if rc.err != nil {
		return rc.err
	}
	if rc.res.Error != nil {
		return rc.res.Error
	}
	return nil
}

// sendRelayBatch sends one request with what is queued, as much as one
// frame takes, and hands the lead on to the oldest envelope left.
func (l *Link) sendRelayBatch(ctx context.Context) {
	q := &l.relay
	l.mu.Lock()
	c := l.c
	l.mu.Unlock()
	maxFrame := wire.DefaultMaxFrame
	if c != nil && c.Hello().MaxFrame > 0 {
		maxFrame = c.Hello().MaxFrame
	}

	q.mu.Lock()
	n, raw, encoded := 0, 0, relayFrameSlack
	for n < len(q.queue) && n < wire.MaxRelayBatch {
		size := len(q.queue[n].env.Envelope)
		enc := (size+2)/3*4 + relayItemOverhead
		if n > 0 && (raw+size > maxFrame/2 || encoded+enc > maxFrame) {
			break
		}
		raw, encoded = raw+size, encoded+enc
		n++
	}
	batch := append([]*relayCall(nil), q.queue[:n]...)
	q.queue = append(q.queue[:0], q.queue[n:]...)
	for _, rc := range batch {
		rc.lead = false
	}
	q.mu.Unlock()

	req := wire.RelaySendRequest{Envelopes: make([]wire.RelayEnvelope, len(batch))}
	for i, rc := range batch {
		req.Envelopes[i] = rc.env
	}
	// The request does not run under the leader's context: it must not
	// end with the leader giving up while others wait for it.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), relayCallTimeout)
	var resp wire.RelaySendResponse
	err := l.callOn(cctx, c, wire.OpRelaySend, req, &resp)
	cancel()
	if err == nil && len(resp.Results) != len(batch) {
		err = fmt.Errorf("%s: the server answered %d envelopes with %d results", wire.OpRelaySend, len(batch), len(resp.Results))
	}

	q.mu.Lock()
	for i, rc := range batch {
		rc.done = true
		if err != nil {
			rc.err = err
		} else {
			rc.res = resp.Results[i]
		}
		select {
		case rc.wake <- struct{}{}:
		default:
		}
	}
	if len(q.queue) > 0 {
		next := q.queue[0]
		next.lead = true
		select {
		case next.wake <- struct{}{}:
		default:
		}
	} else {
		q.sending = false
	}
	q.mu.Unlock()
}
