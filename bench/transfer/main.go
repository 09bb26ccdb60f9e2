// Package transfer is the file transfer benchmark of make bench. It
// measures lanchat's transfers between two real daemons (started from
// the binaries in --bin with a rendezvous server of their own, the users
// registered and made friends through the daemons' local API, every
// transfer a `lanchat send-file`), and the same data moved by baselines:
//
//   - loopback: one big file of random data (default 4 GiB, scaled down
//     when the disk has no room for it and a copy) on 127.0.0.1: lanchat,
//     a raw quic-go copy with peer/direct's settings (bench/rawcopy) on
//     one connection and striped over two, TLS 1.3 over TCP
//     (bench/rawcopy --proto tls), each to a
//     synced file and to nowhere, iperf3, croc --no-compress through its
//     own relay, and cp;
//   - files: a folder of small files (default 10,000 of 4 KiB) with
//     lanchat;
//   - link: the big file between two network namespaces joined by a veth
//     pair shaped with tc to an emulated link (default 1gbit): iperf3,
//     lanchat, and the raw quic-go copy on one connection and on two.
//
// It reports goodput (median over --runs), lanchat's ratio to each
// baseline, the CPU time and peak memory of both ends, and the targets
// beside the figures, as one Markdown document with the commands that
// produced each row, written to --out too. Every loop is bounded in
// count and time; it stops only the processes it started, by their ids,
// removes the namespaces it made (also when interrupted), and removes its
// workspace. Traffic stays on loopback and inside its namespaces.
//
//	bench transfer --bin bin --out bench/results/transfer-latest.md
package transfer

import (
	"github.com/lanchat/lanchat/bench/internal/cli"

	"fmt"
	"io"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
)

// config is the command line.
type config struct {
	cli.Common
	size  int64  // the big file
	runs  int    // runs of each row
	files int    // small files in the folder; 0 for no folder
	link  string // tc rate of the emulated link; "" for none
}

// What the command line does not set.
const (
	fileSize      = 4 * stats.KiB    // each small file
	iperfTime     = 5                // seconds per iperf3 run on loopback
	linkIperfTime = 10               // seconds per iperf3 run on the link
	maxRun        = 35 * time.Minute // the whole benchmark, whatever happens
)

const example = "bench transfer --bin bin --out bench/results/transfer-latest.md --size 4G --runs 3"

var errUsage = cli.ErrUsage

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main("bench transfer", args, stdout, stderr, parseConfig, bench)
}

// parseConfig reads and checks the flags.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := cli.Flags("bench transfer", "the file transfer benchmark; bench/run.sh runs it", stderr, example)
	c := &config{}
	c.AddFlags(fs, "lanchat, rendezvous, rawcopy (and croc, if not on PATH)", "the workspace (files, data directories, logs)")
	size := fs.String("size", "4G", "`SIZE` of the big file (4G, 512M, ...); scaled down if the disk has no room")
	fs.IntVar(&c.runs, "runs", 3, "runs of each measurement; the tables show medians")
	fs.IntVar(&c.files, "files", 10000, "`N` small files of 4 KiB in the folder (0: no folder)")
	fs.StringVar(&c.link, "link", "1gbit", "tc `RATE` of the emulated link between two network namespaces (off: none)")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if c.link == "off" {
		c.link = ""
	}
	var err error
	if c.size, err = stats.ParseSize(*size); err != nil {
		return nil, fmt.Errorf("%w: --size: %v", errUsage, err)
	}
	switch {
	case c.runs < 1 || c.runs > 20:
		return nil, fmt.Errorf("%w: --runs must be 1 to 20", errUsage)
	case c.files < 0 || c.files > 100000:
		return nil, fmt.Errorf("%w: --files must be 0 to 100000 (lanchat's limit on entries)", errUsage)
	case c.size < minBigSize:
		return nil, fmt.Errorf("%w: --size must be at least %s", errUsage, stats.Size(minBigSize))
	}
	return c, nil
}
