package direct

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"
)

// Defaults for Options. They suit an office LAN: keep-alives hold an idle
// connection (and any NAT or firewall state) open. A LAN's bandwidth-delay
// product is small (10 Gbit/s at 1 ms is 1.25 MB), so modest initial
// windows already fill it, and they bound what a peer can make us buffer
// before we read; auto-tuning grows the windows of a stream that is read
// fast, up to the maxima. The maxima bound a daemon's memory: a stalled
// reader leaves at most 24 MiB buffered per connection. On loopback
// (bench/xferload, 2 GiB, median of 3) 16 / 24 MiB moved as much as
// 32 / 64 MiB did, with less resident memory.
const (
	DefaultMaxIdleTimeout             = 60 * time.Second
	DefaultKeepAlivePeriod            = 15 * time.Second
	DefaultHandshakeIdleTimeout       = 5 * time.Second
	DefaultInitialStreamReceiveWindow = 2 << 20
	DefaultMaxStreamReceiveWindow     = 16 << 20
	DefaultMaxConnectionReceiveWindow = 24 << 20
	DefaultMaxIncomingStreams         = 256
	DefaultStreamKindTimeout          = 5 * time.Second
	DefaultExchangeTimeout            = 30 * time.Second
)

// Options tunes a Transport. The zero value means every default.
type Options struct {
	// MaxIdleTimeout closes a connection that has heard nothing from its
	// peer for this long. The smaller of both peers' values applies.
	MaxIdleTimeout time.Duration
	// KeepAlivePeriod is how often an otherwise idle connection sends a
	// keep-alive. It must be shorter than MaxIdleTimeout.
	KeepAlivePeriod time.Duration
	// HandshakeIdleTimeout bounds the wait for a peer during the handshake,
	// and for its welcome after it (see Dial).
	HandshakeIdleTimeout time.Duration

	// InitialStreamReceiveWindow, MaxStreamReceiveWindow and
	// MaxConnectionReceiveWindow are QUIC flow-control windows in bytes.
	// Windows grow from the initial to the maximum value as the reader keeps
	// up. A connection buffers at most MaxConnectionReceiveWindow bytes that
	// the application has not read yet.
	InitialStreamReceiveWindow uint64
	MaxStreamReceiveWindow     uint64
	MaxConnectionReceiveWindow uint64

	// MaxIncomingStreams is how many bidirectional streams a peer may have
	// open towards us at once.
	MaxIncomingStreams int64

	// StreamKindTimeout bounds the wait for the kind byte of a stream the
	// peer opened (see Conn.AcceptStream).
	StreamKindTimeout time.Duration
	// ExchangeTimeout bounds an Exchange whose context has no earlier
	// deadline.
	ExchangeTimeout time.Duration

	// PeerBudget bounds the bytes one peer's streams may make us hold at
	// once, across all its connections (see Budget); default
	// DefaultPeerBudget.
	PeerBudget int

	// Logger receives connection events and warnings. Nil discards them.
	Logger *slog.Logger
}

// withDefaults fills zero fields and checks the result.
func (o Options) withDefaults() (Options, error) {
	if o.MaxIdleTimeout == 0 {
		o.MaxIdleTimeout = DefaultMaxIdleTimeout
	}
	if o.KeepAlivePeriod == 0 {
		o.KeepAlivePeriod = min(DefaultKeepAlivePeriod, o.MaxIdleTimeout/2)
	}
	if o.HandshakeIdleTimeout == 0 {
		o.HandshakeIdleTimeout = DefaultHandshakeIdleTimeout
	}
	if o.InitialStreamReceiveWindow == 0 {
		o.InitialStreamReceiveWindow = DefaultInitialStreamReceiveWindow
	}
	if o.MaxStreamReceiveWindow == 0 {
		o.MaxStreamReceiveWindow = max(DefaultMaxStreamReceiveWindow, o.InitialStreamReceiveWindow)
	}
	if o.MaxConnectionReceiveWindow == 0 {
		o.MaxConnectionReceiveWindow = max(DefaultMaxConnectionReceiveWindow, o.MaxStreamReceiveWindow)
	}
	if o.MaxIncomingStreams == 0 {
		o.MaxIncomingStreams = DefaultMaxIncomingStreams
	}
	if o.StreamKindTimeout == 0 {
		o.StreamKindTimeout = DefaultStreamKindTimeout
	}
	if o.ExchangeTimeout == 0 {
		o.ExchangeTimeout = DefaultExchangeTimeout
	}
	if o.PeerBudget == 0 {
		o.PeerBudget = DefaultPeerBudget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.MaxIdleTimeout < 0 || o.KeepAlivePeriod < 0 || o.HandshakeIdleTimeout < 0 ||
		o.StreamKindTimeout < 0 || o.ExchangeTimeout < 0:
		return o, errors.New("options: negative duration")
	case o.KeepAlivePeriod >= o.MaxIdleTimeout:
		return o, fmt.Errorf("options: keep-alive period %v must be shorter than idle timeout %v", o.KeepAlivePeriod, o.MaxIdleTimeout)
	case o.InitialStreamReceiveWindow > o.MaxStreamReceiveWindow:
		return o, errors.New("options: initial stream window above maximum stream window")
	case o.MaxStreamReceiveWindow > o.MaxConnectionReceiveWindow:
		return o, errors.New("options: stream window above connection window")
	case o.MaxIncomingStreams < 0:
		return o, errors.New("options: negative stream limit")
	case o.PeerBudget < 0:
		return o, errors.New("options: negative peer budget")
	}
	return o, nil
}

// quicConfig turns the options into quic-go's configuration for one side
// of a connection: the dialling side accepts the one unidirectional stream
// that carries the welcome (see welcome.go), the listening side accepts
// none.
func (o Options) quicConfig(dialing bool) *quic.Config {
	// The connection starts with room for one and a half streams' initial
	// windows (quic-go's own ratio), so a single transfer is not throttled
	// by the connection window before auto-tuning has grown it.
	initialConn := min(o.InitialStreamReceiveWindow*3/2, o.MaxConnectionReceiveWindow)
	uni := int64(-1) // negative: no unidirectional streams at all
	if dialing {
		uni = 1
	}
	return &quic.Config{
		HandshakeIdleTimeout:           o.HandshakeIdleTimeout,
		MaxIdleTimeout:                 o.MaxIdleTimeout,
		KeepAlivePeriod:                o.KeepAlivePeriod,
		InitialStreamReceiveWindow:     o.InitialStreamReceiveWindow,
		MaxStreamReceiveWindow:         o.MaxStreamReceiveWindow,
		InitialConnectionReceiveWindow: initialConn,
		MaxConnectionReceiveWindow:     o.MaxConnectionReceiveWindow,
		MaxIncomingStreams:             o.MaxIncomingStreams,
		MaxIncomingUniStreams:          uni,
	}
}
