package rendezvous

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/password"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// Config holds the server's settings. Zero fields take the defaults
// documented on each.
type Config struct {
	// TLS carries the server certificate, in Certificates: the first one's
	// leaf is the one whose fingerprint clients pin and name in key
	// proofs. The server requires TLS 1.3 whatever MinVersion says.
	TLS *tls.Config
	// Bus joins this server to the other nodes on the same database, so
	// that they serve as one (nil: a single server).
	Bus Bus
	// MaxFrame is the largest frame accepted, in bytes (default 1 MiB).
	MaxFrame int
	// MaxConns bounds all connections (default 50,000).
	MaxConns int
	// MaxConnsPerAddr bounds connections from one source IP address, or
	// one IPv6 /64 (default 64).
	MaxConnsPerAddr int
	// RegisterRate is how many accounts one source IP address (IPv6: one
	// /64) may register per hour, all at once if it likes (default 20).
	RegisterRate int
	// HandshakeTimeout bounds the TLS handshake plus hello (default 10s).
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that sent nothing for this long
	// (default 90s); clients are told to send a heartbeat every third of it.
	IdleTimeout time.Duration
	// WriteTimeout bounds one write to a client (default 10s).
	WriteTimeout time.Duration
	// SendQueue is how many frames may wait for a slow client before it
	// is dropped (default 256).
	SendQueue int
	// RequestRate is how many requests per second one connection may make
	// on average (default 200), with bursts up to RequestBurst (default
	// 400); beyond it requests get rate_limited.
	RequestRate  float64
	RequestBurst int
	// SessionTTL is how long a session token lives (default 30 days).
	SessionTTL time.Duration
	// RelayRetention is how long an undelivered envelope is kept
	// (default 30 days).
	RelayRetention time.Duration
	// RelayQuota bounds what may wait for one recipient (default 10,000
	// envelopes and 256 MiB), and from one sender for one recipient
	// (default 1,000 envelopes and 64 MiB).
	RelayQuota store.Quota
	// MaxEnvelope is the largest sealed envelope accepted (default
	// envelope.MaxEnvelope, a sealed 256 KiB body; at most half of MaxFrame
	// so it fits once base64-encoded).
	MaxEnvelope int
	// Password sets the argon2id cost (default password.Default).
	Password password.Params
	// HashConcurrency bounds concurrent password hashes (default: number
	// of CPUs).
	HashConcurrency int
	// Lobby names the room every user is in from registration; "" for
	// none. The server creates it at start if no group has the name.
	Lobby string
	// Rooms bounds rooms: members per room, rooms per user and messages
	// per minute per member (defaults in roomlimits.go).
	Rooms RoomLimits
	// Metrics, when set, receives the server's counters.
	Metrics *Metrics
	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests may replace it.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.TLS == nil || len(c.TLS.Certificates) == 0 || len(c.TLS.Certificates[0].Certificate) == 0 {
		return fmt.Errorf("config: a TLS certificate is required")
	}
	c.TLS = c.TLS.Clone()
	c.TLS.MinVersion = tls.VersionTLS13
	if c.MaxFrame == 0 {
		c.MaxFrame = wire.DefaultMaxFrame
	}
	if c.MaxFrame < wire.MinMaxFrame {
		return fmt.Errorf("config: max frame %d below minimum %d", c.MaxFrame, wire.MinMaxFrame)
	}
	setDefault(&c.MaxConns, 50000)
	setDefault(&c.MaxConnsPerAddr, 64)
	setDefault(&c.RegisterRate, 20)
	if c.RegisterRate < 0 {
		return fmt.Errorf("config: register rate %d is negative", c.RegisterRate)
	}
	setDefault(&c.HandshakeTimeout, 10*time.Second)
	setDefault(&c.IdleTimeout, 90*time.Second)
	setDefault(&c.WriteTimeout, 10*time.Second)
	setDefault(&c.SendQueue, 256)
	setDefault(&c.RequestRate, 200)
	setDefault(&c.RequestBurst, 400)
	setDefault(&c.SessionTTL, 30*24*time.Hour)
	setDefault(&c.RelayRetention, 30*24*time.Hour)
	setDefault(&c.RelayQuota.MaxCount, 10000)
	setDefault(&c.RelayQuota.MaxBytes, 256<<20)
	setDefault(&c.RelayQuota.SenderCount, 1000)
	setDefault(&c.RelayQuota.SenderBytes, 64<<20)
	setDefault(&c.MaxEnvelope, envelope.MaxEnvelope)
	if c.MaxEnvelope > c.MaxFrame/2 {
		c.MaxEnvelope = c.MaxFrame / 2
	}
	if err := c.Rooms.setDefaults(); err != nil {
		return err
	}
	if c.Password == (password.Params{}) {
		c.Password = password.Default
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
