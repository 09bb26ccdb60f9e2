package daemon

import (
	"errors"
	"fmt"

	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/peer/link"
)

// serverPin returns the fingerprint to pin: the one given on the command
// line (which must agree with a stored one for the same server), else the
// stored one, else "" for trust on first use.
func (d *Daemon) serverPin() (string, error) {
	stored, err := d.home.Server()
	if err != nil && !errors.Is(err, home.ErrNoServer) {
		return "", fmt.Errorf("pinned server: %w", err)
	}
	if d.cfg.Server == "" {
		// No --server: the one used before, else one found on the LAN.
		d.cfg.Server = stored.Addr
		if d.cfg.Fingerprint == "" {
			return stored.Fingerprint, nil
		}
	}
	if d.cfg.Fingerprint != "" {
		fp, err := link.NormalizeFingerprint(d.cfg.Fingerprint)
		if err != nil {
			return "", fmt.Errorf("--server-fingerprint: %w", err)
		}
		if d.cfg.Server != "" {
			// Without an address, the pin is saved with the address
			// found on the LAN, once TLS proved it (pinServer).
			if err := d.home.SaveServer(home.ServerPin{Addr: d.cfg.Server, Fingerprint: fp}); err != nil {
				return "", fmt.Errorf("save server pin: %w", err)
			}
		}
		return fp, nil
	}
	if stored.Fingerprint != "" && stored.Addr == d.cfg.Server {
		return stored.Fingerprint, nil
	}
	return "", nil
}

// pinServer is called once when the daemon first meets a server without a
// fingerprint: it keeps the certificate's fingerprint for every later
// connection and tells the user what it pinned.
func (d *Daemon) pinServer(fp string) error {
	addr := d.link.Addr()
	if err := d.home.SaveServer(home.ServerPin{Addr: addr, Fingerprint: fp}); err != nil {
		return fmt.Errorf("save server pin: %w", err)
	}
	fmt.Fprintf(d.cfg.Out, "pinned the certificate of server %s: sha256 %s\n(compare with `rendezvous fingerprint` on the server)\n", addr, fp)
	return nil
}
