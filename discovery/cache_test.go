package discovery

import (
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestCacheAsksAgainUntilResolved: an instance whose PTR was heard but
// whose SRV and TXT never came (the answer to the first resolution query
// was lost) is asked about again in every query until they come, and
// then counts; the host its SRV names is asked about until its address
// comes.
func TestCacheAsksAgainUntilResolved(t *testing.T) {
	name := testID + "." + PeerService + "." + domain
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	respond := func(c *cache, now time.Time, rrs ...dns.RR) {
		m := new(dns.Msg)
		m.Response = true
		m.Answer = rrs
		c.add(packet{msg: m, src: fuzzSrc, multicast: true, link: fuzzLink}, now)
	}
	asks := func(m *dns.Msg, qname string, t uint16) bool {
		return slices.ContainsFunc(m.Question, func(q dns.Question) bool { return q.Name == qname && q.Qtype == t })
	}

	c := newCache(PeerService, time.Minute, maxRecords)
	now := time.Unix(1_800_000_000, 0)
	respond(c, now, rr(PeerService+"."+domain+" 4500 IN PTR "+name))
	for round := 1; round <= 3; round++ {
		now = now.Add(time.Second)
		q := c.query(fuzzLink, now, maxQuestions)
		if !asks(q, name, dns.TypeSRV) || !asks(q, name, dns.TypeTXT) {
			t.Fatalf("round %d, no answer yet: the query does not ask for the SRV and TXT: %v", round, q.Question)
		}
		if n := len(c.instances()); n != 0 {
			t.Fatalf("round %d: %d instances without SRV and TXT", round, n)
		}
	}

	// The SRV and TXT come, without the host's address.
	now = now.Add(time.Second)
	respond(c, now, rr(name+" 120 IN SRV 0 0 4242 host-x.local."), rr(name+` 4500 IN TXT "v=1"`))
	q := c.query(fuzzLink, now, maxQuestions)
	if asks(q, name, dns.TypeSRV) || asks(q, name, dns.TypeTXT) {
		t.Fatalf("the query still asks for the SRV or TXT it has: %v", q.Question)
	}
	if !asks(q, "host-x.local.", dns.TypeA) {
		t.Fatalf("the query does not ask for the address of the SRV's host: %v", q.Question)
	}

	// Then the address: the instance counts as a peer.
	now = now.Add(time.Second)
	respond(c, now, rr("host-x.local. 120 IN A 192.168.1.40"))
	fs := c.instances()
	if len(fs) != 1 {
		t.Fatalf("%d instances once resolved, want 1", len(fs))
	}
	p, err := parsePeer(fs[0].entry, fs[0].from)
	if err != nil || p.Instance != testID {
		t.Fatalf("resolved instance: %+v, %v", p, err)
	}
	if q := c.query(fuzzLink, now, maxQuestions); len(q.Question) != 1 {
		t.Errorf("once resolved, the query asks %v, want only the PTR", q.Question)
	}
}
