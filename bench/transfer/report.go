package transfer

import (
	"fmt"
	"math"
	"os/exec"
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
	if b.Loadavg != "" {
		w.Fact("load average at the start: %s, at the end: %s (1, 5 and 15 minutes; the benchmark's own processes count in the end figure, but anything above 0 at the start means other work shared the CPUs)", b.Loadavg, b.loadEnd)
	}
	if b.others != "" {
		w.Fact("other processes (not the benchmark's, not kernel threads) used %s while it ran", b.others)
	}
	if build := b.buildNote(); build != "" {
		w.Fact("lanchat and rendezvous: %s", build)
	}
	if b.dir != "" {
		w.Fact("workspace: %s, %s available at the start (`df -Pk`: %s)", b.dir, stats.Size(b.free), lastLine(b.dfLine))
	}
	if b.size > 0 {
		w.Fact("big file: %s of random bytes in the workspace, written and synced before the first run; it stays in the page cache, so senders read it from memory, and every receiver that writes a file writes it to the same file system and syncs it before its run counts as done", stats.Size(b.size))
	}
	w.Fact("every figure is the median of %s unless the row says otherwise; MB/s is 10⁶ bytes per second of file data (goodput), wall clock from the sending command's start to its end", plural(b.cfg.runs, "run"))
	w.List("Commands:", b.Commands("last part, after the server, messaging and web app benchmarks"))

	for i, s := range b.sections {
		fmt.Fprintf(w, "\n### §%d %s\n\n", i+1, s.title)
		if s.kind == shapedLink && b.linkDesc != "" {
			fmt.Fprintf(w, "Link: %s. The server and alice's daemon run in the first namespace, bob's in the second (`ip netns exec`); each baseline's sender and receiver likewise.\n\n", b.linkDesc)
		}
		w.WriteString(b.table(s))
	}

	w.WriteString("\n### Targets (printed, not asserted)\n\n")
	var rows [][]string
	for _, t := range append(b.targets(), b.informative()...) {
		rows = append(rows, []string{t.what, t.measured, t.verdict})
	}
	w.WriteString(cli.Table([]string{"target", "measured:", "verdict"}, rows))
	w.WriteString("\nThe last line is informative, not a target.\n")

	w.WriteString("\n### Commands per row\n\n")
	for i, s := range b.sections {
		for _, r := range s.rows {
			if len(r.commands) == 0 {
				continue
			}
			fmt.Fprintf(w, "- §%d %s, %s:\n", i+1, r.name, r.path)
			for _, c := range r.commands {
				fmt.Fprintf(w, "  - %s\n", c)
			}
		}
	}

	w.List("### How to read it", b.legend())
	w.List("### Notes", append(append(b.runNotes(), b.writeCost()...), b.Notes...))
	return w.String()
}

// table renders one section.
func (b *benchmark) table(s *section) string {
	lanRate := math.NaN()
	if lan := s.lanchatRow(); lan != nil {
		lanRate = lan.medianRate()
	}
	head := []string{"tool", "data path", "goodput MB/s:", "spread of MB/s", "runs:", "lanchat ÷ this:"}
	switch s.kind {
	case smallFiles:
		head = []string{"tool", "data path", "files/s:", "MB/s:", "spread of files/s", "runs:"}
	case shapedLink:
		head = []string{"tool", "data path", "goodput MB/s:", "Mbit/s:", "spread of MB/s", "runs:", "lanchat ÷ this:"}
	}
	head = append(head, "CPU s, sender:", "CPU s, receiver:", "peak RSS MiB, sender:", "peak RSS MiB, receiver:")
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
		rates := r.rates()
		runs := fmt.Sprintf("%d", len(r.results))
		if len(r.failures) > 0 {
			runs += fmt.Sprintf(" (+%d failed)", len(r.failures))
		}
		vs := "—"
		if !r.lanchat {
			vs = formatRatio(stats.Ratio(lanRate, stats.Median(rates)))
		}
		mb := stats.Number(megabytes(stats.Median(rates)))
		cells := []string{r.name, r.path, mb, spreadMB(rates), runs, vs}
		switch s.kind {
		case smallFiles:
			fr := r.filesRates()
			cells = []string{r.name, r.path, stats.Number(stats.Median(fr)), mb, stats.Spread(fr), runs}
		case shapedLink:
			cells = []string{r.name, r.path, mb, stats.Number(megabits(stats.Median(rates))), spreadMB(rates), runs, vs}
		}
		cpuS, cpuR, rssS, rssR := r.usage()
		rows = append(rows, append(cells, cpuS, cpuR, rssS, rssR))
	}
	return cli.Table(head, rows)
}

