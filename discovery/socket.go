package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// mDNS addresses (RFC 6762 section 3).
var (
	group4 = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: mdnsPort}
	group6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: mdnsPort}
)

const (
	mdnsPort = 5353
	// maxPacket is the largest mDNS message (RFC 6762 section 17).
	maxPacket = 9000
	// maxRecordsPerPacket bounds what one packet may make us look at.
	maxRecordsPerPacket = 256
)

// packet is one mDNS message heard on one of our links.
type packet struct {
	msg       *dns.Msg
	src       netip.AddrPort
	multicast bool // sent to the group, not to this host's address
	link      link
}

// endpoint is a pair of sockets on port 5353 (one per address family),
// shared with every other mDNS program on the host (SO_REUSEADDR), that
// joined the group on each link. It hands every well-formed message from
// an on-link source on one of those links to handle. Close stops it.
type endpoint struct {
	c4     *ipv4.PacketConn
	c6     *ipv6.PacketConn
	handle func(packet)
	wg     sync.WaitGroup

	mu    sync.Mutex // guards links
	links map[int]link
}

// listen opens the sockets and joins the group on ls. It fails, wrapping
// ErrNoMulticast, only when no family works on any link.
func listen(ls []link, handle func(packet)) (*endpoint, error) {
	e := &endpoint{handle: handle, links: make(map[int]link)}
	var errs []error
	lc := net.ListenConfig{Control: shareSocket}
	if c, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", mdnsPort)); err != nil {
		errs = append(errs, fmt.Errorf("IPv4 socket: %w", err))
	} else {
		p := ipv4.NewPacketConn(c)
		p.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true)
		p.SetMulticastTTL(255) // RFC 6762 section 11
		p.SetTTL(255)
		p.SetMulticastLoopback(true) // other mDNS programs on this host listen too
		e.c4 = p
	}
	if c, err := lc.ListenPacket(context.Background(), "udp6", fmt.Sprintf("[::]:%d", mdnsPort)); err != nil {
		errs = append(errs, fmt.Errorf("IPv6 socket: %w", err))
	} else {
		p := ipv6.NewPacketConn(c)
		p.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true)
		p.SetMulticastHopLimit(255)
		p.SetHopLimit(255)
		p.SetMulticastLoopback(true)
		e.c6 = p
	}
	if err := e.join(ls); err != nil {
		errs = append(errs, err)
	}
	if len(e.links) == 0 {
		e.close()
		return nil, fmt.Errorf("%w: %w", ErrNoMulticast, errors.Join(errs...))
	}
	if e.c4 != nil {
		e.wg.Go(func() { e.read4() })
	}
	if e.c6 != nil {
		e.wg.Go(func() { e.read6() })
	}
	return e, nil
}

// join joins the group on each of ls not joined yet and forgets links
// not in ls. It returns why a link could not be joined at all.
func (e *endpoint) join(ls []link) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	want := make(map[int]bool, len(ls))
	var errs []error
	for _, l := range ls {
		want[l.ifi.Index] = true
		if _, ok := e.links[l.ifi.Index]; ok {
			e.links[l.ifi.Index] = l // addresses may have changed
			continue
		}
		ok := false
		ifi := l.ifi
		if e.c4 != nil && l.has4() {
			if err := e.c4.JoinGroup(&ifi, group4); err != nil {
				errs = append(errs, fmt.Errorf("join %v on %s: %w", group4.IP, ifi.Name, err))
			} else {
				ok = true
			}
		}
		if e.c6 != nil && l.has6() {
			if err := e.c6.JoinGroup(&ifi, group6); err != nil {
				errs = append(errs, fmt.Errorf("join %v on %s: %w", group6.IP, ifi.Name, err))
			} else {
				ok = true
			}
		}
		if ok {
			e.links[l.ifi.Index] = l
		}
	}
	for idx, l := range e.links {
		if !want[idx] {
			ifi := l.ifi
			if e.c4 != nil {
				e.c4.LeaveGroup(&ifi, group4)
			}
			if e.c6 != nil {
				e.c6.LeaveGroup(&ifi, group6)
			}
			delete(e.links, idx)
		}
	}
	return errors.Join(errs...)
}

// joined returns the links joined now.
func (e *endpoint) joined() []link {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]link, 0, len(e.links))
	for _, l := range e.links {
		out = append(out, l)
	}
	slices.SortFunc(out, func(x, y link) int { return x.ifi.Index - y.ifi.Index })
	return out
}

func (e *endpoint) linkOf(index int) (link, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.links[index]
	return l, ok
}

// close closes the sockets and waits for the readers.
func (e *endpoint) close() {
	if e.c4 != nil {
		e.c4.Close()
	}
	if e.c6 != nil {
		e.c6.Close()
	}
	e.wg.Wait()
}

