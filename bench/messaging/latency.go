package messaging

import (
	"context"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// latencyRound sends warmup and then n messages from `from` to `to`, one
// at a time: each goes only after the one before has arrived, so every
// message finds the path idle. A message's latency runs from just before
// the Send call to the moment its event is read from the receiver's
// stream. Any failed Send or lost message ends the round with an error.
func latencyRound(ctx context.Context, from *api.Client, to *peer, warmup, n int, label string) (round, error) {
	r := newRound()
	for i := range warmup + n {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		text := messageText(label, i, textSize)
		t0 := time.Now()
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		res, err := from.Send(sctx, api.SendRequest{Target: to.Name, Text: text})
		cancel()
		took := time.Since(t0)
		if err != nil {
			return r, fmt.Errorf("%s: send #%d to %s: %w", label, i, to.Name, err)
		}
		r.total++
		actx, cancel := context.WithTimeout(ctx, arrivalTimeout)
		a, err := to.events.wait(actx, res.ID)
		cancel()
		if err != nil {
			return r, fmt.Errorf("%s: #%d (sent via %s): %w", label, i, res.Via, err)
		}
		if i < warmup {
			continue
		}
		r.sent++
		r.arrived++
		r.lat = append(r.lat, a.at.Sub(t0))
		r.sendVia[res.Via]++
		r.recvVia[a.via]++
		if took > slowSend {
			r.slow++
		}
	}
	return r, nil
}