// rates returns each run's goodput in bytes per second.
func (r *row) rates() []float64 {
	var x []float64
	for _, res := range r.results {
		x = append(x, res.rate())
	}
	return x
}

// filesRates returns each run's files per second.
func (r *row) filesRates() []float64 {
	var x []float64
	for _, res := range r.results {
		x = append(x, res.filesRate())
	}
	return x
}

// medianRate is the row's median goodput, NaN if it has no runs.
func (r *row) medianRate() float64 { return stats.Median(r.rates()) }

// usage formats the median CPU seconds of each end and the largest peak
// resident set size of each end over the runs.
func (r *row) usage() (cpuS, cpuR, rssS, rssR string) {
	var cpu [2][]float64
	peak := [2]int64{-1, -1}
	for _, res := range r.results {
		for i := range 2 {
			if res.cpu[i] >= 0 {
				cpu[i] = append(cpu[i], res.cpu[i].Seconds())
			}
			peak[i] = max(peak[i], res.rss[i])
		}
	}
	f := func(p int64) string {
		if p < 0 {
			return "—"
		}
		return stats.Number(float64(p) / stats.MiB)
	}
	return stats.Number(stats.Median(cpu[0])), stats.Number(stats.Median(cpu[1])), f(peak[0]), f(peak[1])
}

// peakRSS is the largest peak resident set size of either end over the
// row's runs, or -1.
func (r *row) peakRSS() int64 {
	p := int64(-1)
	for _, res := range r.results {
		p = max(p, res.rss[0], res.rss[1])
	}
	return p
}

// megabytes converts bytes per second to MB/s.
func megabytes(bps float64) float64 { return bps / 1e6 }

// megabits converts bytes per second to Mbit/s.
func megabits(bps float64) float64 { return bps * 8 / 1e6 }

// spreadMB prints the range of rates in MB/s.
func spreadMB(rates []float64) string {
	x := make([]float64, len(rates))
	for i, r := range rates {
		x[i] = megabytes(r)
	}
	return stats.Spread(x)
}

// formatRatio prints a ratio as "0.93×", "—" when unknown.
func formatRatio(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return stats.Number(x) + "×"
}

// cell makes text safe and short enough for a table cell.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", `\|`)
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

// target is one line of the targets table.
type target struct {
	what, measured, verdict string
}

// targets compares the figures with the goals of the issue.
func (b *benchmark) targets() []target {
	var out []target
	vs := func(what string, kind sectionKind, other, otherPath string, goal float64) {
		t := target{what: what, measured: "—", verdict: "not measured"}
		if x, why := b.compare(kind, rowLanchat, other, otherPath); math.IsNaN(x) {
			t.verdict += why
		} else {
			t.measured, t.verdict = formatRatio(x), verdict(x >= goal)
		}
		out = append(out, t)
	}
	vs(fmt.Sprintf("lanchat ≥ %g× the raw quic-go copy on loopback (both file → file + fsync)", targetVsQUIC), bigFile, rowQUIC, pathFileToFile, targetVsQUIC)
	vs(fmt.Sprintf("lanchat ≥ %g× croc on loopback", targetVsCroc), bigFile, rowCroc, "", targetVsCroc)
	vs(fmt.Sprintf("lanchat ≥ %g of iperf3 on the emulated %s link", targetVsIperf, b.cfg.link), shapedLink, rowIperf, "", targetVsIperf)

	t := target{what: fmt.Sprintf("lanchat ≥ %d small files per second", targetFilesPS), measured: "—", verdict: "not measured"}
	if r := b.findRow(smallFiles, rowLanchat, ""); r != nil && len(r.results) > 0 {
		x := stats.Median(r.filesRates())
		t.measured, t.verdict = stats.Number(x)+" files/s", verdict(x >= targetFilesPS)
	} else {
		t.verdict += whyNot(r, r)
	}
	out = append(out, t)

	t = target{what: fmt.Sprintf("each daemon's peak RSS under %d MiB", targetRSSBytes/stats.MiB), measured: "—", verdict: "not measured"}
	peak := int64(-1)
	var lanRows []*row
	for _, s := range b.sections {
		if r := s.lanchatRow(); r != nil {
			lanRows = append(lanRows, r)
			peak = max(peak, r.peakRSS())
		}
	}
	if peak >= 0 {
		t.measured, t.verdict = stats.Number(float64(peak)/stats.MiB)+" MiB", verdict(peak < targetRSSBytes)
	} else if len(lanRows) > 0 {
		t.verdict += whyNot(lanRows[0], lanRows[0])
	}
	out = append(out, t)
	return out
}

