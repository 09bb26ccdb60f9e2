package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

const (
	// callTimeout bounds one request: a relay.send or relay.ack in the
	// timed part (not the phase's deadline: a send already on the wire
	// when the phase ends may finish and is counted), or a set-up step.
	callTimeout = 10 * time.Second
	// drainTimeout bounds the wait, after the senders stop, for
	// recipients to receive what the server acknowledged.
	drainTimeout = 10 * time.Second
	// userPassword is every benchmark user's.
	userPassword = "rvload user password"
)

// account is a user the load generator acts as, idle or in the relay
// phase. Each has its own identity key (the server gives a key to one
// account only), but all publish one HPKE key, each signed for its own
// name: the server never opens an envelope, nor do the recipients here,
// and making 20,000 ML-KEM key pairs would only cost the load generator
// time.
type account struct {
	name     string
	identity ed25519.PrivateKey
	prekey   keys.SignedPrekey
}

// sharedPrekey is the HPKE key every account publishes.
func sharedPrekey() (keys.SignedPrekey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return keys.SignedPrekey{}, err
	}
	pk, _, err := keys.NewPrekey(priv, "rvload", time.Now(), 7*24*time.Hour)
	return pk, err
}

func newAccount(name string, shared keys.SignedPrekey) (*account, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	pk, err := keys.SignPrekey(priv, name, shared)
	return &account{name: name, identity: priv, prekey: pk}, err
}

// enroll registers a through call, which makes one request; if the name
// is taken (a server kept from an earlier run) it logs in instead.
func (a *account) enroll(server keys.ServerID, call func(op string, body any) error) error {
	proof, err := keys.SignProof(a.identity, a.name, server)
	if err != nil {
		return err
	}
	err = call(wire.OpRegister, wire.RegisterRequest{Username: a.name, Password: userPassword,
		IdentityKey: a.identity.Public().(ed25519.PublicKey), Prekey: a.prekey, KeyProof: proof})
	if isCode(err, wire.CodeUsernameTaken) {
		err = call(wire.OpLogin, wire.LoginRequest{Username: a.name, Password: userPassword})
	}
	if err != nil {
		return fmt.Errorf("%s: %w", a.name, err)
	}
	return nil
}

// user is an account logged in on its own rendezvous/client connection.
type user struct {
	*account
	c *client.Client
}

// call makes one request, bounded by callTimeout.
func (u *user) call(op string, body, resp any) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return u.c.Call(ctx, op, body, resp)
}

// befriend makes u and v friends: u asks, v accepts. Friends already (an
// earlier run) is fine.
func (u *user) befriend(v *user) error {
	var resp wire.FriendRequestResponse
	err := u.call(wire.OpFriendRequest, wire.UserRequest{Username: v.name}, &resp)
	if err == nil && resp.Status != "accepted" {
		err = v.call(wire.OpFriendAccept, wire.UserRequest{Username: u.name}, nil)
	}
	if err != nil && !isCode(err, wire.CodeConflict) {
		return fmt.Errorf("befriend %s and %s: %w", u.name, v.name, err)
	}
	return nil
}

// pair is a sender and its recipient, friends. The sender relays
// pre-sealed envelopes to the recipient, who acknowledges each as it
// arrives.
type pair struct {
	sender, recipient *user
	pool              []sealed

	mu     sync.Mutex
	sentAt map[string]time.Time // id → when its relay.send began; deleted on delivery or failure
}

// sealed is one pre-sealed envelope.
type sealed struct {
	id  string
	env []byte
}

// relayRun is the relay phase: the pairs, the probe, and what they
// measured.
type relayRun struct {
	cfg    *config
	prekey keys.SignedPrekey
	pairs  []*pair
	probe  *user
	conns  []*client.Client // every connection of the phase, for close
	mu     sync.Mutex       // guards conns
	events sync.WaitGroup   // one event consumer per connection, ending when it closes

	window                                atomic.Bool  // the timed part is running
	queued                                atomic.Int64 // relay.send answered in the timed part
	delivered                             atomic.Int64 // relay events received in the timed part
	total                                 atomic.Int64 // relay events received, timed part and drain
	exhausted                             atomic.Int64 // senders that used their whole pool
	probeRounds                           int          // fewer than the rate × time means the server held the probe up
	sendErrs, ackErrs, probeErrs          stats.Counts
	sendLat, deliverLat, listLat, pingLat stats.Latencies
}

