// Package server is the load generator of the rendezvous server benchmark
// and the client half of the quick-start demo. It runs as its own process,
// apart from the server it measures, and talks only to addresses in
// 127.0.0.0/8.
//
//	bench server --addr 127.0.0.1:7443 --fingerprint FP --server-pid PID
//	bench demo  --addr 127.0.0.1:7443 --fingerprint FP [--metrics 127.0.0.1:9090]
//
// bench holds thousands of idle sessions, measures relay throughput and
// request latency while they are held, samples the server's memory and
// CPU from /proc, and prints a Markdown table; bench/run.sh drives it.
// demo walks alice and bob through registration, a friend request and a
// sealed message relayed while bob is offline.
package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
)

const usage = `bench server loads a rendezvous server; bench demo is the demo client.

Usage:
  bench server --addr ADDR --fingerprint FP [--server-pid PID] [--idle N] [--hold D]
               [--senders N] [--duration D] ...
  bench demo  --addr ADDR --fingerprint FP [--metrics HOST:PORT]

Every address must be in 127.0.0.0/8: it never talks to another machine.
Run "bench server --help" or "bench demo --help" for a command's flags and an example.
`

// errUsage marks errors caused by a bad command line (exit code 2).
var errUsage = errors.New("usage")

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "demo":
		err = cmdDemo(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "bench: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
}

// newFlags makes a flag set that prints its usage and example on --help.
func newFlags(name, example string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of bench %s:\n", name)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExample:\n  %s\n", example)
	}
	return fs
}

// parse parses flags, wrapping failures as usage errors, and refuses
// positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
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
