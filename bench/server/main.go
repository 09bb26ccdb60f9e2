// Package server is the load generator of the rendezvous server
// benchmark (bench server). It runs as its own process,
// apart from the server it measures, and talks only to addresses in
// 127.0.0.0/8.
//
//	bench server --addr 127.0.0.1:7443 --fingerprint FP --server-pid PID
//
// It holds thousands of idle sessions, measures relay throughput and
// request latency while they are held, samples the server's memory and
// CPU from /proc, and prints a Markdown table; bench/run.sh drives it.
package server

import (
	"github.com/lanchat/lanchat/bench/internal/cli"

	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
)

var errUsage = cli.ErrUsage

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Exit("bench server", cmdBench(args, stdout, stderr), stderr)
}

// loopback is 127.0.0.0/8, the only network rvload sends to.
var loopback = netip.MustParsePrefix("127.0.0.0/8")

// checkLoopback checks that hostport is an IPv4 address in 127.0.0.0/8
// with a port, so that no traffic leaves this machine. Host names are
// refused rather than resolved: "localhost" may well mean ::1.
func checkLoopback(flagName, hostport string) error {
	if hostport == "" {
		return fmt.Errorf("%w: --%s is required", errUsage, flagName)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%w: --%s %q: %v", errUsage, flagName, hostport, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !loopback.Contains(ip) {
		return fmt.Errorf("%w: --%s %q: the host must be an address in 127.0.0.0/8", errUsage, flagName, hostport)
	}
	if port == "" || port == "0" {
		return fmt.Errorf("%w: --%s %q: a port is required", errUsage, flagName, hostport)
	}
	return nil
}

// requireFingerprint checks that a server fingerprint was given.
func requireFingerprint(fp string) error {
	if strings.TrimSpace(fp) == "" {
		return fmt.Errorf("%w: --fingerprint is required (rendezvous fingerprint --data DIR prints it)", errUsage)
	}
	return nil
}
