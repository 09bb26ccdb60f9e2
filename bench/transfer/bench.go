package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"

	"github.com/lanchat/lanchat/bench/internal/sysinfo"
)

// floorRate is the slowest transfer rate a run may have before its
// timeout stops it: 20 MB/s, a tenth of what the slowest tool here
// manages on this kind of machine.
const floorRate = 20e6

// result is one measured run of one row.
type result struct {
	bytes   int64
	files   int
	elapsed time.Duration
	// cpu and rss are the sender's and the receiver's CPU time and peak
	// resident set size over the run; -1 when unknown.
	cpu [2]time.Duration
	rss [2]int64
	// info is a per-run remark for the notes (the daemon's own rate).
	info string
}

// rate is the run's goodput in bytes per second.
func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.bytes) / r.elapsed.Seconds()
}

// filesRate is the run's files per second.
func (r result) filesRate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.files) / r.elapsed.Seconds()
}

// runner measures one run of a row; round counts from 0. It returns the
// commands that made the run, for the report.
type runner func(ctx context.Context, round int) (result, []string, error)

// row is one line of a table: one tool moving the same data, repeated.
type row struct {
	name string // the tool, as the table shows it
	path string // where the data comes from and goes
	// lanchat marks the section's lanchat row: the one "lanchat ÷ this"
	// divides by and the targets read.
	lanchat bool
	maxRuns int // 0: the configured number of runs
	run     runner

	results  []result
	failures []string
	notRun   string   // why the row was not run at all
	commands []string // of its first run
}

// section is one table.
type section struct {
	title string
	kind  sectionKind
	rows  []*row
}

type sectionKind int

const (
	bigFile sectionKind = iota
	smallFiles
	shapedLink
)

// add appends a row to the section and returns it.
func (s *section) add(r *row) *row {
	s.rows = append(s.rows, r)
	return r
}

// lanchatRow returns the section's lanchat row, or nil.
func (s *section) lanchatRow() *row {
	for _, r := range s.rows {
		if r.lanchat {
			return r
		}
	}
	return nil
}

// Network namespaces are named nsPrefix + the benchmark's process id +
// a sequence number + a suffix, so that those of a run that was killed
// before it could clean up are recognised and removed.
const nsPrefix = "xferload-"

// linkSubnet is the emulated link's /24; its addresses exist only inside
// the two namespaces.
const linkSubnet = "10.213.77"

// benchmark is one run of the benchmark: its workspace, processes and
// findings.
type benchmark struct {
	cli.Run
	cfg     *config
	loadEnd string // the load average at the end
	others  string // what other processes used meanwhile

	dir   string        // the workspace, on the file system measured
	procs testbed.Stack // stops every process still running at the end
	logs  int           // processes started, for their log names
	ns    *testbed.Netns

	free    int64  // bytes df said were available at the start
	dfLine  string // what df said
	size    int64  // the big file's size, after any scaling
	src     string // the big file
	srcHash string
	small   string // the folder of small files

	lanchatErr error // why lanchat is not measured, if it is not
	linkDesc   string
	sections   []*section
}

// spawn runs bin with args, in network namespace ns unless ns is "",
// with env added to the benchmark's environment, its output in a log
// file named after name. Whatever still runs at the end is stopped.
func (b *benchmark) spawn(name, ns string, env []string, bin string, args ...string) (*testbed.Process, error) {
	b.logs++
	cmd := testbed.Command(ns, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	p, err := testbed.StartCmd(name, filepath.Join(b.dir, "logs", fmt.Sprintf("%03d-%s.log", b.logs, name)), cmd)
	if err == nil {
		b.procs.Cleanup(func() {
			if err := p.Stop(); err != nil {
				b.Note("cleaning up: %v", err)
			}
		})
	}
	return p, err
}

// timeout bounds one run that moves n bytes.
func timeout(n int64) time.Duration {
	return time.Minute + time.Duration(float64(n)/floorRate*float64(time.Second))
}

// runRounds runs every row of the sections round after round (rows
// interleaved, so that a disturbance on the machine spreads over all of
// them rather than spoiling one), until each has its runs or ctx ends.
func (b *benchmark) runRounds(ctx context.Context, rows []*row) error {
	for round := range b.cfg.runs {
		for _, r := range rows {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if r.notRun != "" || len(r.failures) > 0 || (r.maxRuns > 0 && round >= r.maxRuns) {
				continue
			}
			b.Say("run %d of %d: %s, %s", round+1, b.cfg.runs, r.name, r.path)
			res, cmds, err := r.run(ctx, round)
			if r.commands == nil {
				r.commands = cmds
			}
			if err != nil {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				r.failures = append(r.failures, fmt.Sprintf("run %d: %v", round+1, err))
				b.Say("  failed (no more runs of this row): %v", err)
				continue
			}
			r.results = append(r.results, res)
			if res.files > 1 {
				b.Say("  %d files in %.2fs: %s files/s", res.files, res.elapsed.Seconds(), stats.Number(res.filesRate()))
			} else {
				b.Say("  %s in %.2fs: %s MB/s", stats.Size(res.bytes), res.elapsed.Seconds(), stats.Number(megabytes(res.rate())))
			}
		}
	}
	return nil
}

// bench runs the whole benchmark, prints the report to stdout and writes
// it to --out.
func bench(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, maxRun)
	defer cancel()
	b := &benchmark{Run: cli.NewRun("transfer", args, stderr), cfg: cfg,
		ns: testbed.NewNetns(nsPrefix)}
	nb := testbed.WatchOthers()
	runErr := b.measure(ctx)
	b.Elapsed, b.loadEnd = time.Since(b.Start), sysinfo.LoadAverage()
	top, other := nb.Stop()
	b.others = fmt.Sprintf("at least %.0f CPU seconds of the %.0f this machine had", other.Seconds(), b.Elapsed.Seconds()*float64(runtime.NumCPU()))
	if len(top) > 0 {
		b.others += " (" + strings.Join(top, ", ") + ")"
	}
	if err := b.cleanup(); err != nil {
		b.Note("cleaning up: %v", err)
	}
	if runErr != nil {
		if len(b.sections) == 0 {
			return runErr
		}
		b.Note("the run stopped early: %v", runErr)
	}
	if errors.Is(runErr, context.Canceled) && cfg.Out != "" {
		// An interrupted run keeps the last complete report in place.
		fmt.Fprint(stdout, b.report())
		b.Say("interrupted: %s left as it was", cfg.Out)
	} else if err := cfg.Publish(stdout, stderr, b.report()); err != nil {
		return err
	}
	return runErr
}

