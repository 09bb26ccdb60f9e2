package direct

import (
	"errors"
	"fmt"
	"sync"
)

// DefaultPeerBudget is Options.PeerBudget's default: room for an offer
// of the largest size (16 MiB) beside a transfer's eight data streams of
// 1 MiB chunks, and for as many direct messages as anyone sends at once.
const DefaultPeerBudget = 24 << 20

// ErrBudget means a peer's streams together hold as many bytes as its
// Budget allows: the stream that asked for more is refused.
var ErrBudget = errors.New("peer over its memory budget")

// Budget bounds the bytes one peer can make this daemon hold for it at
// once, beyond what QUIC's flow-control windows buffer: its frames as
// they arrive, on every stream of every connection it has (two dials
// crossing can leave it more than one for a while), and the buffers its
// transfers' data streams read chunks into.
//
// The Transport owns one Budget per peer key, made with the first
// connection that proves the key and dropped with the last; every Conn
// with the key returns it from Budget. Whoever reads a peer's stream
// takes from it before allocating (wire.Reader.SetBudget does so for
// frames) and gives back when the bytes are let go. Take never waits:
// past the limit it fails with ErrBudget and the reader gives up that
// stream, so a peer that asks too much fails its own streams and no one
// else's.
type Budget struct {
	max int

	mu   sync.Mutex
	used int // guarded by mu
}

// NewBudget returns a Budget of max bytes.
func NewBudget(max int) *Budget { return &Budget{max: max} }

// Take reserves n bytes, or fails with an error wrapping ErrBudget,
// reserving nothing, when that would pass the limit.
func (b *Budget) Take(n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.max-b.used {
		return fmt.Errorf("%w: %d bytes held, %d more asked, limit %d", ErrBudget, b.used, n, b.max)
	}
	b.used += n
	return nil
}

// Give returns n bytes reserved with Take.
func (b *Budget) Give(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used = max(b.used-n, 0)
}

// Used returns the bytes reserved now.
func (b *Budget) Used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// peerBudget is a Budget and how many connections share it.
type peerBudget struct {
	b     *Budget
	conns int
}
