package discovery

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Record TTLs (RFC 6762 section 10): 120 s for records naming a host, 75
// minutes for the others; at most 10 s in answers to legacy queriers
// (section 6.7).
const (
	hostTTL   = 120
	otherTTL  = 4500
	legacyTTL = 10
	// cacheFlush is the top bit of a record's class: "this is the whole
	// set" (section 10.2).
	cacheFlush = 1 << 15
	// unicastResponse is the top bit of a question's class (section 5.4).
	unicastResponse = 1 << 15
)

// servicesName lists the service types on the link (RFC 6763 section 9).
const servicesName = "_services._dns-sd._udp." + domain

// zone is what one instance answers on one link: its PTR, SRV, TXT and
// the link's addresses under the host name "<instance>.local.".
type zone struct {
	records []dns.RR
}

// newZone returns the records of instance of service on a link with
// addrs.
func newZone(service, instance string, port int, txt []string, addrs []netip.Addr) *zone {
	typ := service + "." + domain
	name := instance + "." + typ
	host := instance + "." + domain
	hdr := func(name string, t uint16, ttl uint32, unique bool) dns.RR_Header {
		class := uint16(dns.ClassINET)
		if unique {
			class |= cacheFlush
		}
		return dns.RR_Header{Name: name, Rrtype: t, Class: class, Ttl: ttl}
	}
	z := &zone{records: []dns.RR{
		&dns.PTR{Hdr: hdr(typ, dns.TypePTR, otherTTL, false), Ptr: name},
		&dns.SRV{Hdr: hdr(name, dns.TypeSRV, hostTTL, true), Port: uint16(port), Target: host},
		&dns.TXT{Hdr: hdr(name, dns.TypeTXT, otherTTL, true), Txt: txt},
		&dns.PTR{Hdr: hdr(servicesName, dns.TypePTR, otherTTL, false), Ptr: typ},
	}}
	for _, a := range addrs {
		if a.Is4() {
			z.records = append(z.records, &dns.A{Hdr: hdr(host, dns.TypeA, hostTTL, true), A: a.AsSlice()})
		} else {
			z.records = append(z.records, &dns.AAAA{Hdr: hdr(host, dns.TypeAAAA, hostTTL, true), AAAA: a.AsSlice()})
		}
	}
	return z
}

// unique reports whether rr is one of the records only we answer for
// (everything but the shared PTRs).
func unique(rr dns.RR) bool { return rr.Header().Rrtype != dns.TypePTR }

// reply is what to send in answer to one query.
type reply struct {
	msg     *dns.Msg
	unicast bool // to the querier, not to the group
}

// answer returns the reply to query q from a querier at source port
// srcPort, heard by multicast or not, or nil when there is nothing to
// say (RFC 6762 sections 6 and 7).
func (z *zone) answer(q *dns.Msg, srcPort uint16, multicast bool) *reply {
	if q.Response || len(q.Question) == 0 {
		return nil
	}
	legacy := srcPort != mdnsPort
	unicast := legacy || !multicast
	var answers []dns.RR
	for _, question := range q.Question {
		class := question.Qclass &^ unicastResponse
		if class != dns.ClassINET && class != dns.ClassANY {
			continue
		}
		if question.Qclass&unicastResponse != 0 {
			unicast = true
		}
		for _, rr := range z.records {
			h := rr.Header()
			if !strings.EqualFold(h.Name, question.Name) || (question.Qtype != dns.TypeANY && question.Qtype != h.Rrtype) {
				continue
			}
			if !containsRR(answers, rr) && !knownAnswer(q.Answer, rr) {
				answers = append(answers, rr)
			}
		}
	}
	if len(answers) == 0 {
		return nil
	}
	// Additional records spare the querier further queries (RFC 6763
	// section 12).
	var extra []dns.RR
	for _, rr := range answers {
		var names []string
		switch r := rr.(type) {
		case *dns.PTR:
			names = []string{r.Ptr}
		case *dns.SRV:
			names = []string{r.Target}
		}
		for _, rr2 := range z.records {
			h := rr2.Header()
			if h.Rrtype == dns.TypePTR || containsRR(answers, rr2) || containsRR(extra, rr2) {
				continue
			}
			for _, n := range names {
				if strings.EqualFold(h.Name, n) {
					extra = append(extra, rr2)
					if srv, ok := rr2.(*dns.SRV); ok {
						names = append(names, srv.Target)
					}
					break
				}
			}
		}
	}
	m := new(dns.Msg)
	m.Response, m.Authoritative = true, true
	if legacy {
		// Section 6.7: echo the id and question, short TTLs, no
		// cache-flush bits.
		m.Id = q.Id
		m.Question = q.Question
		m.Answer, m.Extra = legacyCopy(answers), legacyCopy(extra)
	} else {
		m.Answer, m.Extra = answers, extra
	}
	return &reply{msg: m, unicast: unicast}
}

// announcement returns an unsolicited response carrying every record,
// with TTL 0 for a goodbye (RFC 6762 sections 8.3 and 10.1).
func (z *zone) announcement(goodbye bool) *dns.Msg {
	m := new(dns.Msg)
	m.Response, m.Authoritative = true, true
	for _, rr := range z.records {
		if goodbye {
			rr = dns.Copy(rr)
			rr.Header().Ttl = 0
		}
		m.Answer = append(m.Answer, rr)
	}
	return m
}

// knownAnswer reports whether the querier listed rr among the answers it
// knows with at least half its TTL left (section 7.1).
func knownAnswer(known []dns.RR, rr dns.RR) bool {
	for _, k := range known {
		if k.Header().Ttl >= rr.Header().Ttl/2 && sameRR(k, rr) {
			return true
		}
	}
	return false
}

func containsRR(rrs []dns.RR, rr dns.RR) bool {
	for _, r := range rrs {
		if sameRR(r, rr) {
			return true
		}
	}
	return false
}

// sameRR compares name (case-insensitively), type and data, ignoring
// class bits and TTL.
func sameRR(a, b dns.RR) bool {
	ha, hb := a.Header(), b.Header()
	if ha.Rrtype != hb.Rrtype || !strings.EqualFold(ha.Name, hb.Name) ||
		ha.Class&^cacheFlush != hb.Class&^cacheFlush {
		return false
	}
	return rdataKey(a) == rdataKey(b)
}

// rdataKey is a record's data in presentation form, lower-cased where
// it holds names.
func rdataKey(rr dns.RR) string {
	switch r := rr.(type) {
	case *dns.PTR:
		return strings.ToLower(r.Ptr)
	case *dns.SRV:
		return strings.ToLower(r.Target) + ":" + strconv.Itoa(int(r.Port))
	case *dns.TXT:
		return strings.Join(r.Txt, "\x00")
	case *dns.A:
		return r.A.String()
	case *dns.AAAA:
		return r.AAAA.String()
	}
	h := rr.Header()
	s := rr.String()
	return s[len(h.String()):]
}

func legacyCopy(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		h := rr.Header()
		h.Class &^= cacheFlush
		h.Ttl = min(h.Ttl, legacyTTL)
		out = append(out, rr)
	}
	return out
}
