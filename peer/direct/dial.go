package direct

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/quic-go/quic-go"
)

// Dial connects to the daemon of user at addr ("host:port") from the
// Transport's socket. The peer must prove the identity key want: any
// other key fails the handshake with an error wrapping ErrWrongKey, before
// we send our own certificate, so a forged address can waste a dial but
// never reach the wrong key. Dial returns once the peer has admitted us;
// an error wrapping ErrUnauthorized means it does not count us as a
// friend.
func (t *Transport) Dial(ctx context.Context, addr string, user string, want ed25519.PublicKey) (*Conn, error) {
	if len(want) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("dial %s at %s: expected key must be %d bytes", user, addr, ed25519.PublicKeySize)
	}
	if t.ctx.Err() != nil {
		return nil, fmt.Errorf("dial %s at %s: %w", user, addr, net.ErrClosed)
	}
	ua, err := t.resolve(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s at %s: %w", user, addr, err)
	}
	p := &pin{want: append(ed25519.PublicKey(nil), want...)}
	qc, err := t.qt.Dial(ctx, ua, clientTLS(t.certs, p), t.dialConf)
	if err != nil {
		if perr := p.failure(); perr != nil {
			err = perr
		} else {
			err = connError(err)
		}
		return nil, fmt.Errorf("dial %s at %s: %w", user, addr, err)
	}
	// VerifyConnection has pinned the key; this only guards against a
	// configuration that somehow skipped it.
	key, err := peerKey(qc.ConnectionState().TLS)
	if err == nil && !key.Equal(want) {
		err = fmt.Errorf("%w: want %s, got %s", ErrWrongKey, Fingerprint(want), Fingerprint(key))
	}
	if err != nil {
		qc.CloseWithError(quic.ApplicationErrorCode(CodeProtocol), "wrong key")
		return nil, fmt.Errorf("dial %s at %s: %w", user, addr, err)
	}
	if err := awaitWelcome(ctx, qc, t.opts.HandshakeIdleTimeout); err != nil {
		qc.CloseWithError(quic.ApplicationErrorCode(CodeNoError), "no welcome")
		return nil, fmt.Errorf("dial %s at %s: %w", user, addr, err)
	}
	c := newConn(qc, user, key, t.opts)
	if err := t.track(c); err != nil {
		return nil, fmt.Errorf("dial %s at %s: %w", user, addr, err)
	}
	c.log.Debug("dialled direct connection", "gso", qc.ConnectionState().GSO)
	return c, nil
}

// resolve turns addr into a UDP address our socket can send to. Addresses
// from the server and from mDNS are IP literals; names are looked up
// with ctx.
func (t *Transport) resolve(ctx context.Context, addr string) (*net.UDPAddr, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		host, portStr, serr := net.SplitHostPort(addr)
		if serr != nil {
			return nil, serr
		}
		port, perr := strconv.ParseUint(portStr, 10, 16)
		if perr != nil {
			return nil, fmt.Errorf("bad port %q", portStr)
		}
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil {
			return nil, lerr
		}
		ap = netip.AddrPortFrom(ips[0], uint16(port))
	}
	if ap.Port() == 0 {
		return nil, errors.New("port 0")
	}
	// A socket bound to a specific IPv4 address cannot send to IPv6, nor
	// the other way round; failing now beats a handshake timeout.
	local := t.LocalAddr().AddrPort().Addr().Unmap()
	remote := ap.Addr().Unmap()
	if !local.IsUnspecified() && local.Is4() != remote.Is4() {
		return nil, fmt.Errorf("socket bound to %v cannot reach %v", local, remote)
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(remote, ap.Port())), nil
}
