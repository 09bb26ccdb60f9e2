package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// TestRFC6762 checks, packet by packet, what an Announcer and a Browser do
// on a link shared with other mDNS software (RFC 6762): a probe in one
// namespace speaks raw mDNS (github.com/miekg/dns) to an Announcer in
// another, and publishes three instances in one packet to a Browser there.
func TestRFC6762(t *testing.T) {
	l := newLab(t)
	nsA, nsB := l.netns("a"), l.netns("b")
	l.veth(end{NS: nsA, Dev: "lca", V4: "10.251.79.1/24", LL: "fe80::a/64"}, end{NS: nsB, Dev: "lcb", V4: "10.251.79.2/24", LL: "fe80::b/64"})
	// An address off the link's network on the probe's side, with a route
	// back to it from the announcer's side: only the responder's own rule
	// (RFC 6762 section 11) can keep it from answering.
	l.must("-n", nsB, "addr", "add", "10.99.0.5/24", "dev", "lcb")
	l.must("-n", nsA, "route", "add", "10.99.0.0/24", "dev", "lca")

	pubA, seedA := keyFromSeed(0xa)
	idA := InstanceID(pubA)
	a := l.start(nsA, "announce", "KEY="+seedA, "PORT=4242", "FP="+strings.Repeat("5e", 32), "SPORT=7443")
	a.next(10*time.Second, "ready")
	count := l.start(nsA, "count", "KEY="+seedA, "IFACE=lca")
	probe := l.start(nsB, "probe", "TARGET=10.251.79.1", "OFFLINK=10.99.0.5", "SELF=10.251.79.2", "ID="+idA, "IFACE=lcb")

	want := []string{"legacy", "multicast", "cache-flush", "known-answer", "off-link", "on-link"}
	got := map[string]probeCheck{}
	for range want {
		_, p := probe.next(30*time.Second, "check")
		var c probeCheck
		if err := json.Unmarshal([]byte(p), &c); err != nil {
			t.Fatal(err)
		}
		got[c.Name] = c
	}
	for _, name := range want {
		c, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: not checked", name)
		case !c.OK:
			t.Errorf("%s: %s", name, c.Detail)
		default:
			t.Logf("%s: %s", name, c.Detail)
		}
	}

	// Three instances in one packet are three peers.
	deadline := time.Now().Add(15 * time.Second)
	var peers []Peer
	for len(peers) != 3 && time.Now().Before(deadline) {
		_, p := count.next(time.Until(deadline)+time.Second, "peers")
		peers = nil
		if err := json.Unmarshal([]byte(p), &peers); err != nil {
			t.Fatal(err)
		}
	}
	if len(peers) != 3 {
		t.Errorf("a browser counted %d of three instances published in one packet: %+v", len(peers), peers)
	}

	// A stopped announcer says goodbye (TTL 0) at once.
	stopped := time.Now()
	a.stop()
	_, p := probe.next(5*time.Second, "goodbye")
	t.Logf("goodbye heard %v after stop: %s", time.Since(stopped).Round(time.Millisecond), p)
}

type probeCheck struct {
	Name   string
	OK     bool
	Detail string
}

