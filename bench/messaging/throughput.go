package messaging

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// Bounds of a throughput round beyond its count and sending time.
const (
	// drainTimeout bounds the wait for the last messages once sending
	// stopped (a message the daemon queued is retried after 5s).
	drainTimeout = 10 * time.Second
	// maxSendErrors ends a sender after this many failures in a row.
	maxSendErrors = 10
)

// sentMessage is one successful Send of a throughput round.
type sentMessage struct {
	id  string
	at  time.Time // just before the Send call
	via string
}

// throughputRound has each of senders (one API client each, all of the
// same user) send messages to `to` back to back, each Send right after the
// last returned, until tputCount messages went in all or tputTime passed. It
// then waits up to drainTimeout for them to arrive. The rate counts
// arrivals, from the first Send to the last arrival.
func throughputRound(ctx context.Context, senders []*api.Client, to *peer, label string) (round, error) {
	r := newRound()
	start := time.Now()
	deadline := start.Add(tputTime)
	var next atomic.Int64
	var mu sync.Mutex
	var sent []sentMessage
	var wg sync.WaitGroup
	for _, c := range senders {
		wg.Go(func() {
			failures := 0
			for ctx.Err() == nil && time.Now().Before(deadline) && failures < maxSendErrors {
				i := int(next.Add(1)) - 1
				if i >= tputCount {
					return
				}
				t0 := time.Now()
				sctx, cancel := context.WithTimeout(ctx, sendTimeout)
				res, err := c.Send(sctx, api.SendRequest{Target: to.Name, Text: messageText(label, i, textSize)})
				cancel()
				took := time.Since(t0)
				mu.Lock()
				if err != nil {
					failures++
					r.errs[errorCode(err)]++
				} else {
					failures = 0
					sent = append(sent, sentMessage{id: res.ID, at: t0, via: res.Via})
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

	ids := make([]string, len(sent))
	for i, m := range sent {
		ids[i] = m.id
	}
	dctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	got, err := to.events.waitAll(dctx, ids)
	if err != nil {
		return r, err
	}
	r.sent, r.total = len(sent), len(sent)
	var last time.Time
	for _, m := range sent {
		a, ok := got[m.id]
		if !ok {
			continue
		}
		r.arrived++
		r.lat = append(r.lat, a.at.Sub(m.at))
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
