package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/keys"
	"github.com/lanchat/lanchat/internal/profiling"

	"github.com/lanchat/lanchat/peer/daemon"
	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/peer/notify"
	"github.com/lanchat/lanchat/peer/webui"
)

// version is the daemon's version, reported by lanchat status.
const version = "0.1.0"

const daemonUsage = `Usage: lanchat [--home DIR] daemon [--server HOST:PORT] [flags]

Run the peer daemon for the data directory DIR: it keeps the link to the
rendezvous server, takes direct QUIC connections from contacts, delivers the
outbox and serves the local API on DIR/daemon.sock that every other lanchat
command uses, and the web app on a loopback port (lanchat ui opens it). One
daemon runs per data directory.

Flags:
`

const daemonExample = `
Example:
  lanchat --home ~/.lanchat-alice daemon --server 10.0.0.5:7443 \
      --server-fingerprint 3f9a...c2
`

// runDaemon runs "lanchat daemon": the peer daemon for the data directory
// homeDir, serving the local API on its daemon.sock, until ctx ends.
func runDaemon(ctx context.Context, homeDir string, args []string, stdout, stderr io.Writer) error {
	return daemonMain(ctx, homeDir, args, stdout, stderr, false)
}

// checkDaemonArgs checks daemon flags without running a daemon (for
// lanchat service install).
func checkDaemonArgs(args []string) error {
	return daemonMain(context.Background(), "", args, io.Discard, io.Discard, true)
}

// daemonMain parses the daemon's flags and, unless checkOnly, runs it.
func daemonMain(ctx context.Context, homeDir string, args []string, stdout, stderr io.Writer, checkOnly bool) error {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	server := fs.String("server", "", "rendezvous server `HOST:PORT`, or several nodes of one service: a:7443,b:7443 (default: the one used before, else one announced on the LAN)")
	fingerprint := fs.String("server-fingerprint", "", "pin the server certificate's SHA-256 `FP` (default: the pinned one, else trust on first use)")
	listen := fs.String("listen", daemon.DefaultListen, "UDP `ADDR` for direct QUIC connections")
	downloads := fs.String("downloads", "", "`DIR` for files from friends (default ~/Downloads if it exists, else DATA/downloads)")
	askFiles := fs.Bool("ask-files", false, "ask before taking any file (lanchat accept ID); by default friends' files are taken into the downloads folder")
	noMDNS := fs.Bool("no-mdns", false, "do not announce or browse on the LAN")
	noNotify := fs.Bool("no-notify", false, "show no desktop notifications")
	mdnsIface := fs.String("mdns-iface", "", "announce and browse only on the network interface `NAME` (default: every interface that can multicast)")
	mdnsInterval := fs.Duration("mdns-interval", 0, "look for peers on the LAN about every `D` (default 5-10s); a peer that stops answering is gone after three of them")
	prekeyLifetime := fs.Duration("prekey-lifetime", daemon.DefaultPrekeyLifetime, "publish a new relay prekey after two thirds of this `D`")
	relayRetention := fs.Duration("relay-retention", daemon.DefaultRelayRetention, "keep old prekey secrets this `D` after they expire: set it to the server's --relay-retention")
	uiAddr := fs.String("ui", webui.DefaultAddr, "serve the web app on the loopback `ADDR` (port 0: the port of the last run if free, else any; open it with lanchat ui)")
	noUI := fs.Bool("no-ui", false, "do not serve the web app")
	logLevel := fs.String("log-level", "info", "`LEVEL`: debug, info, warn or error")
	pprofAddr := fs.String("pprof", "", "serve Go's CPU and memory profiles on the loopback `ADDR` (for example 127.0.0.1:6060), for diagnosing performance")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printDaemonUsage(stdout, fs)
			return errHelpShown
		}
		return usagef("daemon: %v\nrun 'lanchat daemon --help' for usage", err)
	}
	if fs.NArg() > 0 {
		return usagef("daemon: unexpected argument %q\nrun 'lanchat daemon --help' for usage", fs.Arg(0))
	}
	if *prekeyLifetime < 2*time.Second || *prekeyLifetime > keys.MaxPrekeyLifetime {
		return usagef("daemon: --prekey-lifetime %v: want between 2s and %v", *prekeyLifetime, keys.MaxPrekeyLifetime)
	}
	if *mdnsInterval < 0 {
		return usagef("daemon: --mdns-interval %v: want a positive duration", *mdnsInterval)
	}
	if *relayRetention <= 0 {
		return usagef("daemon: --relay-retention %v: want a positive duration", *relayRetention)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usagef("daemon: --log-level %q: want debug, info, warn or error", *logLevel)
	}
	if *pprofAddr != "" {
		if err := profiling.CheckAddr(*pprofAddr); err != nil {
			return usagef("daemon: --pprof: %v", err)
		}
	}
	if checkOnly {
		return nil
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *pprofAddr != "" {
		pctx, stop := context.WithCancel(ctx)
		ln, wait, err := servePprof(pctx, *pprofAddr, logger)
		if err != nil {
			stop()
			return fmt.Errorf("--pprof: %w", err)
		}
		defer wait()
		defer stop()
		logger.Info("profiles served", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	}
	limitMemory(os.Getenv)

	if *downloads != "" {
		abs, err := filepath.Abs(*downloads)
		if err != nil {
			return fmt.Errorf("--downloads: %w", err)
		}
		*downloads = abs
	}
	h, err := home.Open(homeDir)
	if err != nil {
		return err
	}
	var desktop notify.Desktop
	if !*noNotify {
		// Without the system's notification service (a session bus
		// on Linux) there are simply no notifications.
		if bus, err := notify.Open(); err != nil {
			logger.Debug("no desktop notifications", "err", err)
		} else {
			defer bus.Close()
			desktop = bus
		}
	}
	d, err := daemon.New(daemon.Config{
		Home:           h,
		Server:         *server,
		Fingerprint:    *fingerprint,
		Listen:         *listen,
		Downloads:      *downloads,
		AskFiles:       *askFiles,
		NoMDNS:         *noMDNS,
		MDNSIface:      *mdnsIface,
		MDNSInterval:   *mdnsInterval,
		PrekeyLifetime: *prekeyLifetime,
		RelayRetention: *relayRetention,
		UI:             *uiAddr,
		NoUI:           *noUI,
		Version:        version,
		Desktop:        desktop,
		Out:            stdout,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

func printDaemonUsage(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	b.WriteString(daemonUsage)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(&b, "  --%s%s\n        %s\n", f.Name, name, usage)
	})
	b.WriteString(daemonExample)
	fmt.Fprint(w, b.String())
}
