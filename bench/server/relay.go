package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// relayCallTimeout bounds one relay.send or relay.ack in the timed part.
// It is not the phase's deadline: a send already on the wire when the
// phase ends is allowed to finish and be counted.
const relayCallTimeout = 10 * time.Second

// drainTimeout bounds the wait, after the senders stop, for recipients to
// receive what the server acknowledged.
const drainTimeout = 10 * time.Second

// sealed is one pre-sealed envelope.
type sealed struct {
	id  string
	env []byte
}

// pair is a sender and its recipient, friends, each on its own
// connection. The sender relays pre-sealed envelopes to the recipient,
// who acknowledges each as it arrives.
type pair struct {
	sender, recipient *account
	sc, rc            *client.Client
	pool              []sealed

	mu     sync.Mutex
	sentAt map[string]time.Time // id → when its relay.send began; deleted on delivery
}

// relayRun is the relay phase: the pairs, the probe, and what they
// measured.
type relayRun struct {
	addr      string // senders and the probe connect here
	raddr     string // recipients connect here
	opts      client.Options
	ackBatch  int     // most ids in one relay.ack
	sendBatch int     // envelopes per relay.send
	rate      float64 // messages per second from all senders; 0: back to back

	pairs []*pair
	probe *prober

	// Owned goroutines: event consumers of every connection, which end
	// when their connection closes.
	consumers sync.WaitGroup

	window     atomic.Bool  // the timed part is running
	queued     atomic.Int64 // relay.send answered "queued" in the timed part
	duplicates atomic.Int64 // relay.send answered "duplicate"
	delivered  atomic.Int64 // relay events received in the timed part
	total      atomic.Int64 // relay events received, timed part and drain
	exhausted  atomic.Int64 // senders that used their whole pool
	sendErrs   counts
	ackErrs    counts
	sendLat    latencies // relay.send round trip
	deliverLat latencies // relay.send start → relay event at the recipient
}

// newRelayRun prepares the relay phase.
func newRelayRun(addr string, opts client.Options, ackBatch, sendBatch int) *relayRun {
	return &relayRun{addr: addr, raddr: addr, opts: opts, ackBatch: min(max(ackBatch, 1), wire.MaxAckIDs), sendBatch: min(max(sendBatch, 1), wire.MaxRelayBatch)}
}

// dial opens a client connection to addr and starts the goroutine that
// consumes its events: consume, or a loop that discards them when consume
// is nil. consume must return when the Events channel closes.
func (r *relayRun) dial(ctx context.Context, addr string, consume func(*client.Client)) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := client.Dial(ctx, addr, r.opts)
	if err != nil {
		return nil, err
	}
	if consume == nil {
		consume = func(c *client.Client) {
			for range c.Events() {
			}
		}
	}
	r.consumers.Add(1)
	go func() {
		defer r.consumers.Done()
		consume(c)
	}()
	return c, nil
}

