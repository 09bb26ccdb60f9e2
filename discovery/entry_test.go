package discovery

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/mdns"
)

const testID = "0123456789abcdef0123456789abcdef"

var testFP = strings.Repeat("ab", 32)

var lan = origin{iface: "eth0", prefixes: []netip.Prefix{
	netip.MustParsePrefix("192.168.1.10/24"),
	netip.MustParsePrefix("fd00:1::10/64"),
	netip.MustParsePrefix("fe80::10/64"),
}}

func peerEntry() *mdns.ServiceEntry {
	return &mdns.ServiceEntry{
		Name:       testID + "._lanchat._udp.local.",
		Host:       testID + ".local.",
		AddrV4:     net.ParseIP("192.168.1.20"), // 16 bytes, as the library gives it
		AddrV6:     net.ParseIP("fe80::20"),
		Port:       4242,
		InfoFields: []string{"v=1"},
	}
}

func TestParsePeer(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(e *mdns.ServiceEntry)
		from   origin
		want   []string
		reason error
	}{
		{name: "v4 and link-local v6 gets the queried zone", want: []string{"192.168.1.20:4242", "[fe80::20%eth0]:4242"}},
		{name: "zone from the library wins", edit: func(e *mdns.ServiceEntry) {
			e.AddrV6IPAddr = &net.IPAddr{IP: e.AddrV6, Zone: "eth1"}
		}, want: []string{"192.168.1.20:4242", "[fe80::20%eth1]:4242"}},
		{name: "deprecated Addr only", edit: func(e *mdns.ServiceEntry) {
			e.Addr, e.AddrV4, e.AddrV6 = e.AddrV4, nil, nil
		}, want: []string{"192.168.1.20:4242"}},
		{name: "v4-mapped AAAA is IPv4", edit: func(e *mdns.ServiceEntry) {
			e.AddrV4, e.AddrV6 = nil, net.ParseIP("::ffff:192.168.1.30")
		}, want: []string{"192.168.1.30:4242"}},
		{name: "global v6 on-link", edit: func(e *mdns.ServiceEntry) {
			e.AddrV6 = net.ParseIP("fd00:1::20")
		}, want: []string{"192.168.1.20:4242", "[fd00:1::20]:4242"}},
		{name: "off-link addresses dropped", edit: func(e *mdns.ServiceEntry) {
			e.AddrV4, e.AddrV6 = net.ParseIP("172.17.0.1"), net.ParseIP("2001:db8::1")
		}, reason: errAddr},
		{name: "no on-link check without prefixes", edit: func(e *mdns.ServiceEntry) {
			e.AddrV4 = net.ParseIP("172.17.0.1")
		}, from: origin{iface: "eth0"}, want: []string{"172.17.0.1:4242", "[fe80::20%eth0]:4242"}},
		{name: "link-local without any zone dropped", edit: func(e *mdns.ServiceEntry) { e.AddrV4 = nil },
			from: origin{prefixes: lan.prefixes}, reason: errAddr},
		{name: "unusable addresses", edit: func(e *mdns.ServiceEntry) {
			e.AddrV4, e.AddrV6, e.Addr = net.IPv4bcast, net.ParseIP("ff02::fb"), net.ParseIP("127.0.0.1")
		}, from: origin{iface: "eth0"}, reason: errAddr},
		{name: "unspecified", edit: func(e *mdns.ServiceEntry) { e.AddrV4, e.AddrV6 = net.IPv4zero, net.IPv6zero }, reason: errAddr},
		{name: "garbage IP bytes", edit: func(e *mdns.ServiceEntry) { e.AddrV4, e.AddrV6 = net.IP{1, 2, 3}, nil }, reason: errAddr},
		{name: "upper-case instance", edit: func(e *mdns.ServiceEntry) { e.Name = strings.ToUpper(e.Name) },
			want: []string{"192.168.1.20:4242", "[fe80::20%eth0]:4242"}},
		{name: "port 0", edit: func(e *mdns.ServiceEntry) { e.Port = 0 }, reason: errPort},
		{name: "port too big", edit: func(e *mdns.ServiceEntry) { e.Port = 65536 }, reason: errPort},
		{name: "other service", edit: func(e *mdns.ServiceEntry) { e.Name = testID + "._http._tcp.local." }, reason: errName},
		{name: "service name only", edit: func(e *mdns.ServiceEntry) { e.Name = "._lanchat._udp.local." }, reason: errName},
		{name: "instance not an id", edit: func(e *mdns.ServiceEntry) { e.Name = "alice._lanchat._udp.local." }, reason: errName},
		{name: "sub-name", edit: func(e *mdns.ServiceEntry) { e.Name = "x." + e.Name }, reason: errName},
		{name: "no TXT", edit: func(e *mdns.ServiceEntry) { e.InfoFields = nil }, reason: errTXT},
		{name: "version 2", edit: func(e *mdns.ServiceEntry) { e.InfoFields = []string{"v=2"} }, reason: errVersion},
		{name: "version with junk", edit: func(e *mdns.ServiceEntry) { e.InfoFields = []string{"v=1 "} }, reason: errVersion},
		{name: "first v wins", edit: func(e *mdns.ServiceEntry) { e.InfoFields = []string{"v=2", "v=1"} }, reason: errVersion},
		{name: "keys are case-insensitive, extra keys ignored", edit: func(e *mdns.ServiceEntry) {
			e.InfoFields = []string{"=x", "flag", "V=1", "future=yes"}
		}, want: []string{"192.168.1.20:4242", "[fe80::20%eth0]:4242"}},
		{name: "too many TXT strings", edit: func(e *mdns.ServiceEntry) {
			e.InfoFields = slices.Repeat([]string{"v=1"}, maxTXTStrings+1)
		}, reason: errTXT},
		{name: "TXT too long", edit: func(e *mdns.ServiceEntry) {
			e.InfoFields = []string{"v=1", "x=" + strings.Repeat("y", 300)}
		}, reason: errTXT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := peerEntry()
			if tt.edit != nil {
				tt.edit(e)
			}
			from := tt.from
			if from.iface == "" && from.prefixes == nil {
				from = lan
			}
			p, err := parsePeer(e, from)
			if tt.reason != nil {
				if !errors.Is(err, tt.reason) {
					t.Fatalf("parsePeer = %+v, %v; want error %v", p, err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsePeer: %v", err)
			}
			var got []string
			for _, a := range p.Addrs {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("addrs = %q, want %q", got, tt.want)
			}
			if p.Instance != testID || p.Version != Version {
				t.Errorf("peer = %+v", p)
			}
		})
	}
}

