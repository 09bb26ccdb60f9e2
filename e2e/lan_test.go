package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// The LAN test bed: a virtual office LAN on this machine. One network
// namespace holds a bridge; every host is a namespace of its own with a
// veth pair whose other end is a port of that bridge. Multicast crosses
// the bridge as on a switch, so mDNS works between hosts as on a real LAN,
// and nothing reaches any network outside the namespaces.

// lanSubnet is the hosts' IPv4 subnet (a /24); hosts get .1, .2, ...
const lanSubnet = "10.213.7"

var lanSeq atomic.Int32

// lan is a bridge namespace and the hosts attached to it.
type lan struct {
	t      *testing.T
	prefix string // unique per test bed: namespace and link names start with it
	bridge string // the bridge's namespace
	hosts  []*host
}

// host is one machine of the test bed.
type host struct {
	lan  *lan
	name string
	ns   string
	ip   string // IPv4 address on eth0
	port string // the bridge-side veth of this host
}

// newLAN makes an empty test bed, removed when the test ends. It skips
// the test where it cannot run: not root, or no ip command.
func newLAN(t *testing.T) *lan {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the LAN test bed needs root to make network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the LAN test bed needs the ip command (iproute2)")
	}
	l := &lan{t: t, prefix: fmt.Sprintf("lc%d%d", os.Getpid()%100000, lanSeq.Add(1))}
	l.bridge = l.prefix + "br"
	t.Cleanup(l.destroy)
	l.ip("netns", "add", l.bridge)
	l.ip("-n", l.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.ip("-n", l.bridge, "link", "set", "br0", "up")
	l.ip("-n", l.bridge, "link", "set", "lo", "up")
	return l
}

// ip runs the ip command and fails the test if it fails.
func (l *lan) ip(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// addHost attaches a new host to the bridge with address lanSubnet.N.
func (l *lan) addHost(name string) *host {
	l.t.Helper()
	n := len(l.hosts) + 1
	h := &host{lan: l, name: name, ns: fmt.Sprintf("%sh%d", l.prefix, n), ip: fmt.Sprintf("%s.%d", lanSubnet, n),
		port: fmt.Sprintf("p%d", n)}
	l.hosts = append(l.hosts, h)
	l.ip("netns", "add", h.ns)
	// Both ends are made in the bridge namespace, then one moves.
	l.ip("-n", l.bridge, "link", "add", h.port, "type", "veth", "peer", "name", "eth0")
	l.ip("-n", l.bridge, "link", "set", "eth0", "netns", h.ns)
	l.ip("-n", l.bridge, "link", "set", h.port, "master", "br0")
	l.ip("-n", l.bridge, "link", "set", h.port, "up")
	l.ip("-n", h.ns, "link", "set", "lo", "up")
	l.ip("-n", h.ns, "addr", "add", h.ip+"/24", "dev", "eth0")
	l.ip("-n", h.ns, "link", "set", "eth0", "up", "multicast", "on")
	// Multicast leaves by eth0; without a route the kernel refuses it.
	l.ip("-n", h.ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
	return h
}

// start runs one of the built binaries inside the host's namespace.
func (h *host) start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startCmd(t, exec.Command("ip", append([]string{"netns", "exec", h.ns, bin(name)}, args...)...))
}

// cut unplugs the host's cable: its bridge port goes down.
func (h *host) cut() { h.lan.ip("-n", h.lan.bridge, "link", "set", h.port, "down") }

// plug puts the cable back.
func (h *host) plug() { h.lan.ip("-n", h.lan.bridge, "link", "set", h.port, "up") }

// destroy removes every namespace of the test bed, even after a failure.
// Processes inside must be gone first; the test's cleanups registered
// after newLAN (the processes) run before this one.
func (l *lan) destroy() {
	for _, h := range l.hosts {
		exec.Command("ip", "netns", "del", h.ns).Run()
	}
	exec.Command("ip", "netns", "del", l.bridge).Run()
}
