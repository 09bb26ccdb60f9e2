package messaging

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

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
	at  time.Time // when msgload read the event
	via string    // how the receiver says it came: direct or relay
}

// watch subscribes to u's events and records the messages from sender.
// It returns once the daemon has accepted the subscription, so nothing
// sent afterwards is missed.
func watch(ctx context.Context, u *peer, sender string) (*arrivals, error) {
	ctx, cancel := context.WithCancel(ctx)
	s, err := u.API.Events(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscribe to %s's events: %w", u.Name, err)
	}
	a := &arrivals{from: sender, cancel: cancel, done: make(chan struct{}),
		got: make(map[string]arrival), changed: make(chan struct{})}
	go a.loop(u.Name, s)
	return a, nil
}

func (a *arrivals) loop(name string, s *api.EventStream) {
	defer close(a.done)
	defer s.Close()
	for {
		ev, err := s.Next()
		if err != nil {
			a.fail(fmt.Errorf("%s's event stream ended: %w", name, err))
			return
		}
		a.see(ev, time.Now())
	}
}

// see records ev if it is a message from the watched sender.
func (a *arrivals) see(ev api.Event, at time.Time) {
	if ev.Type != api.EventMessage || ev.Message == nil || ev.Message.Outgoing || ev.Message.From != a.from {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.got[ev.Message.ID]; dup {
		return
	}
	a.got[ev.Message.ID] = arrival{at: at, via: ev.Message.Via}
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *arrivals) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
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

// waitAll waits until every one of ids has arrived or ctx ends, and
// returns the arrivals seen by then. Only a broken stream is an error.
func (a *arrivals) waitAll(ctx context.Context, ids []string) (map[string]arrival, error) {
	out := make(map[string]arrival, len(ids))
	for _, id := range ids {
		got, err := a.wait(ctx, id)
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			break
		}
		if err != nil {
			return out, err
		}
		out[id] = got
	}
	// Later ids may have come while an earlier one was missing.
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range ids {
		if got, ok := a.got[id]; ok {
			out[id] = got
		}
	}
	return out, nil
}

// close ends the subscription and waits for its goroutine.
func (a *arrivals) close() {
	a.cancel()
	<-a.done
}
