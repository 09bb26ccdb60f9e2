package messaging

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// Time bounds of one message and of a throughput round.
const (
	// sendTimeout bounds one Send call (the daemon gives up its first
	// try after 8s and queues the message).
	sendTimeout = 15 * time.Second
	// arrivalTimeout bounds the wait for one message at the receiver.
	arrivalTimeout = 15 * time.Second
	// slowSend is a Send that took long enough to have waited for a
	// direct dial to time out (the daemon's dial timeout is 3s).
	slowSend = time.Second
	// drainTimeout bounds the wait for the last messages once sending
	// stopped (a message the daemon queued is retried after 5s).
	drainTimeout = 10 * time.Second
	// maxSendErrors ends a sender after this many failures in a row.
	maxSendErrors = 10
)

// round is what one timed round measured.
type round struct {
	lat     []time.Duration // per arrived message: Send called → event read at the receiver
	total   int             // messages sent, warm-up included
	sent    int             // timed Sends that succeeded
	arrived int             // of those, how many reached the receiver
	elapsed time.Duration   // first Send called → last arrival
	sendVia stats.Tally     // how Send said each message went
	recvVia stats.Tally     // how the receiver said each one came
	errs    stats.Tally     // failed Sends, by the API's error code
	slow    int             // Sends that took over slowSend
	// requests is how many server requests each message cost, by
	// operation, counting everything until the round settled (the
	// receiver's acknowledgement and receipt too); nil if not scraped.
	requests map[string]float64
}

// rate is the messages per second that arrived over the round.
func (r round) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.arrived) / r.elapsed.Seconds()
}

// brief summarises a round for the progress output.
func (r round) brief() string {
	return fmt.Sprintf("%s msg/s (%d of %d sent arrived), p50 %s ms, p99 %s ms, sent via %s", stats.Number(r.rate()), r.arrived, r.sent,
		stats.Number(stats.Millis(stats.Percentile(r.lat, 0.50))), stats.Number(stats.Millis(stats.Percentile(r.lat, 0.99))), r.sendVia)
}

// runRound has each of senders (API clients of alice's daemon) send
// messages to `to`. One at a time (latency): warmup untimed messages,
// then n, each only after the one before has arrived, so every message
// finds the path idle; a failed Send or a lost message ends the round
// with an error. Otherwise (throughput): back to back, each Send right
// after the last returned, until n went in all or tputTime passed, then
// up to drainTimeout for them to arrive. A latency runs from just before
// the Send call to the event read at the receiver; the rate counts
// arrivals, from the first Send to the last arrival.
func runRound(ctx context.Context, senders []*api.Client, to *peer, label string, warmup, n int, oneAtATime bool) (round, error) {
	r := round{sendVia: stats.Tally{}, recvVia: stats.Tally{}, errs: stats.Tally{}}
	start := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var roundErr error
	sent := map[string]time.Time{}
	var wg sync.WaitGroup
	for _, c := range senders {
		wg.Go(func() {
			for failures := 0; ctx.Err() == nil && failures < maxSendErrors && (oneAtATime || time.Since(start) < tputTime); {
				i := int(next.Add(1)) - 1
				if i >= warmup+n {
					return
				}
				// textSize bytes that name the round and the sequence
				// number, so a stray message is easy to place in a history.
				text := fmt.Sprintf("msgload %s #%d ", label, i)
				sctx, cancel := context.WithTimeout(ctx, sendTimeout)
				t0 := time.Now()
				res, err := c.Send(sctx, api.SendRequest{Target: to.Name, Text: text + strings.Repeat("x", max(textSize-len(text), 0))})
				took := time.Since(t0)
				cancel()
				if err == nil && oneAtATime {
					actx, cancel := context.WithTimeout(ctx, arrivalTimeout)
					if _, err = to.events.wait(actx, res.ID); err != nil {
						err = fmt.Errorf("#%d (sent via %s): %w", i, res.Via, err)
					}
					cancel()
				}
				mu.Lock()
				if err == nil {
					r.total++ // every message sent, the warm-up too
				}
				var e *api.Error
				switch {
				case err != nil && oneAtATime:
					roundErr, failures = fmt.Errorf("%s: message to %s: %w", label, to.Name, err), maxSendErrors
				case errors.As(err, &e):
					failures++
					r.errs[e.Code]++
				case err != nil:
					failures++
					r.errs["transport"]++
				case i >= warmup:
					failures = 0
					sent[res.ID] = t0
					r.sendVia[res.Via]++
					if took > slowSend {
						r.slow++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if roundErr != nil {
		return r, roundErr
	}
	dctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	r.sent = len(sent)
	var last time.Time
	for id, t0 := range sent {
		a, err := to.events.wait(dctx, id)
		if err != nil && dctx.Err() == nil {
			return r, err
		} else if err != nil {
			continue
		}
		r.arrived++
		r.lat = append(r.lat, a.at.Sub(t0))
		r.recvVia[a.via]++
		if a.at.After(last) {
			last = a.at
		}
	}
	if r.arrived > 0 {
		r.elapsed = last.Sub(start)
	}
	return r, ctx.Err()
}

// arrivals follows a receiver's event stream and records when each
// message from one sender showed up there, by message id.
type arrivals struct {
	from   string
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	got     map[string]arrival
	changed chan struct{} // closed and replaced at every arrival
	err     error         // why the stream ended, once it has
}

// arrival is one message seen on the receiver's stream.
type arrival struct {
	at  time.Time // when the benchmark read the event
	via string    // how the receiver says it came: direct or relay
}

// watch subscribes to d's events and records the messages from sender.
// It returns once the daemon has accepted the subscription, so nothing
// sent afterwards is missed.
func watch(ctx context.Context, d *testbed.Daemon, sender string) (*arrivals, error) {
	ctx, cancel := context.WithCancel(ctx)
	s, err := d.API.Events(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscribe to %s's events: %w", d.Name, err)
	}
	a := &arrivals{from: sender, cancel: cancel, done: make(chan struct{}), got: map[string]arrival{}, changed: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer s.Close()
		for {
			ev, err := s.Next()
			if err != nil {
				a.see(api.Event{}, fmt.Errorf("%s's event stream ended: %w", d.Name, err))
				return
			}
			a.see(ev, nil)
		}
	}()
	return a, nil
}

// see records ev if it is a message from the watched sender, or that
// the stream ended with err, and wakes the waiters.
func (a *arrivals) see(ev api.Event, err error) {
	m := ev.Message
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err != nil:
		if a.err == nil {
			a.err = err
		}
	case ev.Type != api.EventMessage || m == nil || m.Outgoing || m.From != a.from:
		return
	default:
		if _, dup := a.got[m.ID]; dup {
			return
		}
		a.got[m.ID] = arrival{at: time.Now(), via: m.Via}
	}
	close(a.changed)
	a.changed = make(chan struct{})
}

// wait returns the arrival of message id, waiting for it until ctx ends.
func (a *arrivals) wait(ctx context.Context, id string) (arrival, error) {
	for {
		a.mu.Lock()
		got, ok := a.got[id]
		err, changed := a.err, a.changed
		a.mu.Unlock()
		switch {
		case ok:
			return got, nil
		case err != nil:
			return arrival{}, err
		}
		select {
		case <-ctx.Done():
			return arrival{}, fmt.Errorf("message %s did not arrive: %w", id, ctx.Err())
		case <-changed:
		}
	}
}

// close ends the subscription and waits for its goroutine.
func (a *arrivals) close() {
	a.cancel()
	<-a.done
}
