package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// subscriberBuffer is how many events a local client may fall behind
// before it is dropped.
const subscriberBuffer = 512

// broker fans events out to the local API's subscribers. Publishing never
// blocks: a subscriber whose buffer is full is dropped (its channel
// closed), so one stuck client cannot stall the daemon.
type broker struct {
	mu     sync.Mutex
	subs   map[chan api.Event]struct{}
	closed bool
}

func newBroker() *broker {
	return &broker{subs: make(map[chan api.Event]struct{})}
}

// subscribe returns a channel of events that is closed when ctx ends, when
// the subscriber falls too far behind or when the broker closes.
func (b *broker) subscribe(ctx context.Context) <-chan api.Event {
	ch := make(chan api.Event, subscriberBuffer)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(ch)
		return ch
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() { b.drop(ch) })
	return ch
}

func (b *broker) drop(ch chan api.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

// publish sends ev to every subscriber, stamping its time.
func (b *broker) publish(ev api.Event) {
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// close ends every subscription.
func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