// runProbe is the "probe" helper role of TestRFC6762.
func runProbe(t *testing.T, emit func(string, any)) {
	target := net.ParseIP(os.Getenv("TARGET"))
	id := os.Getenv("ID")
	ifi, err := net.InterfaceByName(os.Getenv("IFACE"))
	if err != nil {
		t.Fatal(err)
	}
	instance := id + "." + PeerService + "." + domain
	ptrName := PeerService + "." + domain
	group := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	check := func(name string, ok bool, format string, args ...any) {
		emit("check", probeCheck{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}

	// The 5353 socket hears every multicast response on the link.
	lc := net.ListenConfig{Control: reuseAddr}
	c5353, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:5353")
	if err != nil {
		t.Fatal(err)
	}
	defer c5353.Close()
	p5353 := ipv4.NewPacketConn(c5353)
	if err := p5353.JoinGroup(ifi, group); err != nil {
		t.Fatal(err)
	}
	p5353.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true)
	p5353.SetMulticastInterface(ifi)
	p5353.SetMulticastTTL(255)
	type packet struct {
		m   *dns.Msg
		dst net.IP
		at  time.Time
	}
	heard := make(chan packet, 256)
	go func() {
		buf := make([]byte, 9000)
		for {
			n, cm, _, err := p5353.ReadFrom(buf)
			if err != nil {
				close(heard)
				return
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil || !m.Response {
				continue
			}
			var dst net.IP
			if cm != nil {
				dst = cm.Dst
			}
			for _, rr := range append(slices.Clone(m.Answer), m.Extra...) {
				if ptr, ok := rr.(*dns.PTR); ok && strings.EqualFold(ptr.Ptr, instance) && ptr.Hdr.Ttl == 0 {
					emit("goodbye", rr.String())
				}
			}
			heard <- packet{m, dst, time.Now()}
		}
	}()
	// collect returns the responses heard on 5353 within d.
	collect := func(d time.Duration) []packet {
		var out []packet
		end := time.After(d)
		for {
			select {
			case p := <-heard:
				out = append(out, p)
			case <-end:
				return out
			}
		}
	}
	has := func(rrs []dns.RR, name string, qtype uint16) bool {
		return slices.ContainsFunc(rrs, func(rr dns.RR) bool {
			h := rr.Header()
			return h.Rrtype == qtype && strings.EqualFold(h.Name, name) || (qtype == dns.TypePTR && h.Rrtype == qtype && strings.EqualFold(rr.(*dns.PTR).Ptr, name))
		})
	}

	// legacy: a query from another port than 5353 gets a unicast reply
	// echoing its id and question, with TTLs of at most 10 s and no
	// cache-flush bit (section 6.7).
	legacy := func(from, to net.IP) (*dns.Msg, error) {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: from})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		q := new(dns.Msg)
		q.SetQuestion(ptrName, dns.TypePTR)
		q.Id = 0x4c43
		b, _ := q.Pack()
		if _, err := c.WriteTo(b, &net.UDPAddr{IP: to, Port: 5353}); err != nil {
			return nil, err
		}
		c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
		buf := make([]byte, 9000)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return nil, nil // no answer
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) == nil && has(m.Answer, instance, dns.TypePTR) {
				return m, nil
			}
		}
	}
	m, err := legacy(net.ParseIP(os.Getenv("SELF")), group.IP)
	switch {
	case err != nil:
		check("legacy", false, "%v", err)
	case m == nil:
		check("legacy", false, "no reply to a legacy query")
	default:
		bad := []string{}
		if m.Id != 0x4c43 {
			bad = append(bad, fmt.Sprintf("id %#x, want 0x4c43", m.Id))
		}
		if len(m.Question) != 1 || !strings.EqualFold(m.Question[0].Name, ptrName) || m.Question[0].Qtype != dns.TypePTR {
			bad = append(bad, fmt.Sprintf("question %v not echoed", m.Question))
		}
		for _, rr := range append(slices.Clone(m.Answer), m.Extra...) {
			if rr.Header().Ttl > 10 {
				bad = append(bad, "TTL over 10 s: "+rr.String())
			}
			if rr.Header().Class&0x8000 != 0 {
				bad = append(bad, "cache-flush bit: "+rr.String())
			}
		}
		check("legacy", len(bad) == 0, "reply %s", strings.Join(append(bad, "ok"), "; "))
	}

	// multicast: a plain (QM) query from port 5353 is answered by
	// multicast, not by unicast to port 5353, which another responder on
	// the querier's host would take (section 6); unique records carry
	// the cache-flush bit (section 10.2).
	q := new(dns.Msg)
	q.SetQuestion(ptrName, dns.TypePTR)
	q.Id = 0
	b, _ := q.Pack()
	var answer *packet
	// A responder multicasts a record at most once a second (section
	// 6): a query just after the record went out (an announcement, an
	// answer to the browser next to it) is answered by none, so ask a
	// few times.
	for try := 0; try < 3 && answer == nil; try++ {
		if _, err := p5353.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifi.Index}, group); err != nil {
			t.Fatal(err)
		}
		for _, p := range collect(1500 * time.Millisecond) {
			// An announcement (at start, a second later, after a
			// rescan) carries every record as an answer; the answer
			// to this query the PTR only, the rest as additional
			// records.
			if has(p.m.Answer, instance, dns.TypePTR) && !has(p.m.Answer, instance, dns.TypeSRV) {
				answer = &p
				break
			}
		}
	}
	if answer == nil {
		check("multicast", false, "no answer heard on port 5353")
		check("cache-flush", false, "no answer heard on port 5353")
	} else {
		check("multicast", answer.dst.Equal(group.IP), "answer sent to %v", answer.dst)
		var missing []string
		for _, rr := range append(slices.Clone(answer.m.Answer), answer.m.Extra...) {
			h := rr.Header()
			unique := h.Rrtype != dns.TypePTR
			if unique && h.Class&0x8000 == 0 {
				missing = append(missing, rr.String())
			}
			if !unique && h.Class&0x8000 != 0 {
				missing = append(missing, "shared with the bit: "+rr.String())
			}
		}
		check("cache-flush", len(missing) == 0 && len(answer.m.Extra) > 0, "records without the bit: %q; %d additional records", missing, len(answer.m.Extra))
	}

	// known-answer: a query that lists the answer it already knows, with
	// more than half its TTL left, gets no answer (section 7.1).
	q = new(dns.Msg)
	q.SetQuestion(instance, dns.TypeSRV)
	q.Id = 0
	q.Answer = []dns.RR{&dns.SRV{Hdr: dns.RR_Header{Name: instance, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 120},
		Port: 4242, Target: id + "." + domain}}
	b, _ = q.Pack()
	p5353.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifi.Index}, group)
	answered := 0
	for _, p := range collect(1500 * time.Millisecond) {
		if has(p.m.Answer, instance, dns.TypeSRV) {
			answered++
		}
	}
	check("known-answer", answered == 0, "%d answers to a query that knew the answer", answered)

	// off-link: a query from a source outside the link's networks gets
	// no answer, by unicast or multicast (section 11); one from on the
	// link does. (A unicast query to port 5353 reaches only one of the
	// sockets sharing it on the host, so the control goes to the group.)
	m, err = legacy(net.ParseIP(os.Getenv("OFFLINK")), target)
	mg, gerr := legacy(net.ParseIP(os.Getenv("OFFLINK")), group.IP)
	check("off-link", err == nil && gerr == nil && m == nil && mg == nil, "reply to a unicast query %v, to a multicast one %v, err %v %v", m != nil, mg != nil, err, gerr)
	m, err = legacy(net.ParseIP(os.Getenv("SELF")), group.IP)
	check("on-link", err == nil && m != nil, "reply %v, err %v", m != nil, err)

	// Publish three instances in one packet, as avahi-publish does, until
	// told to stop.
	three := new(dns.Msg)
	three.Response, three.Authoritative = true, true
	host := "probe." + domain
	for i := range 3 {
		name := fmt.Sprintf("%032x", 0xf00d+i) + "." + ptrName
		three.Answer = append(three.Answer,
			&dns.PTR{Hdr: dns.RR_Header{Name: ptrName, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 4500}, Ptr: name},
			&dns.SRV{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSRV, Class: dns.ClassINET | 0x8000, Ttl: 120}, Port: uint16(5001 + i), Target: host},
			&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET | 0x8000, Ttl: 4500}, Txt: []string{"v=1"}})
	}
	three.Answer = append(three.Answer, &dns.A{Hdr: dns.RR_Header{Name: host, Rrtype: dns.TypeA, Class: dns.ClassINET | 0x8000, Ttl: 120}, A: net.ParseIP(os.Getenv("SELF"))})
	b, err = three.Pack()
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		os.Stdin.Read(make([]byte, 1)) // until the test closes stdin
		close(stop)
	}()
	for {
		p5353.WriteTo(b, &ipv4.ControlMessage{IfIndex: ifi.Index}, group)
		select {
		case <-stop:
			return
		case <-time.After(time.Second):
		}
	}
}

// runCount is the "count" helper role of TestRFC6762: a Browser that
// reports every peer it knows after each event.
func runCount(t *testing.T, emit func(string, any), closers *[]func() error) {
	self, _ := keyFromSeedHex(t, os.Getenv("KEY"))
	b, err := NewBrowser(BrowserConfig{Identity: self, Iface: os.Getenv("IFACE"),
		Interval: 300 * time.Millisecond, Jitter: 100 * time.Millisecond, TTL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.Events() {
			emit("peers", b.Snapshot())
		}
	}()
	*closers = append(*closers, func() error { err := b.Close(); <-done; return err })
}
