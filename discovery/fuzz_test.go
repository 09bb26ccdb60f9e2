package discovery

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// fuzzEntry builds what the cache could put together from untrusted
// packets: TXT strings are separated by NUL in txt.
func fuzzEntry(name string, port int, txt string, v4, v6 []byte, zone string) entry {
	e := entry{Name: name, Port: port}
	if txt != "" {
		e.TXT = strings.Split(txt, "\x00")
	}
	if a, ok := netip.AddrFromSlice(v4); ok {
		e.Addrs = append(e.Addrs, a)
	}
	if a, ok := netip.AddrFromSlice(v6); ok {
		e.Addrs = append(e.Addrs, a.WithZone(zone))
	}
	return e
}

// checkAddrs holds for every address either parser returns.
func checkAddrs(t *testing.T, addrs []netip.AddrPort, port int) {
	t.Helper()
	if len(addrs) == 0 || len(addrs) > maxAddrsPerPeer {
		t.Fatalf("%d addresses", len(addrs))
	}
	for _, a := range addrs {
		ip := a.Addr()
		if int(a.Port()) != port || a.Port() == 0 || !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsMulticast() || ip.Is4In6() {
			t.Fatalf("unusable address %v", a)
		}
		if ip.IsLinkLocalUnicast() && ip.Is6() && ip.Zone() == "" {
			t.Fatalf("link-local %v without zone", a)
		}
		if !ip.IsLinkLocalUnicast() && ip.Zone() != "" {
			t.Fatalf("zone on %v", a)
		}
	}
}

func FuzzParsePeer(f *testing.F) {
	f.Add(testID+"._lanchat._udp.local.", 4242, "v=1", []byte{192, 168, 1, 20}, []byte(net.ParseIP("fe80::20")), "")
	f.Fuzz(func(t *testing.T, name string, port int, txt string, v4, v6 []byte, zone string) {
		p, err := parsePeer(fuzzEntry(name, port, txt, v4, v6, zone), lan)
		if err != nil {
			return
		}
		if !isInstanceID(p.Instance) || p.Version != Version {
			t.Fatalf("accepted %+v", p)
		}
		checkAddrs(t, p.Addrs, port)
	})
}

func FuzzParseServer(f *testing.F) {
	f.Add("rendezvous-abababababab._lanchat-server._tcp.local.", 7443, "v=1\x00fp="+testFP, []byte{192, 168, 1, 2}, []byte(nil), "")
	f.Fuzz(func(t *testing.T, name string, port int, txt string, v4, v6 []byte, zone string) {
		s, err := parseServer(fuzzEntry(name, port, txt, v4, v6, zone), lan)
		if err != nil {
			return
		}
		if !isFingerprint(s.Fingerprint) || s.Instance == "" || strings.Contains(s.Instance, ".") {
			t.Fatalf("accepted %+v", s)
		}
		checkAddrs(t, s.Addrs, port)
	})
}
