// Command bench is the benchmarks of make bench (bench/run.sh runs it):
//
//	bench server    --addr ADDR --fingerprint FP --server-pid PID ...
//	bench messaging --bin bin --out bench/results/messaging-latest.md
//	bench transfer  --bin bin --out bench/results/transfer-latest.md
//	bench webapp    --bin bin --out bench/results/webapp-latest.md
//
// server loads a running rendezvous server with idle sessions and relayed
// messages; messaging measures message latency and throughput between
// real lanchat daemons; transfer measures file transfers between two
// daemons against baselines, on loopback and over an emulated link;
// webapp times the web app in headless Chromium against the API alone.
// Each prints a Markdown report and talks only to loopback and to
// network namespaces it makes. "bench COMMAND --help" shows a command's flags.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/lanchat/lanchat/bench/messaging"
	"github.com/lanchat/lanchat/bench/server"
	"github.com/lanchat/lanchat/bench/transfer"
	"github.com/lanchat/lanchat/bench/webapp"
)

const usage = `bench runs lanchat's benchmarks.

Usage:
  bench server    --addr ADDR --fingerprint FP [--server-pid PID] ...   the rendezvous server
  bench messaging --bin DIR [--out FILE] ...                            messaging between daemons
  bench transfer  --bin DIR [--out FILE] ...                            file transfer
  bench webapp    --bin DIR [--out FILE] ...                            the web app in Chromium

Run "bench COMMAND --help" for a command's flags and an example.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "server":
		return server.Main(args[1:], stdout, stderr)
	case "messaging":
		return messaging.Main(args[1:], stdout, stderr)
	case "transfer":
		return transfer.Main(args[1:], stdout, stderr)
	case "webapp":
		return webapp.Main(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "bench: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
