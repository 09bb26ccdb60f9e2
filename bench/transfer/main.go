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
// --only runs some of these sections, to measure one part again.
//
// It reports goodput (median over --runs), lanchat's ratio to each
// baseline, the CPU time and peak memory of both ends, and the targets
// beside the figures, as one Markdown document with the commands that
// produced each row, written to --out too. Every loop is bounded in
// count and time; xferload stops only the processes it started, by their
// ids, removes the namespaces it made (also when interrupted), and
// removes its workspace. Traffic stays on loopback and inside its
// namespaces.
//
//	xferload --bin bin --out bench/results/transfer-latest.md
package transfer

import (
	"github.com/lanchat/lanchat/bench/internal/cli"

	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
)

// config is the command line.
type config struct {
	cli.Common
	dir           string
	size          int64
	runs          int
	files         int
	fileSize      int64
	link          string // tc rate of the emulated link; "" for none
	linkSize      int64  // bytes sent over the link; 0: the big file's size
	iperfTime     int    // seconds per iperf3 run on loopback
	linkIperfTime int    // seconds per iperf3 run on the link
	iperf3        string
	croc          string
	maxRun        time.Duration
	build         string          // what the lanchat binaries were built from, for the report
	only          map[string]bool // the sections to run (--only); nil for all
}

// Section names, as --only takes them.
const (
	sectionLoopback = "loopback"
	sectionFiles    = "files"
	sectionLink     = "link"
)

var sectionNames = []string{sectionLoopback, sectionFiles, sectionLink}

// measures reports whether the section named name is to be run: chosen
// by --only (or no --only) and not switched off by --files 0 or
// --link off.
func (c *config) measures(name string) bool {
	switch {
	case name == sectionFiles && c.files == 0, name == sectionLink && c.link == "":
		return false
	}
	return c.only == nil || c.only[name]
}

const (
	example = "bench transfer --bin bin --out bench/results/transfer-latest.md --size 4G --runs 3"
	// exampleOnly measures the loopback and link sections again, into a
	// report of their own.
	exampleOnly = "bench transfer --bin bin --only loopback,link --out /tmp/transfer-again.md"
)

var errUsage = cli.ErrUsage

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main("bench transfer", args, stdout, stderr, parseConfig, bench)
}

// sizeFlag is a flag holding a byte count such as 4G.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return "0"
	}
	return stats.Size(*f.n)
}

func (f sizeFlag) Set(s string) error {
	if s == "0" {
		*f.n = 0
		return nil
	}
	n, err := stats.ParseSize(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}

// parseConfig reads and checks the flags.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := cli.Flags("bench transfer", "the file transfer benchmark; bench/run.sh runs it", stderr, example, exampleOnly)
	c := &config{size: 4 * stats.GiB, fileSize: 4 * stats.KiB}
	c.AddFlags(fs, "lanchat, rendezvous, rawcopy (and croc, if not on PATH)", "the workspace (files, data directories, logs)")
	fs.StringVar(&c.dir, "dir", "", "make the workspace in `DIR` (default: the system's temporary directory); the file system measured")
	fs.Var(sizeFlag{&c.size}, "size", "`SIZE` of the big file (4G, 512M, ...); scaled down if the disk has no room")
	fs.IntVar(&c.runs, "runs", 3, "runs of each measurement; the tables show medians")
	fs.IntVar(&c.files, "files", 10000, "`N` small files in the folder (0: no folder)")
	fs.Var(sizeFlag{&c.fileSize}, "file-size", "`SIZE` of each small file")
	fs.StringVar(&c.link, "link", "1gbit", "tc `RATE` of the emulated link between two network namespaces (\"\" or off: none)")
	fs.Var(sizeFlag{&c.linkSize}, "link-size", "`SIZE` sent over the link (default: the big file's size)")
	fs.IntVar(&c.iperfTime, "iperf-time", 5, "`SECONDS` per iperf3 run on loopback")
	fs.IntVar(&c.linkIperfTime, "link-iperf-time", 10, "`SECONDS` per iperf3 run on the link")
	fs.StringVar(&c.iperf3, "iperf3", "iperf3", "iperf3 `BINARY`")
	fs.StringVar(&c.croc, "croc", "", "croc `BINARY` (default: DIR/croc, croc on PATH, or $GOPATH/bin/croc)")
	fs.DurationVar(&c.maxRun, "max-run", 35*time.Minute, "give up after this long, whatever happens, and report what was measured")
	fs.StringVar(&c.build, "build", "", "say in the report what the binaries in --bin were built from (default: `git describe --always --dirty` of the current directory, as make bench builds them)")
	only := fs.String("only", "", "run only these `SECTIONS`, comma-separated, to measure one part again: "+
		"loopback (the big file on 127.0.0.1), files (the folder of small files), link (the big file over the emulated link); default: all")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	if c.link == "off" {
		c.link = ""
	}
	if *only != "" {
		c.only = map[string]bool{}
		for _, name := range strings.Split(*only, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(sectionNames, name) {
				return nil, fmt.Errorf("%w: --only takes %s, not %q", errUsage, strings.Join(sectionNames, ", "), name)
			}
			c.only[name] = true
		}
		switch {
		case c.only[sectionFiles] && c.files == 0:
			return nil, fmt.Errorf("%w: --only files with --files 0 leaves nothing to send", errUsage)
		case c.only[sectionLink] && c.link == "":
			return nil, fmt.Errorf("%w: --only link with --link off leaves no link", errUsage)
		}
	}
	switch {
	case c.runs < 1 || c.runs > 20:
		return nil, fmt.Errorf("%w: --runs must be 1 to 20", errUsage)
	case c.files < 0 || c.files > 100000:
		return nil, fmt.Errorf("%w: --files must be 0 to 100000 (lanchat's limit on entries)", errUsage)
	case c.size < minBigSize:
		return nil, fmt.Errorf("%w: --size must be at least %s", errUsage, stats.Size(minBigSize))
	case c.fileSize < 1 || c.fileSize > 64*stats.MiB:
		return nil, fmt.Errorf("%w: --file-size must be 1 byte to 64 MiB", errUsage)
	case c.iperfTime < 1 || c.iperfTime > 60 || c.linkIperfTime < 1 || c.linkIperfTime > 120:
		return nil, fmt.Errorf("%w: --iperf-time must be 1 to 60 seconds, --link-iperf-time 1 to 120", errUsage)
	case c.maxRun <= 0:
		return nil, fmt.Errorf("%w: --max-run must be positive", errUsage)
	}
	return c, nil
}
