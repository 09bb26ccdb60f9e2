package webapp

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
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
	var rows [][]string
	for _, row := range []struct {
		what string
		d    []time.Duration
	}{
		{"message: Send pressed in alice's app → shown in bob's app", r.app},
		{"message: alice's POST /v1/messages → bob's event stream (API alone)", r.api},
		{fmt.Sprintf("open a %d-message conversation: click → newest message shown", r.history), r.open},
	} {
		rows = append(rows, []string{row.what, strconv.Itoa(len(row.d)), ms(stats.Percentile(row.d, 0.5)), ms(stats.Percentile(row.d, 0.99)), ms(stats.Percentile(row.d, 1))})
	}
	b.WriteString(cli.Table([]string{"what", "count", "p50", "p99", "max"}, rows))
	top := "reached the first message"
	if !r.heap.reachedTop {
		top = "did not reach the first message"
	}
	b.WriteString("\n" + cli.Table([]string{"JavaScript heap of bob's page", "used"}, [][]string{
		{fmt.Sprintf("with the %d-message conversation open", r.history), mib(r.heap.before)},
		{fmt.Sprintf("after scrolling to its beginning (%d steps, %s)", r.heap.steps, top), mib(r.heap.after)},
	}))
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
