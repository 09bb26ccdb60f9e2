package transfer

import (
	"cmp"
	"fmt"
	"math"
	"os/exec"
	"slices"
	"strings"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
)

// Targets printed beside the figures (not asserted).
const (
	targetVsQUIC   = 0.9  // lanchat ÷ raw quic-go copy on loopback, file to file
	targetVsCroc   = 4.0  // lanchat ÷ croc on loopback
	targetVsIperf  = 0.95 // lanchat ÷ iperf3 on the emulated link
	targetFilesPS  = 2000 // small files per second
	targetRSSBytes = 64 * stats.MiB
)

// report renders the run as Markdown.
func (b *benchmark) report() string {
	w := cli.NewReport("file transfer benchmark", b.Start, b.Elapsed, "", "bench/run.sh builds every binary with the same toolchain")
	w.Fact("load average at the start: %s, at the end: %s (1, 5 and 15 minutes; the benchmark's own processes count in the end figure, but anything above 0 at the start means other work shared the CPUs)", b.Loadavg, b.loadEnd)
	w.Fact("other processes (not the benchmark's, not kernel threads) used %s while it ran", b.others)
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		w.Fact("lanchat and rendezvous: built from the work tree at `%s` (`git describe --always --dirty`)", strings.TrimSpace(string(out)))
	}
	w.Fact("workspace: %s, %s available at the start (statfs)", b.dir, stats.Size(b.free))
	w.Fact("big file: %s of random bytes in the workspace, written and synced before the first run; it stays in the page cache, so senders read it from memory, and every receiver that writes a file writes it to the same file system and syncs it before its run counts as done", stats.Size(b.size))
	runs := fmt.Sprintf("%d runs", b.cfg.runs)
	if b.cfg.runs == 1 {
		runs = "1 run"
	}
	w.Fact("every figure is the median of %s unless the row says otherwise; MB/s is 10⁶ bytes per second of file data (goodput), wall clock from the sending command's start to its end", runs)
	w.List("Commands:", b.Commands("last part, after the server, messaging and web app benchmarks"))
	for i, s := range b.sections {
		fmt.Fprintf(w, "\n### §%d %s\n\n", i+1, s.title)
		if s.kind == shapedLink && b.linkDesc != "" {
			fmt.Fprintf(w, "Link: %s. The server and alice's daemon run in the first namespace, bob's in the second (`ip netns exec`); each baseline's sender and receiver likewise.\n\n", b.linkDesc)
		}
		w.WriteString(b.table(s))
	}
	w.WriteString("\n### Targets (printed, not asserted)\n\n")
	w.WriteString(cli.Table([]string{"target", "measured:", "verdict"}, b.targets()))
	w.WriteString("\nThe last line is informative, not a target.\n\n### Commands per row\n\n")
	var notes []string
	for i, s := range b.sections {
		for _, r := range s.rows {
			if len(r.commands) > 0 {
				fmt.Fprintf(w, "- §%d %s, %s:\n  - %s\n", i+1, r.name, r.path, strings.Join(r.commands, "\n  - "))
			}
			var infos []string
			for _, res := range r.results {
				infos = append(infos, res.info)
			}
			if infos = slices.DeleteFunc(infos, func(s string) bool { return s == "" }); len(infos) > 1 && len(slices.Compact(slices.Clone(infos))) == 1 {
				infos = []string{fmt.Sprintf("%s (all %d)", infos[0], len(infos))}
			}
			if len(infos) > 0 {
				notes = append(notes, fmt.Sprintf("§%d %s, %s, per run: %s", i+1, r.name, r.path, strings.Join(infos, "; ")))
			}
			for _, f := range r.failures {
				notes = append(notes, fmt.Sprintf("§%d %s, %s, failed: %s", i+1, r.name, r.path, cell(f)))
			}
		}
	}
	for _, name := range []string{rowQUIC, rowTLS} {
		disk, discard := b.findRow(bigFile, name, pathFileToFile), b.findRow(bigFile, name, pathDiscard)
		if disk != nil && discard != nil && len(disk.results) > 0 && len(discard.results) > 0 {
			notes = append(notes, fmt.Sprintf("%s: its receiver used %s CPU s per run writing and syncing the file, %s discarding it; the difference is what the page cache and the file system cost here, and it competes for the same CPUs as the transfer",
				name, disk.usage()[1], discard.usage()[1]))
		}
	}
	w.List("### How to read it", legend)
	w.List("### Notes", append(notes, b.Notes...))
	return w.String()
}

