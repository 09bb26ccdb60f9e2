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
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/internal/axquery"
)

// config is what a run does.
type config struct {
	cli.Common
	n       int // messages timed per path
	history int // messages in the long conversation
	opens   int // timed opens of the long conversation
}

const example = "bench webapp --bin bin --out bench/results/webapp-latest.md --n 200 --history 10000"

// progress receives the progress lines (the command's stderr).
var progress io.Writer = os.Stderr

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	progress = stderr
	return cli.Main("bench webapp", args, stdout, stderr, parseConfig, bench)
}

// parseConfig reads and checks the flags.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := cli.Flags("bench webapp", "the web app benchmark; bench/run.sh runs it", stderr, example)
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

// say prints a progress line.
func say(format string, args ...any) {
	fmt.Fprintf(progress, "== "+format+"\n", args...)
}

// bench runs the benchmark with a time limit.
func bench(ctx context.Context, cfg config, _ []string, stdout, _ io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	return run(ctx, cfg, stdout)
}

func run(ctx context.Context, cfg config, stdout io.Writer) error {
	exe, err := axquery.FindChromium("")
	if err != nil {
		return err
	}
	c, err := startCluster(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.stop()
	alice, bob := c.peers[0], c.peers[1]

	say("opening a browser for alice and for bob (%s)", exe)
	aliceApp, err := openBrowser(ctx, exe, c.dir, alice)
	if err != nil {
		return err
	}
	defer aliceApp.close()
	bobApp, err := openBrowser(ctx, exe, c.dir, bob)
	if err != nil {
		return err
	}
	defer bobApp.close()

	var r report
	r.n, r.history = cfg.n, cfg.history
	say("timing %d messages from alice's app to bob's app", cfg.n)
	if r.app, err = appLatency(ctx, aliceApp, bobApp, "bob", "alice", cfg.n); err != nil {
		return fmt.Errorf("app latency: %w", err)
	}
	say("timing %d messages through the API alone", cfg.n)
	if r.api, err = apiLatency(ctx, alice, bob, cfg.n); err != nil {
		return fmt.Errorf("API latency: %w", err)
	}
	say("filling the conversation up to %d messages (through the API)", cfg.history)
	if err := fill(ctx, alice, "bob", cfg.history-2*cfg.n); err != nil {
		return fmt.Errorf("fill the conversation: %w", err)
	}
	last := fmt.Sprintf("webload last %d", time.Now().UnixNano())
	if err := sendAndWait(ctx, alice, bob, last); err != nil {
		return err
	}
	say("opening the %d-message conversation in bob's app %d times", cfg.history, cfg.opens)
	if r.open, err = openTimes(ctx, bobApp, "alice", last, cfg.opens); err != nil {
		return fmt.Errorf("open the conversation: %w", err)
	}
	say("scrolling through it and reading the JavaScript heap")
	if r.heap, err = scrollHeap(ctx, bobApp); err != nil {
		return fmt.Errorf("heap after scrolling: %w", err)
	}
	return cfg.Publish(stdout, progress, r.markdown())
}
