package discovery

import (
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// goodbyeDelay is how long a record lives after a goodbye or a
// cache-flush (RFC 6762 sections 10.1 and 10.2).
const goodbyeDelay = time.Second

// cache keeps the records heard for one service type on our links: the
// PTRs naming its instances, their SRV and TXT records, and the A and
// AAAA records of the hosts their SRVs name. Every record of every
// response counts. It has no lock and no clock of its own: its owner
// serialises calls and passes the time.
type cache struct {
	typ     string        // "<service>.local.", lower case
	maxAge  time.Duration // a record not heard again for this long is gone, whatever its TTL
	max     int           // records kept at most
	records map[cacheKey]*cached
	// sets indexes records by record set, so that every lookup costs
	// the size of a set, not of the cache: a full cache must not make
	// each packet and each tick quadratic. put and drop keep it.
	sets    map[setKey]map[cacheKey]*cached
	targets map[hostKey]int // how many SRVs name each host
	refused int             // records turned away because the cache was full
}

// hostKey names a host (lower case) an SRV heard on an interface names.
type hostKey struct {
	iface int
	host  string
}

// setKey names a record set: the records of one name and type heard on
// one interface.
type setKey struct {
	iface  int
	name   string // lower case
	rrtype uint16
}

type cacheKey struct {
	setKey
	data string
}

type cached struct {
	rr      dns.RR
	link    link
	heard   time.Time
	expires time.Time
}

func newCache(service string, maxAge time.Duration, max int) *cache {
	return &cache{typ: strings.ToLower(service + "." + domain), maxAge: maxAge, max: max,
		records: make(map[cacheKey]*cached), sets: make(map[setKey]map[cacheKey]*cached), targets: make(map[hostKey]int)}
}

// put adds r, a new record, under k. (A record kept under the same key
// later has the same data, hence the same SRV target.)
func (c *cache) put(k cacheKey, r *cached) {
	c.records[k] = r
	set := c.sets[k.setKey]
	if set == nil {
		set = make(map[cacheKey]*cached)
		c.sets[k.setKey] = set
	}
	set[k] = r
	if srv, ok := r.rr.(*dns.SRV); ok {
		c.targets[hostKey{k.iface, strings.ToLower(srv.Target)}]++
	}
}

func (c *cache) drop(k cacheKey) {
	r := c.records[k]
	if r == nil {
		return
	}
	delete(c.records, k)
	if set := c.sets[k.setKey]; set != nil {
		delete(set, k)
		if len(set) == 0 {
			delete(c.sets, k.setKey)
		}
	}
	if srv, ok := r.rr.(*dns.SRV); ok {
		hk := hostKey{k.iface, strings.ToLower(srv.Target)}
		if c.targets[hk]--; c.targets[hk] <= 0 {
			delete(c.targets, hk)
		}
	}
}

// set returns the records of name (lower case) and type t heard on
// interface iface.
func (c *cache) set(iface int, name string, t uint16) map[cacheKey]*cached {
	return c.sets[setKey{iface, name, t}]
}

// add takes the records of response p heard at now.
func (c *cache) add(p packet, now time.Time) {
	if !p.msg.Response {
		return
	}
	rrs := make([]dns.RR, 0, len(p.msg.Answer)+len(p.msg.Extra))
	rrs = append(append(rrs, p.msg.Answer...), p.msg.Extra...)
	// Hosts named by an SRV of ours, in this packet or already known.
	hosts := map[string]bool{}
	for _, rr := range rrs {
		if srv, ok := rr.(*dns.SRV); ok && srv.Hdr.Class&^cacheFlush == dns.ClassINET && c.ours(srv) {
			hosts[strings.ToLower(srv.Target)] = true
		}
	}
	var keep []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		if h.Class&^cacheFlush != dns.ClassINET {
			continue // mDNS speaks of class IN only
		}
		switch h.Rrtype {
		case dns.TypeA, dns.TypeAAAA:
			if name := strings.ToLower(h.Name); hosts[name] || c.targeted(p.link.ifi.Index, name) {
				keep = append(keep, rr)
			}
		case dns.TypePTR, dns.TypeSRV, dns.TypeTXT:
			if c.ours(rr) {
				keep = append(keep, rr)
			}
		}
	}
	// Cache-flush: a unique record set replaces what was heard of it
	// more than a second ago.
	fresh := map[cacheKey]bool{}
	for _, rr := range keep {
		fresh[c.key(p.link, rr)] = true
	}
	for _, rr := range keep {
		h := rr.Header()
		if h.Class&cacheFlush == 0 {
			continue
		}
		for k, r := range c.set(p.link.ifi.Index, strings.ToLower(h.Name), h.Rrtype) {
			if !fresh[k] && now.Sub(r.heard) > goodbyeDelay && r.expires.After(now.Add(goodbyeDelay)) {
				r.expires = now.Add(goodbyeDelay)
			}
		}
	}
	for _, rr := range keep {
		k := c.key(p.link, rr)
		ttl := time.Duration(rr.Header().Ttl) * time.Second
		r := c.records[k]
		if ttl == 0 {
			if r != nil {
				r.expires = now.Add(goodbyeDelay)
			}
			continue
		}
		if r == nil {
			if len(c.records) >= c.max {
				c.refused++
				continue
			}
			r = &cached{rr: rr}
			c.put(k, r)
		}
		r.rr, r.link, r.heard, r.expires = rr, p.link, now, now.Add(min(ttl, c.maxAge))
	}
}

