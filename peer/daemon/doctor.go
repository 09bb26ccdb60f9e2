package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/roster"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/link"
)

// doctorTimeout bounds the whole diagnosis.
const doctorTimeout = 15 * time.Second

// Doctor checks, in plain words with a fix for each failure, what LAN
// tools most often trip over: the server and its certificate, the UDP
// port and its buffers, multicast, and the direct path to each online
// contact.
func (d *Daemon) Doctor(ctx context.Context) (api.Diagnosis, error) {
	dr := &doctor{
		link: d.link, db: d.db, log: d.log, session: d.session, roster: d.roster,
		peers: d.peers, lan: d.lan, transport: d.currentTransport(), noMDNS: d.cfg.NoMDNS,
	}
	return dr.diagnose(ctx), nil
}

// doctorLink is what the doctor needs of the server link.
type doctorLink interface {
	Addr() string
	Connected() bool
	Fingerprint() string
	HasSession() bool
	LastError() error
}

// doctor runs one diagnosis, on what the daemon has now.
type doctor struct {
	link      doctorLink
	db        *history.Store
	log       *slog.Logger
	session   *session
	roster    *roster.Roster
	peers     *peerSet
	lan       *lan
	transport *direct.Transport // nil without an identity
	noMDNS    bool
}

func (dr *doctor) diagnose(ctx context.Context) api.Diagnosis {
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	var checks []api.Check
	checks = append(checks, dr.checkServer())
	checks = append(checks, dr.checkLogin())
	checks = append(checks, dr.checkUDP()...)
	checks = append(checks, dr.checkDiscovery(ctx)...)
	checks = append(checks, dr.checkResponder()...)
	checks = append(checks, dr.checkContacts(ctx)...)
	return api.Diagnosis{Checks: checks}
}

func (dr *doctor) checkServer() api.Check {
	c := api.Check{Name: "server"}
	fp := dr.link.Fingerprint()
	if dr.link.Connected() {
		c.OK = true
		c.Detail = fmt.Sprintf("connected to %s over TLS 1.3; its certificate matches the pinned fingerprint %s", dr.link.Addr(), fp)
		return c
	}
	err := dr.link.LastError()
	host, port, _ := net.SplitHostPort(dr.link.Addr())
	switch {
	case dr.link.Addr() == "":
		c.Detail = "no server address: none was given (--server) and none was found on the LAN"
		c.Fix = "start the daemon with --server HOST:PORT, or ask the operator to run rendezvous serve --announce"
		return c
	case errors.Is(err, link.ErrFingerprintMismatch):
		c.Detail = fmt.Sprintf("%s presented a certificate other than the pinned one (%s): the daemon refuses to talk to it", dr.link.Addr(), fp)
		c.Fix = "ask the server's operator for the output of `rendezvous fingerprint`; if the certificate was replaced on purpose, restart the daemon with --server-fingerprint FP. If not, someone may be intercepting the connection."
	case err != nil:
		c.Detail = fmt.Sprintf("cannot reach %s: %v", dr.link.Addr(), err)
		c.Fix = fmt.Sprintf("check that the server runs (rendezvous serve) and that %s answers on TCP port %s; a firewall on the way may block it. Chat with contacts on this LAN keeps working meanwhile.", host, port)
	default:
		c.Detail = fmt.Sprintf("connecting to %s…", dr.link.Addr())
		c.Fix = "wait a few seconds and run lanchat doctor again"
	}
	return c
}

func (dr *doctor) checkLogin() api.Check {
	c := api.Check{Name: "login"}
	me := dr.session.self()
	switch {
	case me != "" && dr.link.HasSession():
		c.OK, c.Detail = true, "logged in as "+me
	case me != "":
		c.OK, c.Warn = true, true
		c.Detail = "logged in as " + me + "; the session resumes when the server is back"
	default:
		c.Detail = "not logged in"
		c.Fix = "lanchat register USER, or lanchat login USER"
		if dr.session.signedOutReason() != "" {
			c.Detail = "signed out by the server (" + dr.session.signedOutReason() + ")"
			c.Fix = "lanchat login USER"
		}
	}
	return c
}

