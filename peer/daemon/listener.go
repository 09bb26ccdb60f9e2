package daemon

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/home"
)

// The identity key and the direct listener, whose certificate carries it.

// loadIdentity reads the identity key, if the home has one, and starts the
// direct listener with it.
func (d *Daemon) loadIdentity() error {
	key, err := d.home.Identity()
	if errors.Is(err, home.ErrNoIdentity) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("identity key: %w", err)
	}
	return d.useIdentity(key)
}

// useIdentity makes key the daemon's identity and (re)starts the direct
// listener, whose certificate carries it.
func (d *Daemon) useIdentity(key ed25519.PrivateKey) error {
	d.session.setIdentity(key)
	d.mu.Lock()
	old := d.transport
	d.transport = nil
	d.mu.Unlock()
	if old != nil {
		old.Close()
	}
	listen := d.cfg.Listen
	if old != nil {
		listen = old.LocalAddr().String() // keep the port peers know
	}
	t, err := d.listenDirect(listen, key)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.transport = t
	d.mu.Unlock()
	fmt.Fprintf(d.cfg.Out, "direct connections (QUIC) on udp %s\n", t.LocalAddr())
	d.spawn(func() { d.peers.acceptLoop(d.ctx, t) })
	if err := d.lan.start(key, t.LocalAddr().Port); err != nil {
		return err
	}
	return nil
}

// listenDirect opens the direct listener on listen. With port 0 it first
// tries the port of the last run, so contacts that remember our address
// find us again; if that port is taken, any port does.
func (d *Daemon) listenDirect(listen string, key ed25519.PrivateKey) (*direct.Transport, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", listen, err)
	}
	opts := d.cfg.Direct
	if opts.Logger == nil {
		opts.Logger = d.log.With("part", "direct")
	}
	if last := d.home.ListenPort(); port == "0" && last != 0 {
		t, err := direct.Listen(net.JoinHostPort(host, strconv.Itoa(last)), key, d.keyring.authorize, opts)
		if err == nil {
			return t, nil
		}
		d.log.Info("the last direct port is taken; using another", "port", last, "err", err)
	}
	t, err := direct.Listen(listen, key, d.keyring.authorize, opts)
	if err != nil {
		return nil, fmt.Errorf("listen for direct connections on %s: %w", listen, err)
	}
	if err := d.home.SaveListenPort(t.LocalAddr().Port); err != nil {
		d.log.Warn("remember the direct port", "err", err)
	}
	return t, nil
}

// currentTransport returns the direct listener, or nil.
func (d *Daemon) currentTransport() *direct.Transport {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.transport
}
