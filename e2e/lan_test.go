package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
)

// The LAN test bed: a virtual office LAN on this machine, made by the
// test bed (testbed.LAN). One network namespace holds a bridge; every
// host is a namespace of its own with a veth pair whose other end is a
// port of that bridge. Multicast crosses the bridge as on a switch, so
// mDNS works between hosts as on a real LAN, and nothing reaches any
// network outside the namespaces.

// lanSubnet is the hosts' IPv4 subnet (a /24); hosts get .1, .2, ...
const lanSubnet = "10.213.7"

// lanPrefix starts the names of the test bed's namespaces, so that those
// of a killed run are recognised and removed by the next.
const lanPrefix = "lce2e"

// lan is a bridge namespace and the hosts attached to it.
type lan struct {
	t   *testing.T
	bed *testbed.LAN
}

// host is one machine of the test bed.
type host struct {
	*testbed.Host
	lan  *lan
	name string
	ns   string
	ip   string // IPv4 address on eth0
}

// newLAN makes an empty test bed, removed when the test ends. It skips
// the test where it cannot run: not root, or no ip command.
func newLAN(t *testing.T) *lan {
	t.Helper()
	if err := testbed.NetnsUsable(); err != nil {
		t.Skipf("the LAN test bed: %v", err)
	}
	ctx := context.Background()
	testbed.RemoveStale(ctx, lanPrefix)
	n := testbed.NewNetns(lanPrefix)
	// Registered before the processes' cleanups, so it runs after them.
	t.Cleanup(func() { n.Close() })
	bed, err := n.LAN(ctx, lanSubnet)
	if err != nil {
		t.Fatal(err)
	}
	return &lan{t: t, bed: bed}
}

// addHost attaches a new host to the bridge with address lanSubnet.N.
func (l *lan) addHost(name string) *host {
	l.t.Helper()
	h, err := l.bed.AddHost(context.Background(), name)
	if err != nil {
		l.t.Fatal(err)
	}
	return &host{Host: h, lan: l, name: name, ns: h.NS, ip: h.IP}
}

// start runs one of the built binaries inside the host's namespace.
func (h *host) start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startCmd(t, testbed.Command(h.ns, bin(name), args...))
}

// cut unplugs the host's cable: its bridge port goes down.
func (h *host) cut() {
	if err := h.Cut(context.Background()); err != nil {
		h.lan.t.Fatal(err)
	}
}

// plug puts the cable back.
func (h *host) plug() {
	if err := h.Plug(context.Background()); err != nil {
		h.lan.t.Fatal(err)
	}
}

// avahi is an avahi-daemon on a host of the test bed, on a private
// system bus of its own (dbus-daemon), as on a Linux desktop.
type avahi struct {
	host *host
	bus  string // DBUS_SYSTEM_BUS_ADDRESS for avahi-browse and avahi-publish
}

// startAvahi runs dbus-daemon and avahi-daemon for h, both stopped when
// the test ends. It skips the test where avahi is not installed.
func (h *host) startAvahi(t *testing.T) *avahi {
	t.Helper()
	for _, cmd := range []string{"avahi-daemon", "avahi-browse", "avahi-publish", "dbus-daemon"} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Skipf("%s is not installed (apt-get install avahi-daemon avahi-utils)", cmd)
		}
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	busConf := filepath.Join(dir, "bus.conf")
	must(t, os.WriteFile(busConf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`), 0o600))
	avahiConf := filepath.Join(dir, "avahi-daemon.conf")
	must(t, os.WriteFile(avahiConf, []byte(`[server]
host-name=`+h.name+`
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=yes
ratelimit-interval-usec=0
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`), 0o600))
	bus := startCmd(t, exec.Command("dbus-daemon", "--config-file="+busConf, "--nofork", "--nopidfile"))
	eventually(t, 10*time.Second, func() (bool, string) {
		_, err := os.Stat(sock)
		return err == nil, "dbus-daemon made no socket: " + bus.output()
	})
	a := &avahi{host: h, bus: "unix:path=" + sock}
	// ip netns exec gives the command a mount namespace of its own: a
	// private /run/avahi-daemon keeps each daemon's pid file apart.
	cmd := exec.Command("ip", "netns", "exec", h.ns, "sh", "-c",
		`mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon --file="$1" --no-drop-root --no-chroot --no-rlimits --no-proc-title`,
		"sh", avahiConf)
	cmd.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+a.bus)
	d := startCmd(t, cmd)
	d.waitOutput(t, regexp.MustCompile(`Server startup complete`), 20*time.Second)
	return a
}

// browse runs avahi-browse -rpt service on the avahi's host and returns
// the resolved entries ("=" lines) split into their fields.
func (a *avahi) browse(t *testing.T, service string) [][]string {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", a.host.ns, "avahi-browse", "-rpt", service)
	cmd.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+a.bus)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("avahi-browse on %s: %v\n%s", a.host.name, err, out)
	}
	var entries [][]string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "=;") {
			entries = append(entries, strings.Split(line, ";"))
		}
	}
	return entries
}

// publish runs avahi-publish -s name service port txt... on the avahi's
// host until the test ends.
func (a *avahi) publish(t *testing.T, name, service string, port int, txt ...string) *proc {
	t.Helper()
	args := append([]string{"netns", "exec", a.host.ns, "avahi-publish", "-s", name, service, strconv.Itoa(port)}, txt...)
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+a.bus)
	p := startCmd(t, cmd)
	p.waitOutput(t, regexp.MustCompile(`Established under name`), 20*time.Second)
	return p
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