// checkUDP reports the direct listener's port, where it can be reached
// and its socket buffers.
func (dr *doctor) checkUDP() []api.Check {
	t := dr.transport
	if t == nil {
		return []api.Check{{Name: "udp port", Detail: "no direct listener yet: it starts with the identity key", Fix: "lanchat register USER, or lanchat login USER"}}
	}
	addr := t.LocalAddr()
	port := api.Check{Name: "udp port", OK: true}
	eps := endpoints(addr)
	port.Detail = fmt.Sprintf("listening for direct QUIC connections on udp %s; contacts can dial %s", addr, strings.Join(eps, ", "))
	if ip, ok := netip.AddrFromSlice(addr.IP); ok && ip.Unmap().IsLoopback() {
		port.Warn = true
		port.Detail = fmt.Sprintf("listening on udp %s: only this machine can reach it", addr)
		port.Fix = fmt.Sprintf("start the daemon with --listen 0.0.0.0:%d so colleagues can connect", addr.Port)
	} else {
		port.Fix = firewallFix(addr.Port)
	}
	bufs := api.Check{Name: "udp buffers"}
	rcv, snd, err := t.SocketBuffers()
	switch {
	case err != nil:
		bufs.OK, bufs.Warn, bufs.Detail = true, true, "cannot read the socket buffer sizes: "+err.Error()
	case rcv >= direct.WantSocketBuffer && snd >= direct.WantSocketBuffer:
		bufs.OK = true
		bufs.Detail = fmt.Sprintf("receive %d KiB, send %d KiB: enough for full-speed transfers", rcv>>10, snd>>10)
	default:
		bufs.OK, bufs.Warn = true, true
		bufs.Detail = fmt.Sprintf("receive %d KiB, send %d KiB, below the %d KiB QUIC wants: big transfers may be slow", rcv>>10, snd>>10, direct.WantSocketBuffer>>10)
		if h := direct.BufferHint(); h != "" {
			bufs.Fix = "as root: " + h + " (then restart the daemon)"
		}
	}
	return []api.Check{port, bufs}
}

// checkContacts tries a direct connection to every online contact, at
// once, and says by which address it worked.
func (dr *doctor) checkContacts(ctx context.Context) []api.Check {
	me := dr.session.self()
	online := slices.DeleteFunc(dr.roster.Online(), func(u string) bool { return u == me })
	checks := make([]api.Check, len(online))
	var wg sync.WaitGroup
	for i, u := range online {
		wg.Go(func() { checks[i] = dr.checkContact(ctx, u) })
	}
	wg.Wait()
	return checks
}

func (dr *doctor) checkContact(ctx context.Context, user string) api.Check {
	c := api.Check{Name: "direct " + user}
	contact, err := dr.db.Contact(ctx, user)
	if err != nil {
		c.Detail = "no pinned key for " + user + " yet"
		c.Fix = "wait for the server to sync, then run lanchat doctor again"
		return c
	}
	if contact.PendingKey != nil {
		c.Detail = user + "'s identity key changed; nothing goes to or from them until you decide"
		c.Fix = "compare numbers with lanchat verify " + user + ", then lanchat trust " + user
		return c
	}
	if len(contact.SameKey) > 0 {
		c.Detail = user + "'s identity key is also pinned for " + strings.Join(contact.SameKey, ", ") + "; none of them is admitted"
		c.Fix = "a key belongs to one account: ask your server's admin which of them is an impostor"
		return c
	}
	addrs := dr.peers.candidates(user, contact)
	if conn := dr.peers.connect(ctx, user, true); conn != nil {
		c.OK = true
		c.Detail = fmt.Sprintf("direct QUIC connection to %s at %s", user, conn.RemoteAddr())
		return c
	}
	if len(addrs) == 0 {
		c.Detail = user + " is online but no address of their daemon is known"
		c.Fix = "messages go through the relay; ask " + user + " to run lanchat doctor"
		return c
	}
	c.Detail = fmt.Sprintf("no direct QUIC connection to %s at %s", user, strings.Join(addrs, ", "))
	c.Fix = "messages still go through the relay, but files need a direct path: a firewall on " + user + "'s machine (or between you) probably blocks UDP; ask them to run lanchat doctor"
	return c
}