// table renders one section.
func (b *benchmark) table(s *section) string {
	lanRate := math.NaN()
	for _, r := range s.rows {
		if r.lanchat {
			lanRate = r.median(result.rate)
		}
	}
	head := []string{"tool", "data path", "goodput MB/s:", "spread of MB/s", "runs:", "lanchat ÷ this:"}
	switch s.kind {
	case smallFiles:
		head = []string{"tool", "data path", "files/s:", "MB/s:", "spread of files/s", "runs:"}
	case shapedLink:
		head = []string{"tool", "data path", "goodput MB/s:", "Mbit/s:", "spread of MB/s", "runs:", "lanchat ÷ this:"}
	}
	var rows [][]string
	for _, r := range s.rows {
		if len(r.results) == 0 {
			why := "not run: " + r.notRun
			if r.notRun == "" && len(r.failures) > 0 {
				why = "failed: " + r.failures[0]
			} else if r.notRun == "" {
				why = "not run: the benchmark stopped before it"
			}
			rows = append(rows, []string{r.name, r.path, cell(why)})
			continue
		}
		runs := fmt.Sprint(len(r.results))
		if len(r.failures) > 0 {
			runs += fmt.Sprintf(" (+%d failed)", len(r.failures))
		}
		vs := "—"
		if !r.lanchat {
			vs = ratio(stats.Ratio(lanRate, r.median(result.rate)))
		}
		mb := r.median(result.rate) / 1e6
		spread := stats.Spread(r.values(func(x result) float64 { return x.rate() / 1e6 }))
		cells := []string{r.name, r.path, stats.Number(mb), spread, runs, vs}
		switch s.kind {
		case smallFiles:
			cells = []string{r.name, r.path, stats.Number(r.median(result.filesRate)), stats.Number(mb), stats.Spread(r.values(result.filesRate)), runs}
		case shapedLink:
			cells = []string{r.name, r.path, stats.Number(mb), stats.Number(mb * 8), spread, runs, vs}
		}
		rows = append(rows, append(cells, r.usage()...))
	}
	return cli.Table(append(head, "CPU s, sender:", "CPU s, receiver:", "peak RSS MiB, sender:", "peak RSS MiB, receiver:"), rows)
}

// values returns f of each run.
func (r *row) values(f func(result) float64) []float64 {
	var x []float64
	for _, res := range r.results {
		x = append(x, f(res))
	}
	return x
}

// median is the median of f over the runs, NaN if there are none.
func (r *row) median(f func(result) float64) float64 { return stats.Median(r.values(f)) }

// usage formats the median CPU seconds of each end and the largest peak
// resident set size of each end over the runs.
func (r *row) usage() []string {
	var out []string
	for i := range 2 {
		cpu := r.values(func(x result) float64 { return x.cpu[i].Seconds() })
		out = append(out, stats.Number(stats.Median(slices.DeleteFunc(cpu, func(s float64) bool { return s < 0 }))))
	}
	for i := range 2 {
		out = append(out, mib(r.peakRSS(i)))
	}
	return out
}

// peakRSS is the largest peak resident set size of end i (0 sender, 1
// receiver, 2 either) over the runs, or -1.
func (r *row) peakRSS(i int) int64 {
	p := int64(-1)
	for _, res := range r.results {
		if i == 2 {
			p = max(p, res.rss[0], res.rss[1])
		} else {
			p = max(p, res.rss[i])
		}
	}
	return p
}

func mib(p int64) string {
	if p < 0 {
		return "—"
	}
	return stats.Number(float64(p) / stats.MiB)
}

// ratio prints a ratio as "0.93×", "—" when unknown.
func ratio(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return stats.Number(x) + "×"
}

// cell makes text safe and short enough for a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

// targets compares the figures with the goals of the issue, and adds
// one informative line: lanchat against the raw copy with the same disk
// path.
func (b *benchmark) targets() [][]string {
	var out [][]string
	// add adds a row: the figure as format prints it and whether it met
	// its goal, or why it was not measured; no goal, no verdict.
	add := func(what string, measured float64, format func(float64) string, ok, goal bool, rows ...*row) {
		m, verdict := "—", "not measured"+whyNot(rows...)
		if !math.IsNaN(measured) {
			m, verdict = format(measured), map[bool]string{true: "met", false: "**not met**"}[ok]
			if !goal {
				verdict = "no target"
			}
		}
		out = append(out, []string{what, m, verdict})
	}
	vs := func(what string, kind sectionKind, other, otherPath string, goal float64) {
		lan, base := b.findRow(kind, rowLanchat, ""), b.findRow(kind, other, otherPath)
		x := math.NaN()
		if lan != nil && base != nil {
			x = stats.Ratio(lan.median(result.rate), base.median(result.rate))
		}
		add(what, x, ratio, x >= goal, goal > 0, lan, base)
	}
	vs(fmt.Sprintf("lanchat ≥ %g× the raw quic-go copy on loopback (both file → file + fsync)", targetVsQUIC), bigFile, rowQUIC, pathFileToFile, targetVsQUIC)
	vs(fmt.Sprintf("lanchat ≥ %g× croc on loopback", targetVsCroc), bigFile, rowCroc, "", targetVsCroc)
	vs(fmt.Sprintf("lanchat ≥ %g of iperf3 on the emulated %s link", targetVsIperf, b.cfg.link), shapedLink, rowIperf, "", targetVsIperf)
	files := b.findRow(smallFiles, rowLanchat, "")
	fps := math.NaN()
	if files != nil {
		fps = files.median(result.filesRate)
	}
	add(fmt.Sprintf("lanchat ≥ %d small files per second", targetFilesPS), fps, func(x float64) string { return stats.Number(x) + " files/s" }, fps >= targetFilesPS, true, files)
	peak, first := int64(-1), (*row)(nil)
	for _, s := range b.sections {
		for _, r := range s.rows {
			if r.lanchat {
				peak, first = max(peak, r.peakRSS(2)), cmp.Or(first, r)
			}
		}
	}
	p := math.NaN()
	if peak >= 0 {
		p = float64(peak)
	}
	add(fmt.Sprintf("each daemon's peak RSS under %d MiB", targetRSSBytes/stats.MiB), p, func(x float64) string { return mib(int64(x)) + " MiB" }, peak < targetRSSBytes, true, first)
	vs("lanchat ÷ raw quic-go copy with direct I/O (loopback, the same disk path: what lanchat's protocol, hashing and records cost)", bigFile, rowQUIC, pathDirect, 0)
	return out
}

