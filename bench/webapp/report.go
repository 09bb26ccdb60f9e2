package webapp

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/bench/internal/sysinfo"
)

// report is what a run measured.
type report struct {
	n, history int
	app, api   []time.Duration
	open       []time.Duration
	heap       heapResult
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// markdown renders the report.
func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Web app benchmark\n\n")
	fmt.Fprintf(&b, "%s, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), sysinfo.Machine())
	fmt.Fprintf(&b, "| what | count | p50 | p99 | max |\n|---|---|---|---|---|\n")
	row := func(what string, d []time.Duration) {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", what, len(d), ms(stats.Percentile(d, 0.5)), ms(stats.Percentile(d, 0.99)), ms(stats.Percentile(d, 1)))
	}
	row("message: Send pressed in alice's app → shown in bob's app", r.app)
	row("message: alice's POST /v1/messages → bob's event stream (API alone)", r.api)
	row(fmt.Sprintf("open a %d-message conversation: click → newest message shown", r.history), r.open)
	fmt.Fprintf(&b, "\n| JavaScript heap of bob's page | used |\n|---|---|\n")
	fmt.Fprintf(&b, "| with the %d-message conversation open | %s |\n", r.history, mib(r.heap.before))
	top := "reached the first message"
	if !r.heap.reachedTop {
		top = "did not reach the first message"
	}
	fmt.Fprintf(&b, "| after scrolling to its beginning (%d steps, %s) | %s |\n", r.heap.steps, top, mib(r.heap.after))
	fmt.Fprintf(&b, "\nBoth daemons, the server and two headless Chromiums (%s) ran on this machine, over loopback.\n", chromiumVersion())
	fmt.Fprintf(&b, "The app's times are read on the pages' own clocks (performance.timeOrigin + now()): from the click\n")
	fmt.Fprintf(&b, "event on Send in alice's page to the text appearing in the document of bob's page (a MutationObserver,\n")
	fmt.Fprintf(&b, "before paint). The API row is the same daemons in the same run, timed by the client. The heap is read\n")
	fmt.Fprintf(&b, "after a forced garbage collection (Runtime.getHeapUsage). Load average at the end: %s.\n", sysinfo.LoadAverage())
	return b.String()
}

func chromiumVersion() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if out, err := exec.Command(name, "--version").Output(); err == nil {
			return strings.TrimSpace(string(out))
		}
	}
	return "Chromium"
}
