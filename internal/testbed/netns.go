package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Network namespaces: a Netns makes namespaces named prefix + this
// process's id + "-" + a sequence number + "-" + a suffix, so that the
// namespaces of one bed are told apart from another's, and those of a
// process that was killed before it could clean up are recognised
// (RemoveStale). Making them needs root and the ip command (iproute2);
// traffic inside them never reaches a network outside.

var netnsSeq atomic.Int32

// Netns creates and removes the network namespaces of one bed.
type Netns struct {
	tag string // the start of every name this bed makes

	mu      sync.Mutex
	created []string // namespaces made and not yet removed, oldest first
}

// NetnsUsable says why namespaces cannot be made here, or nil.
func NetnsUsable() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("network namespaces need the ip command (iproute2)")
	}
	return nil
}

// NewNetns returns an empty bed whose namespaces' names start with
// prefix (letters and digits, short: a name ends up in /run/netns).
func NewNetns(prefix string) *Netns {
	return &Netns{tag: fmt.Sprintf("%s%d-%d-", prefix, os.Getpid(), netnsSeq.Add(1))}
}

// Add creates a namespace with its loopback interface up and nothing
// else, and returns its name.
func (n *Netns) Add(ctx context.Context, suffix string) (string, error) {
	ns := n.tag + suffix
	if _, err := Run(ctx, "ip", "netns", "add", ns); err != nil {
		return "", err
	}
	n.mu.Lock()
	n.created = append(n.created, ns)
	n.mu.Unlock()
	if _, err := Run(ctx, "ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
		return "", err
	}
	return ns, nil
}

// Remove deletes a namespace this bed made, which takes its interfaces
// with it. Every process started in it must have been stopped.
func (n *Netns) Remove(ns string) error {
	n.mu.Lock()
	i := -1
	for j, c := range n.created {
		if c == ns {
			i = j
		}
	}
	if i >= 0 {
		n.created = append(n.created[:i], n.created[i+1:]...)
	}
	n.mu.Unlock()
	if i < 0 {
		return nil
	}
	_, err := Run(context.Background(), "ip", "netns", "del", ns)
	return err
}

// Close deletes every namespace this bed made and still has, newest
// first.
func (n *Netns) Close() error {
	var errs []error
	for {
		n.mu.Lock()
		if len(n.created) == 0 {
			n.mu.Unlock()
			return errors.Join(errs...)
		}
		ns := n.created[len(n.created)-1]
		n.mu.Unlock()
		errs = append(errs, n.Remove(ns))
	}
}

// Command returns a command that runs bin with args inside namespace ns
// ("" for this one). ip execs the command after entering the namespace,
// so the process id is the command's own.
func Command(ns, bin string, args ...string) *exec.Cmd {
	if ns == "" {
		return exec.Command(bin, args...)
	}
	return exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
}