// findRow returns the row of the given kind of section, name and (if
// not "") path.
func (b *benchmark) findRow(kind sectionKind, name, path string) *row {
	for _, s := range b.sections {
		for _, r := range s.rows {
			if s.kind == kind && r.name == name && (path == "" || r.path == path) {
				return r
			}
		}
	}
	return nil
}

// whyNot explains a target that could not be compared.
func whyNot(rows ...*row) string {
	for _, r := range rows {
		switch {
		case r == nil:
			return " (section not run)"
		case r.notRun != "":
			return fmt.Sprintf(" (%s: %s)", r.name, cell(r.notRun))
		case len(r.results) == 0 && len(r.failures) > 0:
			return fmt.Sprintf(" (%s failed)", r.name)
		}
	}
	return ""
}

// legend explains the columns and the rows.
var legend = []string{
	"goodput: file bytes divided by the wall time of one run, from the start of the sending command to the moment the data is all on the receiving side (in place and synced, for rows that write a file); the median over the runs, with the lowest and highest beside it",
	"runs: how many runs the median is of. The discard rows, the local copy and the raw quic-go copies on the link run once: they only show where a ceiling is or what QUIC alone costs, and once keeps the whole benchmark within about twenty minutes; `+N failed` counts runs that failed (no row runs again after a failure; the notes say why)",
	"lanchat ÷ this: the median goodput of “" + rowLanchat + "” in the same table divided by this row's; above 1 means lanchat was faster",
	"CPU s: user plus system CPU seconds of the sending and the receiving process over one run, median over runs. For lanchat they are the two daemons' (from /proc/PID/stat before and after the run; the `lanchat send-file` client itself is not counted); for the baselines the processes' own (wait4 rusage), handshakes and start-up included",
	fmt.Sprintf("peak RSS: the largest resident set size of each end over the runs. For lanchat the daemons' VmHWM from /proc/PID/status (reset through /proc/PID/clear_refs before each run where the kernel allows, so it covers that run) and VmRSS sampled every %v, whichever is larger; for the baselines each process's VmHWM, read every %v until it exits (wait4's maxrss would count the benchmark's own memory, which a child shares until it execs)", testbed.SampleEvery, testbed.SampleEvery),
	"lanchat: `lanchat send-file bob FILE` on alice's side, timed until it exits 0: bob's daemon (accepting from contacts into --downloads) has checked every 1 MiB chunk's SHA-256 and the whole file's, written big files' chunks with direct I/O (O_DIRECT; the baselines write through the page cache), synced and renamed the file. A transfer is striped over streams of the one QUIC connection between the daemons, opened by a 1 MiB warm-up transfer before any timed run",
	"raw quic-go copy (bench/rawcopy): one QUIC stream, TLS 1.3 with throw-away certificates, go.mod's quic-go with peer/direct's flow-control windows and socket buffers, 1 MiB reads and writes, no hashing or progress records. file → discard drops the data (the network ceiling); direct I/O (`--direct`) writes aligned 1 MiB blocks past the page cache, as lanchat does; " +
		"`--conns 2` cuts the file in two halves on 1 MiB boundaries, each on a stream of its own QUIC connection from one UDP socket per side",
	"TLS 1.3 over TCP copy (bench/rawcopy --proto tls): the same I/O as the quic-go copy over crypto/tls on one TCP connection",
	fmt.Sprintf("iperf3: TCP from memory to memory, no encryption, no files, for a fixed time (%d s on loopback, %d s on the link); its goodput is the receiver's total from iperf3's JSON", iperfTime, linkIperfTime),
	"emulated link: both namespaces are on this machine, so the sender, the receiver and the link share its CPUs; a tool that needs more CPU per byte loses more here than it would between two machines",
	"croc: croc's relay, sender and receiver in a network namespace of their own with only a loopback interface (croc listens on every address and would otherwise look up its public relay and search the LAN); the received file is synced by the benchmark before the clock stops, since croc does not sync it",
	"local copy: cp of the big file to a new one on the same file system, then sync of the copy: what the disk allows any file → file row, without network or encryption (one run)",
}
