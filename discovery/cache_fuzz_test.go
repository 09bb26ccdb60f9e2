package discovery

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The link and on-link source the cache fuzz target hears packets from.
var (
	fuzzLink = link{ifi: net.Interface{Index: 2, Name: "eth0"}, prefixes: lan.prefixes}
	fuzzSrc  = netip.MustParseAddrPort("192.168.1.20:5353")
)

// fuzzMaxRecords is the cache bound under fuzzing: small, so that one
// packet can fill it.
const fuzzMaxRecords = 48

// baseLabel is the instance label of the well-formed instance of service
// the fuzz target knows before the fuzzed packet arrives, so that
// goodbyes and cache-flushes have something to act on.
func baseLabel(service string) string {
	if service == ServerService {
		return "rendezvous-0123"
	}
	return testID
}

// basePacket announces baseLabel's instance as our announcers do.
func basePacket(service string) *dns.Msg {
	txt := []string{"v=1"}
	if service == ServerService {
		txt = append(txt, "fp="+testFP)
	}
	return newZone(service, baseLabel(service), 4242, txt, addrs("192.168.1.30", "fe80::30")).announcement(false)
}

// FuzzCachePacket feeds arbitrary bytes, as a response heard from an
// on-link source, through what the browser does with every packet:
// decode, the cache, the instances put together from it, the peers and
// servers parsed from those, and the next query. Nothing may panic, the
// bounds hold, and only well-formed instances named in the packet (or
// the one known before) become peers or servers.
func FuzzCachePacket(f *testing.F) {
	b, err := basePacket(PeerService).Pack()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, service := range []string{PeerService, ServerService} {
			checkCachePacket(t, service, b)
		}
	})
}

func checkCachePacket(t *testing.T, service string, b []byte) {
	c := newCache(service, time.Minute, fuzzMaxRecords)
	now := time.Unix(1_800_000_000, 0)
	c.add(packet{msg: basePacket(service), src: fuzzSrc, multicast: true, link: fuzzLink}, now)
	if len(c.instances()) != 1 {
		t.Fatalf("%s: the base announcement makes %d instances", service, len(c.instances()))
	}
	p, ok := decode(b, fuzzSrc, fuzzLink, true)
	if !ok {
		return
	}
	m := p.msg
	if n := len(m.Question) + len(m.Answer) + len(m.Ns) + len(m.Extra); n > maxRecordsPerPacket {
		t.Fatalf("decode let through %d records", n)
	}
	// Instances the packet names with a live PTR, in lower case.
	named := map[string]bool{strings.ToLower(baseLabel(service) + "." + service + "." + domain): true}
	for _, rr := range append(append([]dns.RR(nil), m.Answer...), m.Extra...) {
		if ptr, ok := rr.(*dns.PTR); ok && ptr.Hdr.Ttl > 0 && ptr.Hdr.Class&^cacheFlush == dns.ClassINET {
			named[strings.ToLower(ptr.Ptr)] = true
		}
	}
	// Heard once, again after the cache-flush grace, then as time goes by.
	for _, d := range []time.Duration{2 * time.Second, 4 * time.Second, 6 * time.Second} {
		before := len(c.records)
		c.add(p, now.Add(d))
		if len(c.records) > c.max {
			t.Fatalf("cache holds %d records, bound %d", len(c.records), c.max)
		}
		if grown := len(c.records) - before; grown > len(m.Answer)+len(m.Extra) {
			t.Fatalf("one packet of %d records added %d", len(m.Answer)+len(m.Extra), grown)
		}
		checkIndex(t, c)
		c.expire(now.Add(d))
		checkIndex(t, c)
		checkInstances(t, service, c.instances(), named)
		q := c.query(fuzzLink, now.Add(d), maxQuestions)
		if len(q.Question) > maxQuestions || len(q.Answer) > maxRecordsPerPacket/2 {
			t.Fatalf("query of %d questions and %d known answers", len(q.Question), len(q.Answer))
		}
		qb, err := q.Pack()
		if err != nil {
			t.Fatalf("the next query does not pack: %v", err)
		}
		if len(qb) > maxPacket {
			t.Fatalf("the next query has %d bytes, more than %d", len(qb), maxPacket)
		}
	}
}

// checkInstances checks what the cache puts together: entries of
// service that the packet named, and peers or servers only from
// well-formed ones.
func checkInstances(t *testing.T, service string, fs []found, named map[string]bool) {
	t.Helper()
	if len(fs) > fuzzMaxRecords/3 {
		t.Fatalf("%d instances from %d records at most", len(fs), fuzzMaxRecords)
	}
	for _, f := range fs {
		if !named[strings.ToLower(f.entry.Name)] {
			t.Fatalf("instance %q named by no live PTR", f.entry.Name)
		}
		if f.from.iface != fuzzLink.ifi.Name {
			t.Fatalf("instance heard on %q", f.from.iface)
		}
		var got []netip.AddrPort
		switch service {
		case PeerService:
			p, err := parsePeer(f.entry, f.from)
			if err != nil {
				continue
			}
			if !isInstanceID(p.Instance) || p.Version != Version {
				t.Fatalf("accepted peer %+v", p)
			}
			got = p.Addrs
		case ServerService:
			s, err := parseServer(f.entry, f.from)
			if err != nil {
				continue
			}
			if !isFingerprint(s.Fingerprint) || s.Instance == "" || strings.Contains(s.Instance, ".") {
				t.Fatalf("accepted server %+v", s)
			}
			got = s.Addrs
		}
		checkAddrs(t, got, f.entry.Port)
		for _, a := range got {
			if ip := a.Addr(); !ip.IsLinkLocalUnicast() && !fuzzLink.onLink(ip) {
				t.Fatalf("off-link address %v", a)
			}
		}
	}
}

// checkIndex checks that the cache's indexes say what its records say.
func checkIndex(t *testing.T, c *cache) {
	t.Helper()
	n := 0
	for sk, set := range c.sets {
		if len(set) == 0 {
			t.Fatalf("empty set %+v kept", sk)
		}
		for k, r := range set {
			if k.setKey != sk || c.records[k] != r {
				t.Fatalf("set %+v holds %+v, not in the cache", sk, k)
			}
			n++
		}
	}
	if n != len(c.records) {
		t.Fatalf("sets hold %d records, the cache %d", n, len(c.records))
	}
	targets := map[hostKey]int{}
	for k, r := range c.records {
		if srv, ok := r.rr.(*dns.SRV); ok {
			targets[hostKey{k.iface, strings.ToLower(srv.Target)}]++
		}
	}
	if len(targets) != len(c.targets) {
		t.Fatalf("targets %v, want %v", c.targets, targets)
	}
	for hk, n := range targets {
		if c.targets[hk] != n {
			t.Fatalf("targets %v, want %v", c.targets, targets)
		}
	}
}