func (e *endpoint) read4() {
	e.readLoop(func(b []byte) (int, net.Addr, int, bool, error) {
		n, cm, src, err := e.c4.ReadFrom(b)
		if err != nil || cm == nil {
			return 0, nil, 0, false, err
		}
		return n, src, cm.IfIndex, cm.Dst.IsMulticast(), nil
	})
}

func (e *endpoint) read6() {
	e.readLoop(func(b []byte) (int, net.Addr, int, bool, error) {
		n, cm, src, err := e.c6.ReadFrom(b)
		if err != nil || cm == nil {
			return 0, nil, 0, false, err
		}
		return n, src, cm.IfIndex, cm.Dst.IsMulticast(), nil
	})
}

// readLoop delivers what read returns until its socket is closed. A
// packet without its control message (src nil) is skipped; another read
// error waits a moment before the next read, so a socket in a lasting
// error state does not spin.
func (e *endpoint) readLoop(read func([]byte) (n int, src net.Addr, ifIndex int, multicast bool, err error)) {
	buf := make([]byte, maxPacket)
	for {
		n, src, index, multicast, err := read(buf)
		switch {
		case errors.Is(err, net.ErrClosed):
			return
		case err != nil:
			time.Sleep(readErrorPause)
		case src != nil:
			e.deliver(buf[:n], src, index, multicast)
		}
	}
}

// readErrorPause is how long a read loop waits after a read error.
const readErrorPause = 10 * time.Millisecond

// deliver drops what did not come from an on-link source of one of our
// links (RFC 6762 section 11) or does not parse, and hands the rest on.
func (e *endpoint) deliver(b []byte, from net.Addr, index int, multicast bool) {
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return
	}
	l, ok := e.linkOf(index)
	if !ok {
		return
	}
	if p, ok := decode(b, ua.AddrPort(), l, multicast); ok {
		e.handle(p)
	}
}

// decode parses b, heard from src on l, into a packet. It refuses a
// source off l's networks (RFC 6762 section 11), anything that is not a
// well-formed standard query or response, and a message with more than
// maxRecordsPerPacket questions and records.
func decode(b []byte, src netip.AddrPort, l link, multicast bool) (packet, bool) {
	if len(b) > maxPacket || !l.onLink(src.Addr()) {
		return packet{}, false
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil || m.Opcode != dns.OpcodeQuery || m.Rcode != dns.RcodeSuccess {
		return packet{}, false
	}
	if len(m.Question)+len(m.Answer)+len(m.Ns)+len(m.Extra) > maxRecordsPerPacket {
		return packet{}, false
	}
	if a := src.Addr(); a.Is6() && a.IsLinkLocalUnicast() {
		src = netip.AddrPortFrom(a.WithZone(l.ifi.Name), src.Port())
	}
	return packet{msg: m, src: src, multicast: multicast, link: l}, true
}

// multicast sends m to the group on l, over each family l has.
func (e *endpoint) multicast(l link, m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return fmt.Errorf("pack mDNS message: %w", err)
	}
	var errs []error
	sent := false
	if e.c4 != nil && l.has4() {
		if _, err := e.c4.WriteTo(b, &ipv4.ControlMessage{IfIndex: l.ifi.Index}, group4); err != nil {
			errs = append(errs, fmt.Errorf("send on %s over IPv4: %w", l.ifi.Name, err))
		} else {
			sent = true
		}
	}
	if e.c6 != nil && l.has6() {
		if _, err := e.c6.WriteTo(b, &ipv6.ControlMessage{IfIndex: l.ifi.Index}, group6); err != nil {
			errs = append(errs, fmt.Errorf("send on %s over IPv6: %w", l.ifi.Name, err))
		} else {
			sent = true
		}
	}
	if sent {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNoMulticast, errors.Join(errs...))
}

// unicast sends m to dst, heard on l.
func (e *endpoint) unicast(l link, dst netip.AddrPort, m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return fmt.Errorf("pack mDNS message: %w", err)
	}
	to := net.UDPAddrFromAddrPort(dst)
	if dst.Addr().Is4() {
		if e.c4 == nil {
			return errors.New("no IPv4 socket")
		}
		_, err = e.c4.WriteTo(b, &ipv4.ControlMessage{IfIndex: l.ifi.Index}, to)
	} else {
		if e.c6 == nil {
			return errors.New("no IPv6 socket")
		}
		_, err = e.c6.WriteTo(b, &ipv6.ControlMessage{IfIndex: l.ifi.Index}, to)
	}
	if err != nil {
		return fmt.Errorf("send to %v: %w", dst, err)
	}
	return nil
}

// shareSocket lets the socket share port 5353 with Avahi, Bonjour and
// other mDNS programs on the host.
func shareSocket(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = reusePort(fd) })
	if err != nil {
		return err
	}
	return serr
}