// runAll runs ip and tc commands in order, stopping at the first failure.
func runAll(ctx context.Context, steps [][]string) error {
	for _, s := range steps {
		if _, err := Run(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// Link is two namespaces joined by a veth pair, each end shaped by tc.
type Link struct {
	A, B         string // the namespaces
	VA, VB       string // the veth ends, in A and in B
	AddrA, AddrB string // their IPv4 addresses
	Shape        []string
}

// TBF is a tc qdisc for a link of the given rate: a token bucket with
// room for a few 64 KiB GSO packets and at most a few milliseconds of
// queue, like a switch port.
func TBF(rate string) []string {
	return []string{"root", "tbf", "rate", rate, "burst", "256kb", "latency", "5ms"}
}

// Link makes two namespaces, a veth pair between them with subnet.1 and
// subnet.2 (subnet is the first three bytes of a /24), and puts the
// qdisc shape (nil for none) on both ends.
func (n *Netns) Link(ctx context.Context, subnet string, shape []string) (*Link, error) {
	a, err := n.Add(ctx, "a")
	if err != nil {
		return nil, err
	}
	b, err := n.Add(ctx, "b")
	if err != nil {
		return nil, err
	}
	l := &Link{A: a, B: b, VA: "veth-a", VB: "veth-b", AddrA: subnet + ".1", AddrB: subnet + ".2", Shape: shape}
	if err := Veth(ctx, End{NS: a, Dev: l.VA, V4: l.AddrA + "/24"}, End{NS: b, Dev: l.VB, V4: l.AddrB + "/24"}); err != nil || shape == nil {
		return l, err
	}
	return l, runAll(ctx, [][]string{
		append([]string{"tc", "-n", a, "qdisc", "add", "dev", l.VA}, shape...),
		append([]string{"tc", "-n", b, "qdisc", "add", "dev", l.VB}, shape...),
	})
}

// End is one end of a veth pair: its namespace and device, an IPv4
// prefix ("" for none) and a fixed IPv6 link-local prefix ("" for none:
// the end then has no IPv6 address at all).
type End struct {
	NS, Dev string
	V4, LL  string
}

// Veth joins x and y by a veth pair (they may be in one namespace) and
// brings both ends up with their addresses, without the IPv6
// duplicate-address wait; an end with both an IPv4 and a link-local
// address also gets the route multicast leaves by.
func Veth(ctx context.Context, x, y End) error {
	steps := [][]string{{"ip", "-n", x.NS, "link", "add", x.Dev, "type", "veth", "peer", "name", y.Dev, "netns", y.NS}}
	for _, e := range []End{x, y} {
		steps = append(steps, []string{"ip", "-n", e.NS, "link", "set", e.Dev, "addrgenmode", "none"})
		if e.V4 != "" {
			steps = append(steps, []string{"ip", "-n", e.NS, "addr", "add", e.V4, "dev", e.Dev})
		}
		if e.LL != "" {
			steps = append(steps, []string{"ip", "-n", e.NS, "addr", "add", e.LL, "dev", e.Dev, "nodad"})
		}
		steps = append(steps, []string{"ip", "-n", e.NS, "link", "set", e.Dev, "up"})
		if e.V4 != "" && e.LL != "" {
			steps = append(steps, []string{"ip", "-n", e.NS, "route", "add", "224.0.0.0/4", "dev", e.Dev})
		}
	}
	return runAll(ctx, steps)
}

// Describe says how the link was made, for a report.
func (l *Link) Describe() string {
	return fmt.Sprintf("`ip netns add %s`, `ip netns add %s`, `ip -n %s link add %s type veth peer name %s netns %s` (%s/24 and %s/24), "+
		"then on both ends `tc qdisc add dev VETH %s`", l.A, l.B, l.A, l.VA, l.VB, l.B, l.AddrA, l.AddrB, strings.Join(l.Shape, " "))
}

// LAN is a virtual office LAN: one namespace holds a bridge; every host
// is a namespace of its own with a veth pair whose other end is a port of
// that bridge. Multicast crosses the bridge as on a switch, so mDNS works
// between hosts as on a real LAN.
type LAN struct {
	n      *Netns
	subnet string // the hosts' /24; hosts get .1, .2, ...
	Bridge string // the bridge's namespace

	mu    sync.Mutex
	hosts int
}

// Host is one machine of a LAN.
type Host struct {
	lan  *LAN
	Name string
	NS   string // its namespace
	IP   string // IPv4 address on eth0
	Port string // the bridge-side veth of this host
}

// LAN makes an empty LAN whose hosts get addresses in subnet (the first
// three bytes of a /24).
func (n *Netns) LAN(ctx context.Context, subnet string) (*LAN, error) {
	br, err := n.Add(ctx, "br")
	if err != nil {
		return nil, err
	}
	l := &LAN{n: n, subnet: subnet, Bridge: br}
	return l, runAll(ctx, [][]string{
		{"ip", "-n", br, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"},
		{"ip", "-n", br, "link", "set", "br0", "up"},
	})
}

// AddHost attaches a new host to the bridge with the next address.
func (l *LAN) AddHost(ctx context.Context, name string) (*Host, error) {
	l.mu.Lock()
	l.hosts++
	i := l.hosts
	l.mu.Unlock()
	ns, err := l.n.Add(ctx, "h"+strconv.Itoa(i))
	if err != nil {
		return nil, err
	}
	h := &Host{lan: l, Name: name, NS: ns, IP: fmt.Sprintf("%s.%d", l.subnet, i), Port: fmt.Sprintf("p%d", i)}
	// Both ends are made in the bridge namespace, then one moves.
	return h, runAll(ctx, [][]string{
		{"ip", "-n", l.Bridge, "link", "add", h.Port, "type", "veth", "peer", "name", "eth0"},
		{"ip", "-n", l.Bridge, "link", "set", "eth0", "netns", h.NS},
		{"ip", "-n", l.Bridge, "link", "set", h.Port, "master", "br0"},
		{"ip", "-n", l.Bridge, "link", "set", h.Port, "up"},
		{"ip", "-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
		{"ip", "-n", h.NS, "link", "set", "eth0", "up", "multicast", "on"},
		// Multicast leaves by eth0; without a route the kernel refuses it.
		{"ip", "-n", h.NS, "route", "add", "224.0.0.0/4", "dev", "eth0"},
	})
}

// Cut unplugs the host's cable: its bridge port goes down.
func (h *Host) Cut(ctx context.Context) error {
	_, err := Run(ctx, "ip", "-n", h.lan.Bridge, "link", "set", h.Port, "down")
	return err
}

// Plug puts the cable back.
func (h *Host) Plug(ctx context.Context) error {
	_, err := Run(ctx, "ip", "-n", h.lan.Bridge, "link", "set", h.Port, "up")
	return err
}

// RemoveStale deletes namespaces whose names start with prefix and whose
// maker's process is gone: left by a bed that was killed before it
// could remove them. It returns the names removed.
func RemoveStale(ctx context.Context, prefix string) []string {
	out, err := Run(ctx, "ip", "netns", "list")
	if err != nil {
		return nil
	}
	var removed []string
	for _, ns := range StaleNamespaces(out, prefix, Alive) {
		if _, err := Run(ctx, "ip", "netns", "del", ns); err == nil {
			removed = append(removed, ns)
		}
	}
	return removed
}

// StaleNamespaces picks, from the output of `ip netns list`, the
// namespaces made by a bed with this prefix whose process isAlive
// denies.
func StaleNamespaces(list, prefix string, isAlive func(pid int) bool) []string {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\d+)-\d+-[a-z0-9]+$`)
	var out []string
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line) // "NAME" or "NAME (id: 3)"
		if len(f) == 0 {
			continue
		}
		m := re.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		if pid, err := strconv.Atoi(m[1]); err == nil && !isAlive(pid) {
			out = append(out, f[0])
		}
	}
	return out
}

// Alive reports whether a process with this id exists.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