// join logs a fresh account called name in on a connection of its own
// to addr, whose events consume takes until the connection closes
// (nil: they are dropped).
func (r *relayRun) join(ctx context.Context, name, addr string, consume func(*client.Client)) (*user, error) {
	a, err := newAccount(name, r.prekey)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := client.Dial(ctx, addr, client.Options{Fingerprint: r.cfg.fingerprint, ClientName: "rvload", EventBuffer: 1024})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	r.events.Go(func() {
		if consume != nil {
			consume(c)
		}
		for range c.Events() { // drop what consume left
		}
	})
	u := &user{a, c}
	return u, a.enroll(r.cfg.serverID, func(op string, body any) error { return u.call(op, body, nil) })
}

// setup registers the sender/recipient pairs and befriends them, sets up
// the probe, which befriends every recipient so its friends.list has
// some weight, and pre-seals the senders' envelopes on all CPUs, so that
// sealing is not part of what is timed. It stops at the first failure.
func (r *relayRun) setup(ctx context.Context) error {
	cfg := r.cfg
	r.pairs = make([]*pair, cfg.senders)
	errs := make([]error, cfg.senders)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range r.pairs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p := &pair{sentAt: make(map[string]time.Time)}
			r.pairs[i] = p
			if p.sender, errs[i] = r.join(ctx, fmt.Sprintf("relay-s-%03d", i+1), cfg.addr, nil); errs[i] != nil {
				return
			}
			if p.recipient, errs[i] = r.join(ctx, fmt.Sprintf("relay-r-%03d", i+1), cfg.recipientAddr, func(c *client.Client) { r.receive(p, c) }); errs[i] != nil {
				return
			}
			if errs[i] = p.sender.befriend(p.recipient); errs[i] == nil {
				errs[i] = p.seal(ctx, cfg)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var err error
	if r.probe, err = r.join(ctx, "rvload-probe", cfg.addr, nil); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	for _, p := range r.pairs {
		if err := r.probe.befriend(p.recipient); err != nil {
			return fmt.Errorf("probe: %w", err)
		}
	}
	return nil
}

// seal seals cfg.pool envelopes, each with a fresh random 128-bit id.
// With cfg.sealed above 0, only that many are sealed and the rest of the
// pool repeats their bytes under fresh ids: the server stores and
// forwards envelopes without opening them.
func (p *pair) seal(ctx context.Context, cfg *config) error {
	p.pool = make([]sealed, 0, cfg.pool)
	for i := range cfg.pool {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("seal envelopes: %w", err)
		}
		var raw [16]byte // a fresh random 128-bit id
		rand.Read(raw[:])
		id := hex.EncodeToString(raw[:])
		if cfg.sealed > 0 && i >= cfg.sealed {
			p.pool = append(p.pool, sealed{id, p.pool[i%cfg.sealed].env})
			continue
		}
		env, err := envelope.Seal(envelope.Message{ID: id, From: p.sender.name, To: p.recipient.name, Sent: time.Now(),
			Kind: "text", Body: []byte(messageText(p.sender.name, i, cfg.bodySize))}, p.sender.identity, p.recipient.prekey)
		if err != nil {
			return fmt.Errorf("seal a message from %s: %w", p.sender.name, err)
		}
		p.pool = append(p.pool, sealed{id, env})
	}
	return nil
}

// messageText makes a chat message of exactly size bytes.
func messageText(from string, i, size int) string {
	s := fmt.Sprintf("message %d from %s: ", i, from)
	const filler = "the quick brown fox jumps over the lazy dog. "
	return (s + strings.Repeat(filler, size/len(filler)+1))[:size]
}