// setup registers n sender/recipient pairs, befriends them, and sets up
// the probe, which befriends every recipient so its friends.list has
// some weight. It stops at the first failure.
func (r *relayRun) setup(ctx context.Context, n int, probeRate float64) error {
	r.pairs = make([]*pair, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = r.setupPair(ctx, i)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	p, err := r.setupProbe(ctx, probeRate)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	r.probe = p
	return nil
}

// setupPair sets up pair i and stores it in r.pairs, even half made, so
// that close closes whatever it opened.
func (r *relayRun) setupPair(ctx context.Context, i int) error {
	s, err := newAccount(fmt.Sprintf("relay-s-%03d", i+1), "")
	if err != nil {
		return err
	}
	rec, err := newAccount(fmt.Sprintf("relay-r-%03d", i+1), "")
	if err != nil {
		return err
	}
	p := &pair{sender: s, recipient: rec, sentAt: make(map[string]time.Time)}
	r.pairs[i] = p
	if p.sc, err = r.dial(ctx, r.addr, nil); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if err := s.enroll(ctx, p.sc); err != nil {
		return err
	}
	if p.rc, err = r.dial(ctx, r.raddr, func(c *client.Client) { r.receive(p, c) }); err != nil {
		return fmt.Errorf("%s: %w", rec.name, err)
	}
	if err := rec.enroll(ctx, p.rc); err != nil {
		return err
	}
	return befriend(ctx, s, p.sc, rec, p.rc)
}

// receive runs a recipient's event loop until its connection closes: it
// counts each relayed envelope and acknowledges it at once, as a daemon
// does after storing it. With ackBatch above 1, envelopes that are already
// waiting in the event buffer share one relay.ack, up to ackBatch ids.
// Envelopes left from an earlier run are acknowledged but not counted.
func (r *relayRun) receive(p *pair, rc *client.Client) {
	ids := make([]wire.RelayRef, 0, r.ackBatch)
	for f := range rc.Events() {
		ids = r.take(p, f, ids[:0])
	gather:
		for len(ids) < r.ackBatch {
			select {
			case f, ok := <-rc.Events():
				if !ok {
					break gather
				}
				ids = r.take(p, f, ids)
			default:
				break gather
			}
		}
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), relayCallTimeout)
		if err := rc.Call(ctx, wire.OpRelayAck, wire.RelayAckRequest{Acks: ids}, nil); err != nil {
			r.ackErrs.Add(errorCode(err))
		}
		cancel()
	}
}

// take counts f if it is a relayed envelope sent in this run and appends
// its id to ids for acknowledgement.
func (r *relayRun) take(p *pair, f *wire.Frame, ids []wire.RelayRef) []wire.RelayRef {
	if f.Op != wire.EvRelay {
		return ids
	}
	now := time.Now()
	var batch wire.RelayBatchEvent
	if err := json.Unmarshal(f.Body, &batch); err != nil {
		r.ackErrs.Add("bad relay event")
		return ids
	}
	for _, ev := range batch.Envelopes {
		p.mu.Lock()
		sent, ours := p.sentAt[ev.ID]
		delete(p.sentAt, ev.ID)
		p.mu.Unlock()
		if ours {
			r.total.Add(1)
			if r.window.Load() {
				r.delivered.Add(1)
			}
			r.deliverLat.Add(now.Sub(sent))
		}
		ids = append(ids, wire.RelayRef{From: ev.From, ID: ev.ID})
	}
	return ids
}

// seal pre-seals perSender envelopes for every pair, on all CPUs, so that
// sealing is not part of what is timed. Every envelope has a fresh random
// 128-bit id. With distinct above 0, only that many are sealed per pair
// and the rest of the pool repeats their bytes under fresh ids: the
// server stores and forwards envelopes without opening them.
func (r *relayRun) seal(ctx context.Context, perSender, distinct, bodySize int) error {
	jobs := make(chan *pair)
	errc := make(chan error, len(r.pairs))
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				errc <- p.sealPool(ctx, perSender, distinct, bodySize)
			}
		}()
	}
	for _, p := range r.pairs {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *pair) sealPool(ctx context.Context, n, distinct, bodySize int) error {
	p.pool = make([]sealed, 0, n)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("seal envelopes: %w", err)
		}
		if distinct > 0 && i >= distinct {
			p.pool = append(p.pool, sealed{newMessageID(), p.pool[i%distinct].env})
			continue
		}
		text := messageText(p.sender.name, i, bodySize)
		id, env, err := p.sender.seal(p.recipient.name, p.recipient.prekey, text)
		if err != nil {
			return err
		}
		p.pool = append(p.pool, sealed{id, env})
	}
	return nil
}

// messageText makes a chat message of exactly size bytes.
func messageText(from string, i, size int) string {
	s := fmt.Sprintf("message %d from %s: ", i, from)
	const filler = "the quick brown fox jumps over the lazy dog. "
	if len(s) < size {
		s += strings.Repeat(filler, (size-len(s))/len(filler)+1)
	}
	return s[:size]
}