// ours reports whether rr is a PTR to an instance of our type, or an
// SRV or TXT of one.
func (c *cache) ours(rr dns.RR) bool {
	name := strings.ToLower(rr.Header().Name)
	if ptr, ok := rr.(*dns.PTR); ok {
		return name == c.typ && strings.HasSuffix(strings.ToLower(ptr.Ptr), "."+c.typ)
	}
	return strings.HasSuffix(name, "."+c.typ)
}

// targeted reports whether an SRV of ours heard on interface iface
// names host (lower case).
func (c *cache) targeted(iface int, host string) bool {
	return c.targets[hostKey{iface, host}] > 0
}

func (c *cache) key(l link, rr dns.RR) cacheKey {
	h := rr.Header()
	return cacheKey{setKey: setKey{iface: l.ifi.Index, name: strings.ToLower(h.Name), rrtype: h.Rrtype}, data: rdataKey(rr)}
}

// expire forgets the records whose time is up.
func (c *cache) expire(now time.Time) {
	for k, r := range c.records {
		if !now.Before(r.expires) {
			c.drop(k)
		}
	}
}

// found is an instance put together from the cache, with where it was
// heard.
type found struct {
	entry entry
	from  origin
}

// instances returns every instance with its SRV, TXT and addresses, one
// per link it was heard on. Where a record set has several members (a
// conflict), the most recently heard wins.
func (c *cache) instances() []found {
	type linkName struct {
		iface int
		name  string
	}
	newest := func(rs map[cacheKey]*cached) *cached {
		var best *cached
		for _, r := range rs {
			if best == nil || r.heard.After(best.heard) {
				best = r
			}
		}
		return best
	}
	var out []found
	seen := map[linkName]bool{}
	for k, r := range c.records {
		ptr, ok := r.rr.(*dns.PTR)
		if !ok || k.name != c.typ {
			continue
		}
		name := strings.ToLower(ptr.Ptr)
		ln := linkName{k.iface, name}
		if seen[ln] {
			continue
		}
		seen[ln] = true
		srv, txt := newest(c.set(k.iface, name, dns.TypeSRV)), newest(c.set(k.iface, name, dns.TypeTXT))
		if srv == nil || txt == nil {
			continue
		}
		s := srv.rr.(*dns.SRV)
		e := entry{Name: ptr.Ptr, Port: int(s.Port), TXT: txt.rr.(*dns.TXT).Txt}
		host := strings.ToLower(s.Target)
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			for _, a := range c.set(k.iface, host, t) {
				var ip []byte
				switch x := a.rr.(type) {
				case *dns.A:
					ip = x.A
				case *dns.AAAA:
					ip = x.AAAA
				}
				if addr, ok := netip.AddrFromSlice(ip); ok {
					e.Addrs = append(e.Addrs, addr)
				}
			}
		}
		out = append(out, found{entry: e, from: origin{iface: r.link.ifi.Name, prefixes: r.link.prefixes}})
	}
	return out
}

// query returns the questions to ask on l at now and the answers we know
// there with more than half of their life left (known-answer
// suppression, RFC 6762 section 7.1): the PTRs of our type, and the
// SRV, TXT and addresses still missing for an instance. The message
// fits in maxPacket bytes.
func (c *cache) query(l link, now time.Time, maxQuestions int) *dns.Msg {
	m := new(dns.Msg)
	m.Compress = true
	m.Question = []dns.Question{{Name: c.typ, Qtype: dns.TypePTR, Qclass: dns.ClassINET}}
	have := func(name string, t uint16) bool { return len(c.set(l.ifi.Index, name, t)) > 0 }
	ask := func(name string, t uint16) {
		if len(m.Question) < maxQuestions && !have(name, t) {
			m.Question = append(m.Question, dns.Question{Name: name, Qtype: t, Qclass: dns.ClassINET})
		}
	}
	for k, r := range c.records {
		if k.iface != l.ifi.Index {
			continue
		}
		switch rr := r.rr.(type) {
		case *dns.PTR:
			if k.name != c.typ {
				continue
			}
			ask(strings.ToLower(rr.Ptr), dns.TypeSRV)
			ask(strings.ToLower(rr.Ptr), dns.TypeTXT)
			life := r.expires.Sub(r.heard)
			if left := r.expires.Sub(now); left > life/2 && len(m.Answer) < maxRecordsPerPacket/2 {
				known := dns.Copy(rr)
				elapsed := uint32(now.Sub(r.heard) / time.Second)
				known.Header().Ttl = rr.Hdr.Ttl - min(elapsed, rr.Hdr.Ttl)
				known.Header().Class &^= cacheFlush
				m.Answer = append(m.Answer, known)
			}
		case *dns.SRV:
			target := strings.ToLower(rr.Target)
			if !have(target, dns.TypeA) && !have(target, dns.TypeAAAA) {
				if l.has4() {
					ask(target, dns.TypeA)
				}
				if l.has6() {
					ask(target, dns.TypeAAAA)
				}
			}
		}
	}
	// A message stays within the mDNS limit (section 17): the known
	// answers that do not fit are left out, which costs at most an
	// answer we knew already.
	for m.Len() > maxPacket && len(m.Answer) > 0 {
		m.Answer = m.Answer[:len(m.Answer)-1]
	}
	return m
}
