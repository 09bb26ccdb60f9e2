package discovery

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fullCache fills a browser's cache to its bound with instances heard
// in packets of 60 (240 records), and returns it with the last packet.
func fullCache(b *testing.B) (*cache, packet) {
	b.Helper()
	c := newCache(PeerService, time.Minute, maxRecords)
	typ := PeerService + "." + domain
	now := time.Unix(1_800_000_000, 0)
	var last packet
	for k := 0; len(c.records) < maxRecords; k++ {
		m := new(dns.Msg)
		m.Response = true
		for i := range 60 {
			name := fmt.Sprintf("%032x.%s", k*100+i, typ)
			host := fmt.Sprintf("h%d-%d.local.", k, i)
			m.Answer = append(m.Answer,
				&dns.PTR{Hdr: dns.RR_Header{Name: typ, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 4500}, Ptr: name},
				&dns.SRV{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSRV, Class: dns.ClassINET | cacheFlush, Ttl: 120}, Port: 4242, Target: host},
				&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET | cacheFlush, Ttl: 4500}, Txt: []string{"v=1"}},
				&dns.A{Hdr: dns.RR_Header{Name: host, Rrtype: dns.TypeA, Class: dns.ClassINET | cacheFlush, Ttl: 120}, A: net.ParseIP("192.168.1.40")})
		}
		last = packet{msg: m, src: fuzzSrc, multicast: true, link: fuzzLink}
		c.add(last, now)
	}
	return c, last
}

// BenchmarkInstancesFull is what each tick of a watcher costs with a
// full cache (every 250 ms, under the lock its socket readers take).
func BenchmarkInstancesFull(b *testing.B) {
	c, _ := fullCache(b)
	b.ResetTimer()
	for b.Loop() {
		c.instances()
	}
}

// BenchmarkAddFull is what a large packet costs with a full cache.
func BenchmarkAddFull(b *testing.B) {
	c, p := fullCache(b)
	now := time.Unix(1_800_000_100, 0)
	b.ResetTimer()
	for b.Loop() {
		c.add(p, now)
	}
}