// run sends back to back from every sender for d, with the probe going
// at its rate, and returns the length of the timed part: d plus the last
// sends' round trips.
func (r *relayRun) run(ctx context.Context, d time.Duration) time.Duration {
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	r.window.Store(true)
	for i, p := range r.pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.send(tctx, p, r.pace(i, start))
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.probe.run(tctx)
	}()
	wg.Wait()
	elapsed := time.Since(start)
	r.window.Store(false)
	return elapsed
}

// drain waits, up to drainTimeout, for the recipients to receive every
// envelope the server acknowledged.
func (r *relayRun) drain(ctx context.Context) {
	deadline := time.Now().Add(drainTimeout)
	for r.total.Load() < r.queued.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// pace returns when sender i's relay.send requests are due, for a phase
// that began at start: every sender sends its share of --rate evenly,
// the senders' turns spread over the interval. It returns nil when the
// senders go back to back.
func (r *relayRun) pace(i int, start time.Time) func(n int) time.Time {
	if r.rate <= 0 {
		return nil
	}
	every := time.Duration(float64(time.Second) * float64(r.sendBatch*len(r.pairs)) / r.rate)
	first := start.Add(every * time.Duration(i) / time.Duration(len(r.pairs)))
	return func(n int) time.Time { return first.Add(every * time.Duration(n)) }
}

// send relays p's pool to its recipient, sendBatch envelopes per
// relay.send, back to back or when due (a request that is late goes at
// once), until ctx ends or the pool is used up.
func (r *relayRun) send(ctx context.Context, p *pair, due func(n int) time.Time) {
	for n, pool := 0, p.pool; len(pool) > 0; n++ {
		if due != nil {
			sleepCtx(ctx, time.Until(due(n)))
		}
		if ctx.Err() != nil {
			return
		}
		batch := pool[:min(len(pool), r.sendBatch)]
		pool = pool[len(batch):]
		req := wire.RelaySendRequest{Envelopes: make([]wire.RelayEnvelope, len(batch))}
		start := time.Now()
		if due != nil && due(n).Before(start) {
			// Late: timed from when it was due, so that the server
			// holding senders up shows in the latency.
			start = due(n)
		}
		p.mu.Lock()
		for i, e := range batch {
			p.sentAt[e.id] = start
			req.Envelopes[i] = wire.RelayEnvelope{To: p.recipient.name, ID: e.id, Envelope: e.env}
		}
		p.mu.Unlock()
		cctx, cancel := context.WithTimeout(context.Background(), relayCallTimeout)
		var resp wire.RelaySendResponse
		err := p.sc.Call(cctx, wire.OpRelaySend, req, &resp)
		cancel()
		lat := time.Since(start)
		if err == nil && len(resp.Results) != len(batch) {
			err = fmt.Errorf("%d results for %d envelopes", len(resp.Results), len(batch))
		}
		if err != nil {
			p.mu.Lock()
			for _, e := range batch {
				delete(p.sentAt, e.id)
			}
			p.mu.Unlock()
			r.sendErrs.Add(errorCode(err))
			var werr *wire.Error
			if errors.As(err, &werr) && werr.Code == wire.CodeRateLimited {
				sleepCtx(ctx, time.Duration(werr.RetryAfterMS)*time.Millisecond)
			} else if p.sc.Err() != nil {
				return // the connection is gone
			}
			continue
		}
		r.sendLat.Add(lat)
		for i, res := range resp.Results {
			switch {
			case res.Error != nil:
				p.mu.Lock()
				delete(p.sentAt, batch[i].id)
				p.mu.Unlock()
				r.sendErrs.Add(res.Error.Code)
			case res.Status == "queued":
				r.queued.Add(1)
			default:
				r.duplicates.Add(1)
			}
		}
	}
	r.exhausted.Add(1)
}

// close closes every connection of the phase and waits for their event
// goroutines.
func (r *relayRun) close() {
	for _, p := range r.pairs {
		if p == nil {
			continue
		}
		for _, c := range []*client.Client{p.sc, p.rc} {
			if c != nil {
				c.Close()
			}
		}
	}
	if r.probe != nil && r.probe.c != nil {
		r.probe.c.Close()
	}
	r.consumers.Wait()
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
