// Package transfer is the file transfer benchmark of make bench ("bench
// transfer"): a big file (default 4 GiB, scaled down when the disk has no
// room) and a folder of small files sent between two real lanchat
// daemons with `lanchat send-file`, beside baselines (bench/rawcopy's
// QUIC and TLS copies, iperf3, croc, cp), on loopback and over an
// emulated link between two network namespaces. Every row is a start
// function that measures one run; one loop runs the rows interleaved,
// round after round. It reports goodput (median over --runs), lanchat's
// ratio to each baseline, both ends' CPU time and peak memory and the
// targets, with the commands of each row. It stops only the processes it
// started, by their ids, removes its namespaces and workspace, and
// sends nothing beyond loopback and its namespaces.
//
//	bench transfer --bin bin --out bench/results/transfer-latest.md
package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
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
	minBigSize    = 64 * stats.MiB   // the smallest big file worth measuring
	// diskMargin is left free when every file is there: lanchat's
	// receiver keeps 64 MiB free, and logs and databases need some.
	diskMargin = 2 * stats.GiB
	// floorRate is the slowest rate a run may have before its timeout
	// stops it: 20 MB/s.
	floorRate = 20e6
	// nsPrefix names the network namespaces, so that those of a killed
	// run are recognised and removed.
	nsPrefix = "xferload-"
	// linkSubnet is the emulated link's /24, inside the namespaces only.
	linkSubnet = "10.213.77"
)

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main("bench transfer", args, stdout, stderr, parseConfig, bench)
}

// parseConfig reads and checks the flags.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := cli.Flags("bench transfer", "the file transfer benchmark; bench/run.sh runs it", stderr,
		"bench transfer --bin bin --out bench/results/transfer-latest.md --size 4G --runs 3")
	c := &config{}
	c.AddFlags(fs, "lanchat, rendezvous, rawcopy (and croc, if not on PATH)", "the workspace (files, data directories, logs)")
	size := fs.String("size", "4G", "`SIZE` of the big file (4G, 512M, ...); scaled down if the disk has no room")
	fs.IntVar(&c.runs, "runs", 3, "runs of each measurement; the tables show medians")
	fs.IntVar(&c.files, "files", 10000, "`N` small files of 4 KiB in the folder (0: no folder)")
	fs.StringVar(&c.link, "link", "1gbit", "tc `RATE` of the emulated link between two network namespaces (off: none)")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	c.link = strings.TrimPrefix(c.link, "off")
	var err error
	c.size, err = stats.ParseSize(*size)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: --size: %v", cli.ErrUsage, err)
	case c.runs < 1 || c.runs > 20 || c.files < 0 || c.files > 100000 || c.size < minBigSize:
		return nil, fmt.Errorf("%w: --runs must be 1 to 20, --files 0 to 100000, --size at least %s", cli.ErrUsage, stats.Size(minBigSize))
	}
	return c, nil
}

// result is one measured run of one row.
type result struct {
	bytes   int64
	files   int
	elapsed time.Duration
	// cpu and rss are the sender's and the receiver's CPU time and peak
	// resident set size over the run; -1 when unknown.
	cpu  [2]time.Duration
	rss  [2]int64
	info string   // a per-run remark for the notes
	cmds []string // the commands that made the run, for the report
}

func newResult() result { return result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}} }

func (r result) rate() float64      { return float64(r.bytes) / r.elapsed.Seconds() }
func (r result) filesRate() float64 { return float64(r.files) / r.elapsed.Seconds() }

// runFunc measures one run of a row; round counts from 0.
type runFunc func(ctx context.Context, round int) (result, error)

// row is one line of a table: one tool moving the same data, repeated.
type row struct {
	name, path string
	lanchat    bool // the row "lanchat ÷ this" divides by
	once       bool // one run is enough: it only shows a ceiling
	run        runFunc

	results  []result
	failures []string
	notRun   string   // why the row was not run at all
	commands []string // of its first run
}

type sectionKind int

const (
	bigFile sectionKind = iota
	smallFiles
	shapedLink
)

// section is one table.
type section struct {
	title string
	kind  sectionKind
	rows  []*row
}

// benchmark is one run of the benchmark: its workspace, processes and
// findings.
type benchmark struct {
	cli.Run
	cfg      *config
	loadEnd  string // the load average at the end
	others   string // what other processes used meanwhile
	dir      string // the workspace
	procs    testbed.Stack
	logs     int // processes started, for their log names
	ns       *testbed.Netns
	free     int64 // bytes available at the start
	size     int64 // the big file's size, after any scaling
	src      string
	srcHash  string
	small    string // the folder of small files
	linkDesc string
	sections []*section
}

