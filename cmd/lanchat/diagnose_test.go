package main

import (
	"context"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/peer/api"
)

func TestDoctor(t *testing.T) {
	h := newHarness(t)
	checks := []api.Check{
		{Name: "server", OK: true, Detail: "connected"},
		{Name: "udp buffers", OK: true, Warn: true, Detail: "small", Fix: "raise them"},
	}
	h.svc.DoctorFunc = func(context.Context) (api.Diagnosis, error) { return api.Diagnosis{Checks: checks}, nil }
	r := h.run("", "doctor")
	if r.code != 0 || !strings.Contains(r.stdout, "warn  udp buffers") || !strings.Contains(r.stdout, "fix: raise them") ||
		!strings.Contains(r.stdout, "all checks passed") {
		t.Fatalf("passing doctor: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checks = append(checks, api.Check{Name: "direct bob", Detail: "no path", Fix: "open UDP"})
	r = h.run("", "doctor")
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL  direct bob") || !strings.Contains(r.stdout, "fix: open UDP") ||
		!strings.Contains(r.stderr, "1 of 3 checks failed") {
		t.Fatalf("failing doctor: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestPeers(t *testing.T) {
	h := newHarness(t)
	h.svc.PeersFunc = func(context.Context) (api.LANPeers, error) {
		return api.LANPeers{Discovery: api.DiscoveryOn, Contacts: []api.LANPeer{{User: "bob", Addrs: []string{"10.0.0.2:4000"}, Connected: true}}, Others: 2}, nil
	}
	r := h.run("", "peers")
	if r.code != 0 || !strings.Contains(r.stdout, "bob") || !strings.Contains(r.stdout, "10.0.0.2:4000") ||
		!strings.Contains(r.stdout, "2 other lanchat peers") {
		t.Fatalf("peers: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = h.run("", "--json", "peers")
	if r.code != 0 || !strings.Contains(r.stdout, `"others": 2`) {
		t.Fatalf("peers --json: %s", r.stdout)
	}
}