func TestParseServer(t *testing.T) {
	entry := func(txt ...string) *mdns.ServiceEntry {
		return &mdns.ServiceEntry{
			Name:       "rendezvous-abababababab._lanchat-rendezvous._tcp.local.",
			AddrV4:     net.ParseIP("192.168.1.2"),
			Port:       7443,
			InfoFields: txt,
		}
	}
	s, err := parseServer(entry("v=1", "fp="+testFP), lan)
	if err != nil {
		t.Fatal(err)
	}
	if s.Instance != "rendezvous-abababababab" || s.Fingerprint != testFP ||
		!slices.Equal(s.Addrs, []netip.AddrPort{netip.MustParseAddrPort("192.168.1.2:7443")}) {
		t.Errorf("server = %+v", s)
	}

	for name, txt := range map[string][]string{
		"no fp":        {"v=1"},
		"short fp":     {"v=1", "fp=" + testFP[:62]},
		"upper-case":   {"v=1", "fp=" + strings.ToUpper(testFP)},
		"not hex":      {"v=1", "fp=" + strings.Repeat("zz", 32)},
		"no version":   {"fp=" + testFP},
		"version 2":    {"v=2", "fp=" + testFP},
		"trailing sep": {"v=1", "fp=" + testFP + " "},
	} {
		if s, err := parseServer(entry(txt...), lan); err == nil {
			t.Errorf("%s: parseServer(%q) = %+v, want an error", name, txt, s)
		}
	}
	e := entry("v=1", "fp="+testFP)
	e.Name = testID + "._lanchat._udp.local."
	if _, err := parseServer(e, lan); !errors.Is(err, errName) {
		t.Errorf("peer entry taken for a server: %v", err)
	}
}
