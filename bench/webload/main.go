// Command webload measures the lanchat web app in a real browser: the time
// from pressing Send in alice's app to the message shown in bob's app
// (p50 and p99), beside the same message path through the local API alone
// in the same run; the time to open a 10,000-message conversation; and
// the page's JavaScript heap after scrolling through it.
//
// It starts a rendezvous server and two lanchat daemons on loopback in a
// temporary directory, and a headless Chromium for each user. Nothing
// leaves 127.0.0.0/8. make bench runs it (bench/run.sh).
//
//	webload [--bin DIR] [--chromium PATH] [--n 200] [--history 10000] [--out FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is what a run does.
type config struct {
	bin      string
	chromium string
	n        int // messages timed per path
	history  int // messages in the long conversation
	opens    int // timed opens of the long conversation
	out      string
	keep     bool
}

func main() {
	var cfg config
	fs := flag.NewFlagSet("webload", flag.ExitOnError)
	fs.StringVar(&cfg.bin, "bin", "bin", "`DIR` holding the rendezvous and lanchat binaries")
	fs.StringVar(&cfg.chromium, "chromium", "", "the browser to drive (default: chromium, chromium-browser or google-chrome on PATH)")
	fs.IntVar(&cfg.n, "n", 200, "messages timed through the app and through the API")
	fs.IntVar(&cfg.history, "history", 10000, "messages in the long conversation that is opened")
	fs.IntVar(&cfg.opens, "opens", 5, "timed opens of the long conversation")
	fs.StringVar(&cfg.out, "out", "", "also write the report to `FILE`")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory")
	fs.Parse(os.Args[1:])
	if cfg.n < 1 || cfg.history < 1 || cfg.opens < 1 {
		fmt.Fprintln(os.Stderr, "webload: --n, --history and --opens must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "webload:", err)
		os.Exit(1)
	}
}

// say prints a progress line.
func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "== "+format+"\n", args...)
}

func run(ctx context.Context, cfg config) error {
	exe, err := findChromium(cfg.chromium)
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
	out := r.markdown()
	fmt.Print(out)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(out), 0o644); err != nil {
			return err
		}
		say("written to %s", cfg.out)
	}
	return nil
}
