package daemon

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/peer/link"
)

// serverFinder says where the server is and which certificate to pin:
// from the command line, from what the home pinned before, or found on
// the LAN.
type serverFinder struct {
	cfg  *Config // the daemon's: serverPin fills in Server
	home *home.Home
	log  *slog.Logger
	// addr is the address the link is connected to.
	addr func() string
}

// serverPin returns the fingerprint to pin: the one given on the command
// line (which must agree with a stored one for the same server), else the
// stored one, else "" for trust on first use.
func (sf *serverFinder) serverPin() (string, error) {
	stored, err := sf.home.Server()
	if err != nil && !errors.Is(err, home.ErrNoServer) {
		return "", fmt.Errorf("pinned server: %w", err)
	}
	if sf.cfg.Server == "" {
		// No --server: the one used before, else one found on the LAN.
		sf.cfg.Server = stored.Addr
		if sf.cfg.Fingerprint == "" {
			return stored.Fingerprint, nil
		}
	}
	if sf.cfg.Fingerprint != "" {
		fp, err := link.NormalizeFingerprint(sf.cfg.Fingerprint)
		if err != nil {
			return "", fmt.Errorf("--server-fingerprint: %w", err)
		}
		if sf.cfg.Server != "" {
			// Without an address, the pin is saved with the address
			// found on the LAN, once TLS proved it (pinServer).
			if err := sf.home.SaveServer(home.ServerPin{Addr: sf.cfg.Server, Fingerprint: fp}); err != nil {
				return "", fmt.Errorf("save server pin: %w", err)
			}
		}
		return fp, nil
	}
	if stored.Fingerprint != "" && stored.Addr == sf.cfg.Server {
		return stored.Fingerprint, nil
	}
	return "", nil
}

// pinServer is called once when the daemon first meets a server without a
// fingerprint: it keeps the certificate's fingerprint for every later
// connection and tells the user what it pinned.
func (sf *serverFinder) pinServer(fp string) error {
	// The address as given (all the nodes of a service), else the one
	// found on the LAN.
	addr := sf.cfg.Server
	if addr == "" {
		addr = sf.addr()
	}
	if err := sf.home.SaveServer(home.ServerPin{Addr: addr, Fingerprint: fp}); err != nil {
		return fmt.Errorf("save server pin: %w", err)
	}
	fmt.Fprintf(sf.cfg.Out, "pinned the certificate of server %s: sha256 %s\n(compare with `rendezvous fingerprint` on the server)\n", addr, fp)
	return nil
}
