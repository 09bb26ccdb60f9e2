package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// Network namespaces are named nsPrefix + xferload's process id + a
// letter, so that each run's are told apart and a run that was killed
// before it could clean up is recognised (see removeStale).
const nsPrefix = "xferload-"

// The emulated link's addresses exist only inside the two namespaces.
const (
	linkSubnet = "10.213.77"
	linkAddrA  = linkSubnet + ".1"
	linkAddrB  = linkSubnet + ".2"
)

// namespaces creates and removes the network namespaces of one run.
type namespaces struct {
	pid     int
	created []string
}

// name is the name of this run's namespace with the given letter.
func (n *namespaces) name(letter string) string {
	return nsPrefix + strconv.Itoa(n.pid) + "-" + letter
}

// add creates a namespace with its loopback interface up and nothing
// else: traffic in it cannot leave it.
func (n *namespaces) add(ctx context.Context, letter string) (string, error) {
	ns := n.name(letter)
	if _, err := run(ctx, "ip", "netns", "add", ns); err != nil {
		return "", err
	}
	n.created = append(n.created, ns)
	if _, err := run(ctx, "ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
		return "", err
	}
	return ns, nil
}

// remove deletes the namespace, which takes its interfaces with it.
// Every process started in it must have been stopped.
func (n *namespaces) remove(ns string) error {
	i := -1
	for j, c := range n.created {
		if c == ns {
			i = j
		}
	}
	if i < 0 {
		return nil
	}
	n.created = append(n.created[:i], n.created[i+1:]...)
	_, err := run(context.Background(), "ip", "netns", "del", ns)
	return err
}

// removeAll deletes every namespace this run created and still has.
func (n *namespaces) removeAll() error {
	var errs []error
	for len(n.created) > 0 {
		errs = append(errs, n.remove(n.created[len(n.created)-1]))
	}
	return errors.Join(errs...)
}

// link is two namespaces joined by a veth pair, each end shaped by tc.
type link struct {
	a, b   string // namespaces: a holds the sender (and the server), b the receiver
	va, vb string // the veth ends
	shape  []string
}

// linkShape is the tc qdisc put on both ends of the link for rate: a
// token bucket with room for a few 64 KiB GSO packets and at most a few
// milliseconds of queue, like a switch port.
func linkShape(rate string) []string {
	return []string{"root", "tbf", "rate", rate, "burst", "256kb", "latency", "5ms"}
}

// newLink makes namespaces a and b, a veth pair between them with
// linkAddrA and linkAddrB, and shapes both ends to rate.
func (n *namespaces) newLink(ctx context.Context, rate string) (*link, error) {
	a, err := n.add(ctx, "a")
	if err != nil {
		return nil, err
	}
	b, err := n.add(ctx, "b")
	if err != nil {
		return nil, err
	}
	l := &link{a: a, b: b, va: "xfa" + strconv.Itoa(n.pid), vb: "xfb" + strconv.Itoa(n.pid), shape: linkShape(rate)}
	steps := [][]string{
		{"ip", "link", "add", "name", l.va, "netns", a, "type", "veth", "peer", "name", l.vb, "netns", b},
		{"ip", "-n", a, "addr", "add", linkAddrA + "/24", "dev", l.va},
		{"ip", "-n", b, "addr", "add", linkAddrB + "/24", "dev", l.vb},
		{"ip", "-n", a, "link", "set", l.va, "up"},
		{"ip", "-n", b, "link", "set", l.vb, "up"},
		append([]string{"tc", "-n", a, "qdisc", "add", "dev", l.va}, l.shape...),
		append([]string{"tc", "-n", b, "qdisc", "add", "dev", l.vb}, l.shape...),
	}
	for _, s := range steps {
		if _, err := run(ctx, s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// describe says how the link was made, for the report.
func (l *link) describe() string {
	return fmt.Sprintf("`ip netns add %s`, `ip netns add %s`, `ip link add name %s netns %s type veth peer name %s netns %s` (%s/24 and %s/24), "+
		"then on both ends `tc qdisc add dev VETH %s`", l.a, l.b, l.va, l.a, l.vb, l.b, linkAddrA, linkAddrB, strings.Join(l.shape, " "))
}

var reNamespace = regexp.MustCompile(`^` + regexp.QuoteMeta(nsPrefix) + `(\d+)-[a-z]$`)

// removeStale deletes namespaces left by an xferload run that was
// killed before it could remove them: ours by name, whose process is
// gone. It returns the names removed.
func removeStale(ctx context.Context) []string {
	out, err := run(ctx, "ip", "netns", "list")
	if err != nil {
		return nil
	}
	var removed []string
	for _, ns := range staleNamespaces(out, alive) {
		if _, err := run(ctx, "ip", "netns", "del", ns); err == nil {
			removed = append(removed, ns)
		}
	}
	return removed
}

// staleNamespaces picks, from the output of `ip netns list`, the
// namespaces named by an xferload whose process isAlive denies.
func staleNamespaces(list string, isAlive func(pid int) bool) []string {
	var out []string
	for _, line := range strings.Split(list, "\n") {
		f := strings.Fields(line) // "NAME" or "NAME (id: 3)"
		if len(f) == 0 {
			continue
		}
		m := reNamespace.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err == nil && !isAlive(pid) {
			out = append(out, f[0])
		}
	}
	return out
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
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
