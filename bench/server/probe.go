package server

import (
	"context"
	"fmt"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/client"
)

// prober is a separate connection that makes light requests at a fixed
// rate while the relay senders load the server, to show what an ordinary
// user waits for meanwhile.
type prober struct {
	c       *client.Client
	rate    float64 // ticks per second; each tick is one friends.list and one ping
	friends int

	listLat latencies
	pingLat latencies
	errs    counts
	ticks   int // rounds made; fewer than rate × time means the server held the probe up
}

// setupProbe registers the probe user and befriends it with every relay
// recipient.
func (r *relayRun) setupProbe(ctx context.Context, rate float64) (*prober, error) {
	a, err := newAccount("rvload-probe", "")
	if err != nil {
		return nil, err
	}
	c, err := r.dial(ctx, r.addr, nil)
	if err != nil {
		return nil, err
	}
	p := &prober{c: c, rate: rate}
	if err := a.enroll(ctx, c); err != nil {
		return p, err
	}
	for _, pr := range r.pairs {
		if err := befriend(ctx, a, c, pr.recipient, pr.rc); err != nil {
			return p, err
		}
		p.friends++
	}
	return p, nil
}

// run makes the probe's requests at its rate until ctx ends; the number
// of rounds is thus bounded by the rate times the time ctx allows. A
// round that takes longer than the interval delays the next (the ticker
// drops ticks), which shows as fewer rounds than planned.
func (p *prober) run(ctx context.Context) {
	if p.rate <= 0 {
		return
	}
	interval := time.Duration(float64(time.Second) / p.rate)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.ticks++
		p.call(ctx, wire.OpFriendsList, &wire.FriendsListResponse{}, &p.listLat)
		p.call(ctx, wire.OpPing, nil, &p.pingLat)
	}
}

func (p *prober) call(ctx context.Context, op string, resp any, lat *latencies) {
	cctx, cancel := context.WithTimeout(context.Background(), relayCallTimeout)
	defer cancel()
	start := time.Now()
	err := p.c.Call(cctx, op, wire.Empty{}, resp)
	if err != nil {
		if ctx.Err() == nil {
			p.errs.Add(fmt.Sprintf("%s %s", op, errorCode(err)))
		}
		return
	}
	lat.Add(time.Since(start))
}
