// Command bench is the benchmarks of make bench (bench/run.sh runs it):
// server loads a running rendezvous server with idle sessions and relayed
// messages; messaging measures message latency and throughput between
// real lanchat daemons; transfer measures file transfers between two
// daemons against baselines, on loopback and over an emulated link;
// webapp times the web app in headless Chromium against the API alone.
// Each prints a Markdown report and talks only to loopback and to
// network namespaces it makes. "bench COMMAND --help" shows a command's
// flags.
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

var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"server": server.Main, "messaging": messaging.Main, "transfer": transfer.Main, "webapp": webapp.Main,
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && commands[args[0]] != nil {
		os.Exit(commands[args[0]](args[1:], os.Stdout, os.Stderr))
	}
	if len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Print(usage)
		return
	}
	fmt.Fprint(os.Stderr, usage)
	os.Exit(2)
}
