package discovery

import (
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Loopback has no multicast flag on Linux, so naming it is a way to test
// the "multicast does not work here" path without sending a packet.
func loopbackName(t *testing.T) string {
	t.Helper()
	ifis, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range ifis {
		if ifi.Flags&net.FlagLoopback != 0 && ifi.Flags&net.FlagMulticast == 0 {
			return ifi.Name
		}
	}
	t.Skip("no loopback interface without the multicast flag here")
	return ""
}

func TestBrowserWithoutMulticastWarnsOnceAndKeepsRunning(t *testing.T) {
	lo := loopbackName(t)
	rec := &logRecorder{}
	b, err := NewBrowser(BrowserConfig{Iface: lo, Logger: slog.New(rec),
		Interval: 20 * time.Millisecond, Jitter: -1})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // many rounds
	if err := b.Blocked(); !errors.Is(err, ErrNoMulticast) {
		t.Errorf("Blocked = %v, want ErrNoMulticast", err)
	}
	if n := rec.count(slog.LevelWarn); n != 1 {
		t.Errorf("%d warnings, want exactly 1", n)
	}
	if rounds := rec.count(slog.LevelDebug); rounds < 3 {
		t.Errorf("only %d rounds logged: the browser stopped", rounds)
	}
	if len(b.Snapshot()) != 0 {
		t.Error("peers without multicast")
	}
	b.Close()
	b.Close()
	if _, ok := <-b.Events(); ok {
		t.Error("Events not closed by Close")
	}
	checkGoroutinesGone(t)
}

func TestAnnouncerWithoutMulticast(t *testing.T) {
	lo := loopbackName(t)
	rec := &logRecorder{}
	pub, _, _ := ed25519.GenerateKey(nil)
	a, err := NewAnnouncer(AnnouncerConfig{Identity: pub, Port: 4242, Iface: lo, Logger: slog.New(rec), Rescan: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := a.Blocked(); !errors.Is(err, ErrNoMulticast) {
		t.Errorf("Blocked = %v, want ErrNoMulticast", err)
	}
	if got := a.Interfaces(); len(got) != 0 {
		t.Errorf("announcing on %v", got)
	}
	if n := rec.count(slog.LevelWarn); n != 1 {
		t.Errorf("%d warnings, want exactly 1", n)
	}
	a.Close()
	a.Close()
	checkGoroutinesGone(t)
}

func TestFindServerWithoutMulticast(t *testing.T) {
	lo := loopbackName(t)
	start := time.Now()
	_, err := FindServer(t.Context(), FindOptions{Iface: lo, Timeout: 5 * time.Second})
	if !errors.Is(err, ErrNoMulticast) {
		t.Errorf("FindServer = %v, want ErrNoMulticast", err)
	}
	if time.Since(start) > time.Second {
		t.Error("FindServer waited although nothing can be sent")
	}
}

func TestConfigErrors(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	if _, err := NewAnnouncer(AnnouncerConfig{Identity: pub[:31], Port: 1}); err == nil {
		t.Error("short key accepted")
	}
	for _, port := range []int{0, -1, 65536} {
		if _, err := NewAnnouncer(AnnouncerConfig{Identity: pub, Port: port, Iface: "lo"}); err == nil {
			t.Errorf("port %d accepted", port)
		}
	}
	if _, err := NewServerAnnouncer(ServerAnnouncerConfig{Port: 1, Fingerprint: strings.ToUpper(testFP)}); err == nil {
		t.Error("upper-case fingerprint accepted")
	}
	if _, err := NewBrowser(BrowserConfig{Iface: "no-such-if0"}); err == nil {
		t.Error("missing interface accepted by NewBrowser")
	}
	if _, err := NewAnnouncer(AnnouncerConfig{Identity: pub, Port: 1, Iface: "no-such-if0"}); err == nil {
		t.Error("missing interface accepted by NewAnnouncer")
	}
	if _, err := NewBrowser(BrowserConfig{Identity: pub[:31], Iface: "lo"}); err == nil {
		t.Error("short identity key accepted by NewBrowser")
	}
}

// TestZoneRevealsNoHostName checks what a responder answers, without a
// network: the instance id, the port, v=1 and the interface's addresses,
// and never the machine's host name.
func TestZoneRevealsNoHostName(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	instance := InstanceID(pub)
	l := link{ifi: net.Interface{Name: "eth0"}, prefixes: lan.prefixes}
	z := newZone(PeerService, instance, 4242, []string{"v=1"}, l.announced())
	var all strings.Builder
	for _, name := range []string{"_lanchat._udp.local.", instance + "._lanchat._udp.local.", instance + ".local.", "_services._dns-sd._udp.local."} {
		for _, qt := range []uint16{dns.TypeANY, dns.TypePTR, dns.TypeSRV, dns.TypeTXT, dns.TypeA, dns.TypeAAAA} {
			q := new(dns.Msg)
			q.SetQuestion(name, qt)
			if r := z.answer(q, mdnsPort, true); r != nil {
				for _, rr := range append(r.msg.Answer, r.msg.Extra...) {
					all.WriteString(rr.String() + "\n")
				}
			}
		}
	}
	got := all.String()
	for _, want := range []string{"PTR\t" + instance, "SRV\t0 0 4242 " + instance + ".local.", `TXT	"v=1"`, "192.168.1.10", "fe80::10", "fd00:1::10"} {
		if !strings.Contains(got, want) {
			t.Errorf("records lack %q:\n%s", want, got)
		}
	}
	if host, err := os.Hostname(); err == nil && len(host) > 3 && strings.Contains(strings.ToLower(got), strings.ToLower(host)) {
		t.Errorf("records name the host %q:\n%s", host, got)
	}
}