// receive runs a recipient's event loop until its connection closes: it
// counts each relayed envelope and acknowledges it at once, as a daemon
// does after storing it. With --ack-batch above 1, envelopes that are
// already waiting in the event buffer share one relay.ack, up to that
// many ids. Envelopes left from an earlier run are acknowledged but not
// counted.
func (r *relayRun) receive(p *pair, rc *client.Client) {
	ids := make([]wire.RelayRef, 0, r.cfg.ackBatch)
	for f := range rc.Events() {
		ids = r.take(p, f, ids[:0])
	gather:
		for len(ids) < r.cfg.ackBatch {
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
		if len(ids) > 0 {
			if err := p.recipient.call(wire.OpRelayAck, wire.RelayAckRequest{Acks: ids}, nil); err != nil {
				r.ackErrs.Add(errKind(err))
			}
		}
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
	if json.Unmarshal(f.Body, &batch) != nil {
		return ids // the client checked the frame; the server sends well-formed bodies
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

// run sends from every sender for --duration, with the probe going at
// its rate, and returns the length of the timed part: the duration plus
// the last sends' round trips.
func (r *relayRun) run(ctx context.Context) time.Duration {
	tctx, cancel := context.WithTimeout(ctx, r.cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	r.window.Store(true)
	for i, p := range r.pairs {
		wg.Go(func() { r.send(tctx, p, i, start) })
	}
	wg.Go(func() { r.runProbe(tctx) })
	wg.Wait()
	r.window.Store(false)
	return time.Since(start)
}

// send relays p's pool to its recipient, --send-batch envelopes per
// relay.send, until ctx ends or the pool is used up: back to back, or
// with --rate when due (a request that is late goes at once), each
// sender i sending its share evenly from the phase's start, the
// senders' turns spread over the interval.
func (r *relayRun) send(ctx context.Context, p *pair, i int, phase time.Time) {
	var due func(n int) time.Time
	if r.cfg.rate > 0 {
		every := time.Duration(float64(time.Second) * float64(r.cfg.sendBatch*len(r.pairs)) / r.cfg.rate)
		first := phase.Add(every * time.Duration(i) / time.Duration(len(r.pairs)))
		due = func(n int) time.Time { return first.Add(every * time.Duration(n)) }
	}
	forget := func(batch []sealed) {
		p.mu.Lock()
		for _, e := range batch {
			delete(p.sentAt, e.id)
		}
		p.mu.Unlock()
	}
	for n, pool := 0, p.pool; len(pool) > 0; n++ {
		start := time.Now()
		if due != nil {
			sleepCtx(ctx, time.Until(due(n)))
			// A late request is timed from when it was due, so that the
			// server holding senders up shows in the latency.
			if start = time.Now(); due(n).Before(start) {
				start = due(n)
			}
		}
		if ctx.Err() != nil {
			return
		}
		batch := pool[:min(len(pool), r.cfg.sendBatch)]
		pool = pool[len(batch):]
		req := wire.RelaySendRequest{Envelopes: make([]wire.RelayEnvelope, len(batch))}
		p.mu.Lock()
		for i, e := range batch {
			p.sentAt[e.id] = start
			req.Envelopes[i] = wire.RelayEnvelope{To: p.recipient.name, ID: e.id, Envelope: e.env}
		}
		p.mu.Unlock()
		var resp wire.RelaySendResponse
		err := p.sender.call(wire.OpRelaySend, req, &resp)
		lat := time.Since(start)
		if err == nil && len(resp.Results) != len(batch) {
			err = fmt.Errorf("%d results for %d envelopes", len(resp.Results), len(batch))
		}
		if err != nil {
			forget(batch)
			r.sendErrs.Add(errKind(err))
			var werr *wire.Error
			if errors.As(err, &werr) && werr.Code == wire.CodeRateLimited {
				sleepCtx(ctx, time.Duration(werr.RetryAfterMS)*time.Millisecond)
			} else if p.sender.c.Err() != nil {
				return // the connection is gone
			}
			continue
		}
		r.sendLat.Add(lat)
		for i, res := range resp.Results {
			if res.Error != nil {
				forget(batch[i : i+1])
				r.sendErrs.Add(res.Error.Code)
			} else { // "queued": ids are fresh and random, never "duplicate"
				r.queued.Add(1)
			}
		}
	}
	r.exhausted.Add(1)
}

// runProbe makes the probe's requests at --probe-rate until ctx ends:
// a separate user's light requests, to show what an ordinary user waits
// for while the senders load the server. A round that takes longer than
// the interval delays the next (the ticker drops ticks), which shows as
// fewer rounds than planned.
func (r *relayRun) runProbe(ctx context.Context) {
	if r.cfg.probeRate <= 0 {
		return
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / r.cfg.probeRate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.probeRounds++
		for _, c := range []struct {
			op   string
			resp any
			lat  *stats.Latencies
		}{{wire.OpFriendsList, &wire.FriendsListResponse{}, &r.listLat}, {wire.OpPing, nil, &r.pingLat}} {
			start := time.Now()
			if err := r.probe.call(c.op, wire.Empty{}, c.resp); err == nil {
				c.lat.Add(time.Since(start))
			} else if ctx.Err() == nil {
				r.probeErrs.Add(c.op + " " + errKind(err))
			}
		}
	}
}

// drain waits, up to drainTimeout, for the recipients to receive every
// envelope the server acknowledged.
func (r *relayRun) drain(ctx context.Context) {
	deadline := time.Now().Add(drainTimeout)
	for r.total.Load() < r.queued.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
		sleepCtx(ctx, 20*time.Millisecond)
	}
}

// close closes every connection of the phase and waits for their event
// consumers.
func (r *relayRun) close() {
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.events.Wait()
}

// isCode reports whether err is a protocol error with the given code.
func isCode(err error, code string) bool {
	var werr *wire.Error
	return errors.As(err, &werr) && werr.Code == code
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