// cleanup stops every process still running, removes the namespaces
// and, unless asked to keep it, the workspace.
func (b *benchmark) cleanup() error {
	b.procs.Close()
	errs := []error{b.ns.Close()}
	if b.dir != "" {
		if b.cfg.Keep {
			b.Say("kept %s", b.dir)
		} else if err := os.RemoveAll(b.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", b.dir, err))
		}
	}
	return errors.Join(errs...)
}

// measure prepares the files and runs every section.
func (b *benchmark) measure(ctx context.Context) error {
	if stale := testbed.RemoveStale(ctx, nsPrefix); len(stale) > 0 {
		b.Note("removed network namespaces left by an earlier xferload that was killed: %v", stale)
	}
	if err := b.prepare(ctx); err != nil {
		return err
	}
	b.lanchatErr = lanchatReady(ctx, b.cfg.Bin)
	if b.lanchatErr != nil {
		b.Say("lanchat rows will not run: %v", b.lanchatErr)
	}
	if err := b.loopbackSection(ctx); err != nil {
		return err
	}
	if b.cfg.files > 0 {
		if err := b.filesSection(ctx); err != nil {
			return err
		}
	}
	if b.cfg.link != "" {
		return b.linkSection(ctx)
	}
	return nil
}

// prepare makes the workspace: checks the free space, scales the big
// file down if it must, and writes the big file and the small files.
func (b *benchmark) prepare(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "xferload.")
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	b.dir = dir
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		return err
	}
	smallTotal := int64(b.cfg.files) * fileSize
	b.free, b.dfLine, err = freeSpace(ctx, dir)
	if err != nil {
		return fmt.Errorf("free space: %w", err)
	}
	size, ok := fitSize(b.cfg.size, b.free, smallTotal)
	if !ok {
		return fmt.Errorf("not enough free space in %s for even a %s file (df says %s available)", dir, stats.Size(minBigSize), stats.Size(b.free))
	}
	if size != b.cfg.size {
		b.Note("**scaled down**: the big file is %s instead of %s, because df shows only %s available in %s, and the source, one received copy, the small files and %s of margin must fit",
			stats.Size(size), stats.Size(b.cfg.size), stats.Size(b.free), dir, stats.Size(diskMargin))
		b.Say("scaled the big file down to %s: only %s free", stats.Size(size), stats.Size(b.free))
	}
	b.size = size
	b.src = filepath.Join(dir, "big.bin")
	b.Say("writing %s of random data to %s (and syncing it)", stats.Size(size), b.src)
	t0 := time.Now()
	if b.srcHash, err = writeRandomFile(b.src, size); err != nil {
		return err
	}
	b.Say("  took %v", time.Since(t0).Round(time.Millisecond))
	if smallTotal > 0 {
		b.small = filepath.Join(dir, "small")
		b.Say("writing %d files of %s to %s", b.cfg.files, stats.Size(fileSize), b.small)
		if err := writeSmallFiles(b.small, b.cfg.files, fileSize); err != nil {
			return fmt.Errorf("small files: %w", err)
		}
	}
	return nil
}