// bench runs the whole benchmark, prints the report to stdout and writes
// it to --out.
func bench(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, maxRun)
	defer cancel()
	b := &benchmark{Run: cli.NewRun("transfer", args, stderr), cfg: cfg, ns: testbed.NewNetns(nsPrefix)}
	watch := testbed.WatchOthers()
	runErr := b.measure(ctx)
	b.Elapsed, b.loadEnd = time.Since(b.Start), cli.LoadAverage()
	top, other := watch.Stop()
	b.others = fmt.Sprintf("at least %.0f CPU seconds of the %.0f this machine had", other.Seconds(), b.Elapsed.Seconds()*float64(runtime.NumCPU()))
	if len(top) > 0 {
		b.others += " (" + strings.Join(top, ", ") + ")"
	}
	b.procs.Close()
	if err := b.ns.Close(); err != nil {
		b.Note("cleaning up: %v", err)
	}
	if b.cfg.Keep {
		b.Say("kept %s", b.dir)
	} else if b.dir != "" {
		os.RemoveAll(b.dir)
	}
	if runErr != nil {
		if len(b.sections) == 0 {
			return runErr
		}
		b.Note("the run stopped early: %v", runErr)
	}
	if errors.Is(runErr, context.Canceled) {
		fmt.Fprint(stdout, b.report()) // an interrupted run keeps the last report in place
		return runErr
	}
	return errors.Join(cfg.Publish(stdout, stderr, b.report()), runErr)
}

// measure prepares the files and runs every section.
func (b *benchmark) measure(ctx context.Context) error {
	if stale := testbed.RemoveStale(ctx, nsPrefix); len(stale) > 0 {
		b.Note("removed network namespaces left by an earlier run that was killed: %v", stale)
	}
	if err := b.prepare(); err != nil {
		return err
	}
	steps := []func(context.Context) error{b.loopbackSection}
	if b.cfg.files > 0 {
		steps = append(steps, b.filesSection)
	}
	if b.cfg.link != "" {
		steps = append(steps, b.linkSection)
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// runRounds runs every row round after round (rows interleaved, so that
// a disturbance on the machine spreads over all of them rather than
// spoiling one), until each has its runs or ctx ends. A row that fails
// runs no more.
func (b *benchmark) runRounds(ctx context.Context, rows []*row) error {
	for round := range b.cfg.runs {
		for _, r := range rows {
			if r.notRun != "" || len(r.failures) > 0 || (r.once && round > 0) {
				continue
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			b.Say("run %d of %d: %s, %s", round+1, b.cfg.runs, r.name, r.path)
			res, err := r.run(ctx, round)
			if r.commands == nil {
				r.commands = res.cmds
			}
			switch {
			case err != nil && ctx.Err() != nil:
				return context.Cause(ctx)
			case err != nil:
				r.failures = append(r.failures, fmt.Sprintf("run %d: %v", round+1, err))
				b.Say("  failed (no more runs of this row): %v", err)
			case res.files > 1:
				r.results = append(r.results, res)
				b.Say("  %d files in %.2fs: %s files/s", res.files, res.elapsed.Seconds(), stats.Number(res.filesRate()))
			default:
				r.results = append(r.results, res)
				b.Say("  %s in %.2fs: %s MB/s", stats.Size(res.bytes), res.elapsed.Seconds(), stats.Number(res.rate()/1e6))
			}
		}
	}
	return nil
}

// spawn runs argv in network namespace ns ("" for this one) with env
// added, its output in a numbered log; whatever still runs at the end is
// stopped. With ready, it waits for that line and returns its match.
func (b *benchmark) spawn(ctx context.Context, name, ns string, env []string, ready *regexp.Regexp, argv ...string) (*testbed.Process, string, error) {
	b.logs++
	cmd := testbed.Command(ns, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	p, err := testbed.StartCmd(name, filepath.Join(b.dir, "logs", fmt.Sprintf("%03d-%s.log", b.logs, name)), cmd)
	if err != nil {
		return nil, "", err
	}
	b.procs.Cleanup(func() { p.Stop() })
	if ready == nil {
		return p, "", nil
	}
	m, err := p.WaitLine(ctx, ready, testbed.StartTimeout)
	if err != nil {
		p.Stop()
	}
	return p, m, err
}

// timeout bounds one run that moves n bytes.
func timeout(n int64) time.Duration {
	return time.Minute + time.Duration(float64(n)/floorRate*float64(time.Second))
}
