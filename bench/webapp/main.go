// Package webapp is the web app benchmark of make bench ("bench webapp"):
// the time from pressing Send in alice's app to the message shown in bob's
// app (p50 and p99), beside the same message path through the local API
// alone in the same run; the time to open a 10,000-message conversation;
// and the page's JavaScript heap after scrolling through it.
//
// It starts a rendezvous server and two lanchat daemons from the binaries
// in --bin, on loopback in a temporary directory, and a headless Chromium
// for each user. Nothing leaves 127.0.0.0/8; it stops only the processes
// it started, by their ids.
//
//	bench webapp --bin bin --out bench/results/webapp-latest.md
package webapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/axquery"
	"github.com/lanchat/lanchat/internal/testbed"
	"github.com/lanchat/lanchat/peer/api"
)

// config is what a run does.
type config struct {
	cli.Common
	n       int // messages timed per path
	history int // messages in the long conversation
	opens   int // timed opens of the long conversation
}

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main("bench webapp", args, stdout, stderr, parseConfig, bench)
}

// parseConfig reads and checks the flags.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := cli.Flags("bench webapp", "the web app benchmark; bench/run.sh runs it", stderr,
		"bench webapp --bin bin --out bench/results/webapp-latest.md --n 200 --history 10000")
	cfg.AddFlags(fs, "the rendezvous and lanchat binaries", "the temporary directory")
	fs.IntVar(&cfg.n, "n", 200, "messages timed through the app and through the API")
	fs.IntVar(&cfg.history, "history", 10000, "messages in the long conversation that is opened")
	fs.IntVar(&cfg.opens, "opens", 5, "timed opens of the long conversation")
	if err := cli.Parse(fs, args); err != nil {
		return cfg, err
	}
	if cfg.n < 1 || cfg.opens < 1 || cfg.history < 2*cfg.n+2 {
		return cfg, fmt.Errorf("%w: --n and --opens must be positive, --history at least 2n+2", cli.ErrUsage)
	}
	return cfg, nil
}

// report is what a run measured.
type report struct {
	n, history     int
	browser        string // the Chromium executable
	app, api, open []time.Duration
	heap           heapResult
}

// bench runs the benchmark with a time limit: a server and daemons for
// alice and bob, friends, a browser for each, then the measurements.
func bench(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	run := cli.NewRun("webapp", args, stderr)
	exe, err := axquery.FindChromium("")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "lanchat-webbench.")
	if err != nil {
		return err
	}
	owner := testbed.Stack{W: stderr}
	defer func() {
		owner.Close()
		if cfg.Keep {
			run.Say("kept %s", dir)
		} else {
			os.RemoveAll(dir)
		}
	}()
	run.Say("starting a rendezvous server and daemons for alice and bob in %s", dir)
	bed, err := testbed.StartCluster(ctx, &owner, cfg.Bin, dir, []string{"alice", "bob"}, true,
		[]string{"--argon2-memory", "256", "--argon2-time", "1"}, []string{"--listen", "127.0.0.1:0", "--no-mdns"})
	if err != nil {
		return err
	}
	alice, bob := bed.Daemons[0], bed.Daemons[1]
	// A first message opens the direct connection, so the timed ones
	// measure the steady path.
	if _, err := sendTimed(ctx, alice, bob, "webload warm-up"); err != nil {
		return err
	}
	run.Say("opening a browser for alice and for bob (%s)", exe)
	aliceApp, err := openBrowser(ctx, exe, dir, alice)
	if err != nil {
		return err
	}
	defer aliceApp.cancel()
	bobApp, err := openBrowser(ctx, exe, dir, bob)
	if err != nil {
		return err
	}
	defer bobApp.cancel()

	r := report{n: cfg.n, history: cfg.history, browser: exe}
	run.Say("timing %d messages from alice's app to bob's app", cfg.n)
	if r.app, err = appLatency(ctx, aliceApp, bobApp, cfg.n); err != nil {
		return fmt.Errorf("app latency: %w", err)
	}
	run.Say("timing %d messages through the API alone", cfg.n)
	texts := make([]string, cfg.n)
	for i := range texts {
		texts[i] = fmt.Sprintf("webload api %d %d", time.Now().UnixNano(), i)
	}
	if r.api, err = sendTimed(ctx, alice, bob, texts...); err != nil {
		return fmt.Errorf("API latency: %w", err)
	}
	run.Say("filling the conversation up to %d messages (through the API, four senders at a time)", cfg.history)
	var next atomic.Int64
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(cfg.history-2*cfg.n) && errs[w] == nil; i = next.Add(1) {
				_, errs[w] = alice.API.Send(ctx, api.SendRequest{Target: "bob", Text: fmt.Sprintf("webload fill %d: the quick brown fox jumps over the lazy dog", i)})
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fill the conversation: %w", err)
	}
	last := fmt.Sprintf("webload last %d", time.Now().UnixNano())
	if _, err := sendTimed(ctx, alice, bob, last); err != nil {
		return err
	}
	run.Say("opening the %d-message conversation in bob's app %d times", cfg.history, cfg.opens)
	if r.open, err = openTimes(ctx, bobApp, "alice", last, cfg.opens); err != nil {
		return fmt.Errorf("open the conversation: %w", err)
	}
	run.Say("scrolling through it and reading the JavaScript heap")
	if r.heap, err = scrollHeap(ctx, bobApp); err != nil {
		return fmt.Errorf("heap after scrolling: %w", err)
	}
	return cfg.Publish(stdout, stderr, r.markdown())
}

// sendTimed sends each of texts from a to b through the API (POST
// /v1/messages), one after the other, and returns the time from each
// Send to the message on b's event stream.
func sendTimed(ctx context.Context, a, b *testbed.Daemon, texts ...string) ([]time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second+time.Duration(len(texts))*time.Second)
	defer cancel()
	ev, err := b.API.Events(ctx)
	if err != nil {
		return nil, err
	}
	defer ev.Close()
	var out []time.Duration
	for _, text := range texts {
		start := time.Now()
		if _, err := a.API.Send(ctx, api.SendRequest{Target: b.Name, Text: text}); err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		for e, err := ev.Next(); e.Type != api.EventMessage || e.Message == nil || e.Message.Text != text; e, err = ev.Next() {
			if err != nil {
				return nil, fmt.Errorf("waiting for %q: %w", text, err)
			}
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// markdown renders the report.
func (r *report) markdown() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	mib := func(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
	var b strings.Builder
	fmt.Fprintf(&b, "# Web app benchmark\n\n%s, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), cli.Machine())
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
	version := "Chromium"
	if out, err := exec.Command(r.browser, "--version").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	fmt.Fprintf(&b, `
Both daemons, the server and two headless Chromiums (%s) ran on this machine, over loopback.
The app's times are read on the pages' own clocks (performance.timeOrigin + now()): from the click
event on Send in alice's page to the text appearing in the document of bob's page (a MutationObserver,
before paint). The API row is the same daemons in the same run, timed by the client. The heap is read
after a forced garbage collection (Runtime.getHeapUsage). Load average at the end: %s.
`, version, cli.LoadAverage())
	return b.String()
}
