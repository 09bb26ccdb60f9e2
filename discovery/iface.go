package discovery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// ErrNoMulticast reports that mDNS cannot work here: no interface is up
// and multicast-capable, or every query failed. Peers are then found only
// through the endpoints the rendezvous server reports.
var ErrNoMulticast = errors.New("no working multicast interface")

// maxLinks bounds how many interfaces are used at once.
const maxLinks = 32

// skippedPrefixes name interfaces that are usually local bridges, VPNs or
// tunnels, not the office LAN: announcing there would hand LAN peers
// addresses they cannot reach. Naming an interface overrides the list.
var skippedPrefixes = []string{
	"docker", "br-", "veth", "virbr", "vboxnet", "vmnet", "cni", "flannel",
	"cali", "podman", "lxcbr", "lxdbr", "tailscale", "zt", "wg", "tun", "tap",
	"utun", "awdl", "llw",
}

// link is a multicast-capable interface with its addresses.
type link struct {
	ifi      net.Interface
	prefixes []netip.Prefix // its unicast addresses, with their prefix lengths
}

// has4 and has6 report whether the link has an address of that family:
// a query over a family is only sent from an interface that has one.
func (l link) has4() bool { return l.first(func(a netip.Addr) bool { return a.Is4() }).IsValid() }
func (l link) has6() bool { return l.first(func(a netip.Addr) bool { return a.Is6() }).IsValid() }

// maxAddrsPerFamily bounds the addresses announced per link and family.
const maxAddrsPerFamily = 4

// announced returns the addresses an announcement on l carries: its
// IPv4 addresses, then its IPv6 ones (link-local first), a few of each.
func (l link) announced() []netip.Addr {
	var v4, v6 []netip.Addr
	for _, p := range l.prefixes {
		a := p.Addr()
		switch {
		case a.Is4() && len(v4) < maxAddrsPerFamily:
			v4 = append(v4, a)
		case a.Is6() && len(v6) < maxAddrsPerFamily:
			v6 = append(v6, a)
		}
	}
	slices.SortStableFunc(v6, func(x, y netip.Addr) int {
		switch {
		case x.IsLinkLocalUnicast() == y.IsLinkLocalUnicast():
			return 0
		case x.IsLinkLocalUnicast():
			return -1
		}
		return 1
	})
	return append(v4, v6...)
}

// onLink reports whether a is a source RFC 6762 section 11 lets us
// listen to on l: an address of one of l's IPv4 networks, an IPv6
// link-local address, or one of l's IPv6 networks.
func (l link) onLink(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if a.Is6() && a.IsLinkLocalUnicast() {
		return true
	}
	return slices.ContainsFunc(l.prefixes, func(p netip.Prefix) bool { return p.Masked().Contains(a) })
}

func (l link) first(match func(netip.Addr) bool) netip.Addr {
	for _, p := range l.prefixes {
		if match(p.Addr()) {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

// links returns the interfaces to use: the one named, or every suitable
// one. The error wraps ErrNoMulticast when there is none.
func links(name string) ([]link, error) {
	var ifis []net.Interface
	if name != "" {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("%w: interface %s: %w", ErrNoMulticast, name, err)
		}
		ifis = []net.Interface{*ifi}
	} else {
		all, err := net.Interfaces()
		if err != nil {
			return nil, fmt.Errorf("list interfaces: %w", err)
		}
		for _, ifi := range all {
			if !skipped(ifi.Name) {
				ifis = append(ifis, ifi)
			}
		}
	}
	var out []link
	for _, ifi := range ifis {
		if len(out) == maxLinks {
			break
		}
		if !multicastCapable(ifi) {
			continue
		}
		l := link{ifi: ifi}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			ones, bits := ipn.Mask.Size()
			if ip.Is4() && bits == 8*net.IPv6len {
				ones -= 96
			}
			if ip.IsLoopback() || ip.IsUnspecified() || ip.IsMulticast() {
				continue
			}
			l.prefixes = append(l.prefixes, netip.PrefixFrom(ip, ones))
		}
		if len(l.prefixes) > 0 {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		if name != "" {
			return nil, fmt.Errorf("%w: interface %s is not up and multicast-capable with an address", ErrNoMulticast, name)
		}
		return nil, fmt.Errorf("%w: no interface is up and multicast-capable with an address", ErrNoMulticast)
	}
	return out, nil
}

// multicastCapable reports whether mDNS can run on ifi. Loopback has no
// multicast flag on Linux; point-to-point links reach no LAN.
func multicastCapable(ifi net.Interface) bool {
	const want = net.FlagUp | net.FlagRunning | net.FlagMulticast
	return ifi.Flags&want == want && ifi.Flags&(net.FlagLoopback|net.FlagPointToPoint) == 0
}

func skipped(name string) bool {
	for _, p := range skippedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
