package discovery

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

const testID = "0123456789abcdef0123456789abcdef"

var testFP = strings.Repeat("ab", 32)

var lan = origin{iface: "eth0", prefixes: []netip.Prefix{
	netip.MustParsePrefix("192.168.1.10/24"),
	netip.MustParsePrefix("fd00:1::10/64"),
	netip.MustParsePrefix("fe80::10/64"),
}}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func peerEntry() *entry {
	return &entry{
		Name:  testID + "._lanchat._udp.local.",
		Addrs: addrs("192.168.1.20", "fe80::20"),
		Port:  4242,
		TXT:   []string{"v=1"},
	}
}

func TestParsePeer(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(e *entry)
		from   origin
		want   []string
		reason error
	}{
		{name: "v4 and link-local v6 gets the queried zone", want: []string{"192.168.1.20:4242", "[fe80::20%eth0]:4242"}},
		{name: "a zone given wins", edit: func(e *entry) {
			e.Addrs[1] = e.Addrs[1].WithZone("eth1")
		}, want: []string{"192.168.1.20:4242", "[fe80::20%eth1]:4242"}},
		{name: "v4 only", edit: func(e *entry) { e.Addrs = e.Addrs[:1] }, want: []string{"192.168.1.20:4242"}},
		{name: "several addresses of a family", edit: func(e *entry) {
			e.Addrs = addrs("192.168.1.20", "192.168.1.21", "fe80::20", "fd00:1::20")
		}, want: []string{"192.168.1.20:4242", "192.168.1.21:4242", "[fd00:1::20]:4242", "[fe80::20%eth0]:4242"}},
		{name: "v4-mapped AAAA is IPv4", edit: func(e *entry) {
			e.Addrs = addrs("::ffff:192.168.1.30")
		}, want: []string{"192.168.1.30:4242"}},
		{name: "global v6 on-link", edit: func(e *entry) {
			e.Addrs[1] = netip.MustParseAddr("fd00:1::20")
		}, want: []string{"192.168.1.20:4242", "[fd00:1::20]:4242"}},
		{name: "off-link addresses dropped", edit: func(e *entry) {
			e.Addrs = addrs("172.17.0.1", "2001:db8::1")
		}, reason: errAddr},
		{name: "no on-link check without prefixes", edit: func(e *entry) {
			e.Addrs[0] = netip.MustParseAddr("172.17.0.1")
		}, from: origin{iface: "eth0"}, want: []string{"172.17.0.1:4242", "[fe80::20%eth0]:4242"}},
		{name: "link-local without any zone dropped", edit: func(e *entry) { e.Addrs = e.Addrs[1:] },
			from: origin{prefixes: lan.prefixes}, reason: errAddr},
		{name: "unusable addresses", edit: func(e *entry) {
			e.Addrs = addrs("255.255.255.255", "ff02::fb", "127.0.0.1", "::1")
		}, from: origin{iface: "eth0"}, reason: errAddr},
		{name: "unspecified", edit: func(e *entry) { e.Addrs = addrs("0.0.0.0", "::") }, reason: errAddr},
		{name: "no address", edit: func(e *entry) { e.Addrs = nil }, reason: errAddr},
		{name: "upper-case instance", edit: func(e *entry) { e.Name = strings.ToUpper(e.Name) },
			want: []string{"192.168.1.20:4242", "[fe80::20%eth0]:4242"}},
		{name: "port 0", edit: func(e *entry) { e.Port = 0 }, reason: errPort},
		{name: "port too big", edit: func(e *entry) { e.Port = 65536 }, reason: errPort},
		{name: "other service", edit: func(e *entry) { e.Name = testID + "._http._tcp.local." }, reason: errName},
		{name: "service name only", edit: func(e *entry) { e.Name = "._lanchat._udp.local." }, reason: errName},
		{name: "instance not an id", edit: func(e *entry) { e.Name = "alice._lanchat._udp.local." }, reason: errName},
		{name: "sub-name", edit: func(e *entry) { e.Name = "x." + e.Name }, reason: errName},
		{name: "no TXT", edit: func(e *entry) { e.TXT = nil }, reason: errTXT},
		{name: "version 2", edit: func(e *entry) { e.TXT = []string{"v=2"} }, reason: errVersion},
		{name: "version with junk", edit: func(e *entry) { e.TXT = []string{"v=1 "} }, reason: errVersion},
		{name: "first v wins", edit: func(e *entry) { e.TXT = []string{"v=2", "v=1"} }, reason: errVersion},
		{name: "keys are case-insensitive, extra keys ignored", edit: func(e *entry) {
			e.TXT = []string{"=x", "flag", "V=1", "future=yes"}
		}, want: []string{"192.168.1.20:4242", "[fe80::20%eth0]:4242"}},
		{name: "too many TXT strings", edit: func(e *entry) {
			e.TXT = slices.Repeat([]string{"v=1"}, maxTXTStrings+1)
		}, reason: errTXT},
		{name: "TXT too long", edit: func(e *entry) {
			e.TXT = []string{"v=1", "x=" + strings.Repeat("y", 300)}
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
			p, err := parsePeer(*e, from)
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
	mk := func(txt ...string) entry {
		return entry{
			Name:  "rendezvous-abababababab._lanchat-server._tcp.local.",
			Addrs: addrs("192.168.1.2"),
			Port:  7443,
			TXT:   txt,
		}
	}
	s, err := parseServer(mk("v=1", "fp="+testFP), lan)
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
		if s, err := parseServer(mk(txt...), lan); err == nil {
			t.Errorf("%s: parseServer(%q) = %+v, want an error", name, txt, s)
		}
	}
	e := mk("v=1", "fp="+testFP)
	e.Name = testID + "._lanchat._udp.local."
	if _, err := parseServer(e, lan); !errors.Is(err, errName) {
		t.Errorf("peer entry taken for a server: %v", err)
	}
}
