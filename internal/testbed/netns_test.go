package testbed

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"
)

// TestHelperListener is not a test: run by reach in a namespace, it
// accepts TCP connections on $TESTBED_LISTEN until killed.
func TestHelperListener(t *testing.T) {
	addr := os.Getenv("TESTBED_LISTEN")
	if addr == "" {
		t.Skip("a helper for TestLinkAndLAN")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("listening\n")
	for {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

// reach reports whether a TCP connection from namespace from to ip:7000
// in namespace to succeeds.
func reach(t *testing.T, from, to, ip string) bool {
	t.Helper()
	cmd := Command(to, os.Args[0], "-test.run=^TestHelperListener$")
	cmd.Env = append(os.Environ(), "TESTBED_LISTEN="+ip+":7000")
	l, err := StartCmd("listener", filepath.Join(t.TempDir(), "listener.log"), cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Kill()
	if _, err := l.WaitLine(context.Background(), regexp.MustCompile(`listening`), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), "ip", "netns", "exec", from, "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/"+ip+"/7000")
	return err == nil
}

func TestStaleNamespaces(t *testing.T) {
	list := "tbx12-1-a (id: 3)\ntbx12-2-br\ntbx99-1-h1 (id: 4)\nother-12-1-a\ntbx12-a\n"
	alive := func(pid int) bool { return pid == 99 }
	got := StaleNamespaces(list, "tbx", alive)
	if want := []string{"tbx12-1-a", "tbx12-2-br"}; !slices.Equal(got, want) {
		t.Errorf("StaleNamespaces = %q, want %q", got, want)
	}
}

// TestLinkAndLAN makes a shaped link and a two-host LAN and pings across
// each; it needs root.
func TestLinkAndLAN(t *testing.T) {
	if err := NetnsUsable(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	n := NewNetns("tbtest")
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	l, err := n.Link(ctx, "10.213.99", TBF("100mbit"))
	if err != nil {
		t.Fatal(err)
	}
	if !reach(t, l.A, l.B, l.AddrB) {
		t.Error("no connection across the link")
	}
	lan, err := n.LAN(ctx, "10.213.98")
	if err != nil {
		t.Fatal(err)
	}
	a, err := lan.AddHost(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := lan.AddHost(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if !reach(t, a.NS, b.NS, b.IP) {
		t.Error("no connection across the bridge")
	}
	if err := b.Cut(ctx); err != nil {
		t.Fatal(err)
	}
	if reach(t, a.NS, b.NS, b.IP) {
		t.Error("a host whose cable is cut still answers")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := Run(ctx, "ip", "netns", "list")
	if regexp.MustCompile(`tbtest`).MatchString(out) {
		t.Errorf("namespaces left after Close:\n%s", out)
	}
}