// informative returns the lines printed under the targets that are not
// targets: what lanchat's protocol, hashing and records cost over a raw
// copy with the same disk path.
func (b *benchmark) informative() []target {
	t := target{what: "lanchat ÷ raw quic-go copy with direct I/O (loopback, the same disk path: what lanchat's protocol, hashing and records cost)", measured: "—", verdict: "not measured"}
	if x, why := b.compare(bigFile, rowLanchat, rowQUIC, pathDirect); math.IsNaN(x) {
		t.verdict += why
	} else {
		t.measured, t.verdict = formatRatio(x), "no target"
	}
	return []target{t}
}

// compare divides the median goodput of the row named name by that of
// the row named other (on otherPath, if not ""), both in a section of the
// given kind. When it cannot, it returns NaN and why not.
func (b *benchmark) compare(kind sectionKind, name, other, otherPath string) (float64, string) {
	r, base := b.findRow(kind, name, ""), b.findRow(kind, other, otherPath)
	if r == nil || base == nil {
		return math.NaN(), whyNot(r, base)
	}
	x := stats.Ratio(r.medianRate(), base.medianRate())
	if math.IsNaN(x) {
		return x, whyNot(r, base)
	}
	return x, ""
}

// findRow returns the row of the given kind of section, name and (if
// not "") path.
func (b *benchmark) findRow(kind sectionKind, name, path string) *row {
	for _, s := range b.sections {
		if s.kind != kind {
			continue
		}
		for _, r := range s.rows {
			if r.name == name && (path == "" || r.path == path) {
				return r
			}
		}
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
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
func (b *benchmark) legend() []string {
	return []string{
		"goodput: file bytes divided by the wall time of one run, from the start of the sending command to the moment the data is all on the receiving side (in place and synced, for rows that write a file); the median over the runs, with the lowest and highest beside it",
		"runs: how many runs the median is of. The discard rows, the local copy and the raw quic-go copies on the link run once: they only show where a ceiling is or what QUIC alone costs, and once keeps the whole benchmark within about twenty minutes; `+N failed` counts runs that failed (no row runs again after a failure; the notes say why)",
		"lanchat ÷ this: the median goodput of “" + rowLanchat + "” in the same table divided by this row's; above 1 means lanchat was faster",
		"CPU s: user plus system CPU seconds of the sending and the receiving process over one run, median over runs. For lanchat they are the two daemons' (from /proc/PID/stat before and after the run; the `lanchat send-file` client itself is not counted); for the baselines the processes' own (wait4 rusage), handshakes and start-up included",
		fmt.Sprintf("peak RSS: the largest resident set size of each end over the runs. For lanchat the daemons' VmHWM from /proc/PID/status (reset through /proc/PID/clear_refs before each run where the kernel allows, so it covers that run) and VmRSS sampled every %v, whichever is larger; for the baselines each process's VmHWM, read every %v until it exits (wait4's maxrss would count xferload's own memory, which a child shares until it execs)", testbed.SampleEvery, testbed.SampleEvery),
		"lanchat: `lanchat send-file bob FILE` on alice's side, timed until it exits 0: bob's daemon (accepting from contacts into --downloads) has checked every 1 MiB chunk's SHA-256 and the whole file's, written big files' chunks with direct I/O (O_DIRECT; the baselines write through the page cache), synced and renamed the file. A transfer is striped over streams of the one QUIC connection between the daemons, opened by a 1 MiB warm-up transfer before any timed run",
		"raw quic-go copy (bench/rawcopy): one QUIC stream, TLS 1.3 with throw-away certificates, go.mod's quic-go with peer/direct's flow-control windows and socket buffers, 1 MiB reads and writes, no hashing or progress records. file → discard drops the data (the network ceiling); direct I/O (`--direct`) writes aligned 1 MiB blocks past the page cache, as lanchat does; " +
			"`--conns 2` cuts the file in two halves on 1 MiB boundaries, each on a stream of its own QUIC connection from one UDP socket per side",
		"TLS 1.3 over TCP copy (bench/rawcopy --proto tls): the same I/O as the quic-go copy over crypto/tls on one TCP connection",
		fmt.Sprintf("iperf3: TCP from memory to memory, no encryption, no files, for a fixed time (%d s on loopback, %d s on the link); its goodput is the receiver's total from iperf3's JSON", iperfTime, linkIperfTime),
		"emulated link: both namespaces are on this machine, so the sender, the receiver and the link share its CPUs; a tool that needs more CPU per byte loses more here than it would between two machines",
		"croc: croc's relay, sender and receiver in a network namespace of their own with only a loopback interface (croc listens on every address and would otherwise look up its public relay and search the LAN); the received file is synced by xferload before the clock stops, since croc does not sync it",
		"local copy: cp of the big file to a new one on the same file system, then sync of the copy: what the disk allows any file → file row, without network or encryption (one run)",
	}
}

// runNotes collects per-run remarks and failures.
func (b *benchmark) runNotes() []string {
	var out []string
	for i, s := range b.sections {
		for _, r := range s.rows {
			var infos []string
			for _, res := range r.results {
				if res.info != "" {
					infos = append(infos, res.info)
				}
			}
			if len(infos) > 0 {
				out = append(out, fmt.Sprintf("§%d %s, %s, per run: %s", i+1, r.name, r.path, strings.Join(dedup(infos), "; ")))
			}
			for _, f := range r.failures {
				out = append(out, fmt.Sprintf("§%d %s, %s, failed: %s", i+1, r.name, r.path, cell(f)))
			}
		}
	}
	return out
}

// writeCost notes what writing the received file costs on this machine,
// from the raw copies' receivers with and without a file.
func (b *benchmark) writeCost() []string {
	var out []string
	for _, name := range []string{rowQUIC, rowTLS} {
		disk, discard := b.findRow(bigFile, name, pathFileToFile), b.findRow(bigFile, name, pathDiscard)
		if disk == nil || discard == nil || len(disk.results) == 0 || len(discard.results) == 0 {
			continue
		}
		_, withFile, _, _ := disk.usage()
		_, without, _, _ := discard.usage()
		out = append(out, fmt.Sprintf("%s: its receiver used %s CPU s per run writing and syncing the file, %s discarding it; the difference is what the page cache and the file system cost here, and it competes for the same CPUs as the transfer",
			name, withFile, without))
	}
	return out
}

// dedup collapses repeated entries of a list into one.
func dedup(x []string) []string {
	if len(x) > 1 {
		same := true
		for _, s := range x[1:] {
			same = same && s == x[0]
		}
		if same {
			return []string{x[0] + fmt.Sprintf(" (all %d)", len(x))}
		}
	}
	return x
}

// buildNote says what the binaries were built from: the work tree's git
// description, as make bench builds them.
func (b *benchmark) buildNote() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return "built from the work tree at `" + strings.TrimSpace(string(out)) + "` (`git describe --always --dirty`)"
}

// lastLine returns the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(strings.Fields(lines[len(lines)-1]), " ")
}

// plural prints n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
