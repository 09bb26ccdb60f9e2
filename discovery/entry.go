package discovery

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Bounds on what one announcement may carry; anything larger is
// malformed, since our announcers never send it.
const (
	maxTXTStrings = 16
	maxTXTBytes   = 512 // all strings together
	maxLabelLen   = 63  // one DNS label, as sent
	maxZoneLen    = 64
)

// Reasons an entry is ignored.
var (
	errName    = errors.New("not an instance of the service")
	errPort    = errors.New("bad port")
	errTXT     = errors.New("malformed TXT")
	errVersion = errors.New("unknown protocol version")
	errAddr    = errors.New("no usable address")
)

// Peer is a lanchat daemon heard on the LAN.
type Peer struct {
	// Instance is the daemon's InstanceID.
	Instance string
	// Addrs are where its QUIC endpoint may be reached, IPv4 first; an
	// IPv6 link-local address carries its zone.
	Addrs []netip.AddrPort
	// Version is the discovery protocol version it announced.
	Version int
}

// Server is a rendezvous server heard on the LAN.
type Server struct {
	// Instance is the DNS-SD instance name it announced.
	Instance string
	// Addrs are where its TCP listener may be reached, IPv4 first; an
	// IPv6 link-local address carries its zone.
	Addrs []netip.AddrPort
	// Fingerprint is the SHA-256 of its certificate, 64 lower-case hex
	// digits, as it announced it: pin it only once the user confirmed it.
	Fingerprint string
}

// entry is one instance as heard: its full DNS name
// "<instance>.<service>.local.", the SRV port, the TXT strings and the
// addresses of the host its SRV names.
type entry struct {
	Name  string
	Port  int
	TXT   []string
	Addrs []netip.Addr
}

// origin says where an entry was heard: the interface queried and its
// prefixes, to give link-local addresses a zone and drop off-link ones.
type origin struct {
	iface    string
	prefixes []netip.Prefix // none: no on-link check
}

// parsePeer validates an entry heard for PeerService.
func parsePeer(e entry, o origin) (Peer, error) {
	label, err := instanceLabel(e.Name, PeerService)
	if err != nil {
		return Peer{}, err
	}
	label = strings.ToLower(label) // DNS names are case-insensitive
	if !isInstanceID(label) {
		return Peer{}, fmt.Errorf("%w: instance %q", errName, label)
	}
	txt, err := parseTXT(e.TXT)
	if err != nil {
		return Peer{}, err
	}
	if err := checkVersion(txt); err != nil {
		return Peer{}, err
	}
	addrs, err := entryAddrs(e, o)
	if err != nil {
		return Peer{}, err
	}
	return Peer{Instance: label, Addrs: addrs, Version: Version}, nil
}

// parseServer validates an entry heard for ServerService.
func parseServer(e entry, o origin) (Server, error) {
	label, err := instanceLabel(e.Name, ServerService)
	if err != nil {
		return Server{}, err
	}
	txt, err := parseTXT(e.TXT)
	if err != nil {
		return Server{}, err
	}
	if err := checkVersion(txt); err != nil {
		return Server{}, err
	}
	fp := txt["fp"]
	if !isFingerprint(fp) {
		return Server{}, fmt.Errorf("%w: fingerprint is not 64 lower-case hex digits", errTXT)
	}
	addrs, err := entryAddrs(e, o)
	if err != nil {
		return Server{}, err
	}
	return Server{Instance: label, Addrs: addrs, Fingerprint: fp}, nil
}

// instanceLabel returns the instance part of name, the full DNS name
// "<instance>.<service>.local." of an entry.
func instanceLabel(name, service string) (string, error) {
	suffix := "." + service + "." + domain
	if len(name) <= len(suffix) || !strings.EqualFold(name[len(name)-len(suffix):], suffix) {
		return "", errName
	}
	label := name[:len(name)-len(suffix)]
	if len(label) > maxLabelLen*4 { // escaped as \DDD at worst
		return "", fmt.Errorf("%w: instance name too long", errName)
	}
	for i := 0; i < len(label); i++ {
		// An unescaped dot would make it a name below another instance.
		if c := label[i]; c <= ' ' || c >= 0x7f || c == '.' {
			return "", fmt.Errorf("%w: bad byte in instance name", errName)
		}
	}
	return label, nil
}

// parseTXT reads DNS-SD key=value strings as RFC 6763 section 6 says:
// keys are case-insensitive, a string without "=" is a key with no
// value, one starting with "=" is ignored, and only the first of a
// repeated key counts.
func parseTXT(fields []string) (map[string]string, error) {
	if len(fields) > maxTXTStrings {
		return nil, fmt.Errorf("%w: %d strings", errTXT, len(fields))
	}
	total := 0
	kv := make(map[string]string, len(fields))
	for _, f := range fields {
		total += len(f)
		if len(f) > 255 || total > maxTXTBytes {
			return nil, fmt.Errorf("%w: too long", errTXT)
		}
		key, value, _ := strings.Cut(f, "=")
		if key == "" {
			continue
		}
		key = strings.ToLower(key)
		if _, dup := kv[key]; !dup {
			kv[key] = value
		}
	}
	return kv, nil
}

// checkVersion accepts TXT "v=1" only.
func checkVersion(txt map[string]string) error {
	v, ok := txt["v"]
	if !ok {
		return fmt.Errorf("%w: no version", errTXT)
	}
	if v != strconv.Itoa(Version) {
		return fmt.Errorf("%w %.8q", errVersion, v)
	}
	return nil
}

// entryAddrs returns the usable addresses of e with its port, a few of
// each family.
func entryAddrs(e entry, o origin) ([]netip.AddrPort, error) {
	if e.Port <= 0 || e.Port > 65535 {
		return nil, fmt.Errorf("%w %d", errPort, e.Port)
	}
	var ips []netip.Addr
	for _, a := range e.Addrs {
		a = a.Unmap()
		if len(a.Zone()) > maxZoneLen {
			a = a.WithZone("")
		}
		a, ok := usable(a, o)
		if ok && len(ips) < maxAddrsPerPeer && !slices.ContainsFunc(ips, func(b netip.Addr) bool { return b.WithZone("") == a.WithZone("") }) {
			ips = append(ips, a)
		}
	}
	if len(ips) == 0 {
		return nil, errAddr
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		out = append(out, netip.AddrPortFrom(ip, uint16(e.Port)))
	}
	sortAddrs(out)
	return out, nil
}

// usable returns a as it should be dialled, or false when it cannot be:
// link-local IPv6 gets the zone of the interface it was heard on unless it
// has one; other addresses must be on one of the interface's prefixes.
func usable(a netip.Addr, o origin) (netip.Addr, bool) {
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}, false
	}
	if a.Is6() && a.IsLinkLocalUnicast() {
		if a.Zone() == "" {
			if o.iface == "" {
				return netip.Addr{}, false
			}
			a = a.WithZone(o.iface)
		}
		return a, true
	}
	a = a.WithZone("")
	if len(o.prefixes) > 0 && !slices.ContainsFunc(o.prefixes, func(p netip.Prefix) bool { return p.Contains(a) }) {
		return netip.Addr{}, false
	}
	return a, true
}

// sortAddrs orders addresses IPv4 first, then by value, so equal sets
// compare equal.
func sortAddrs(addrs []netip.AddrPort) {
	slices.SortFunc(addrs, func(x, y netip.AddrPort) int { return x.Compare(y) })
}
