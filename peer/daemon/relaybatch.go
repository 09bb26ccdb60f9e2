package daemon

import (
	"context"
	"runtime"
	"sync"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
)

// manyRelayer is a link that queues many envelopes at once, so they leave
// in few relay.send requests (link.RelayMany).
type manyRelayer interface {
	RelayMany(ctx context.Context, envs []wire.RelayEnvelope) []error
}

// sealWorkers bounds the copies of a batch sealed at once: at least the
// cores (sealing is the cost of a big group's message), and more so that
// recipients whose prekey must first be fetched do not hold up the rest.
const sealWorkers = 16

// DeliverBatch seals each copy to its recipient, concurrently, and
// hands the sealed envelopes to the server together; it returns one
// outcome per copy, in order, nil once the server committed that copy.
func (p relayPath) DeliverBatch(ctx context.Context, copies []outbox.Copy) []error {
	ms := p.ms
	// Keys not cached yet are fetched together first, not one request
	// per copy.
	users := make([]string, len(copies))
	for i, c := range copies {
		users[i] = c.To
	}
	ms.keyring.prefetch(ctx, users)
	errs := make([]error, len(copies))
	envs := make([]wire.RelayEnvelope, len(copies))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(runtime.GOMAXPROCS(0), sealWorkers), len(copies)) {
		wg.Go(func() {
			for i := range next {
				envs[i], errs[i] = ms.seal(ctx, ms.outgoing(copies[i].To, copies[i].Message))
			}
		})
	}
	for i := range copies {
		next <- i
	}
	close(next)
	wg.Wait()

	var (
		sealed []wire.RelayEnvelope
		at     []int // index in copies of each sealed envelope
	)
	for i, err := range errs {
		if err == nil {
			sealed = append(sealed, envs[i])
			at = append(at, i)
		}
	}
	if len(sealed) == 0 {
		return errs
	}
	var res []error
	if mr, ok := ms.link.(manyRelayer); ok {
		res = mr.RelayMany(ctx, sealed)
	} else {
		res = make([]error, len(sealed))
		var wg sync.WaitGroup
		for i, env := range sealed {
			wg.Go(func() { res[i] = ms.link.Relay(ctx, env) })
		}
		wg.Wait()
	}
	for j, i := range at {
		errs[i] = ms.relayErr(copies[i].To, res[j])
	}
	return errs
}

// Live reports whether a direct connection to user is open now, without
// dialling (outbox.LivePath).
func (p directPath) Live(to string) bool { return p.ms.peers.get(to) != nil }
