// Command lanchat is the user's side of lanchat: "lanchat daemon" runs the
// peer daemon, and every other subcommand is a thin client of the
// daemon's local API (package peer/api) on HOME/daemon.sock.
//
//	lanchat [--home DIR] [--json] COMMAND [ARGS]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lanchat/lanchat/peer/api"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// run is the whole program: it parses the global flags, runs one command
// and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, stdin, stdout, stderr, os.Getenv)
}

func runEnv(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("lanchat", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	homeFlag := fs.String("home", "", "data directory")
	asJSON := fs.Bool("json", false, "print replies as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, topUsage())
			return exitOK
		}
		fmt.Fprintf(stderr, "lanchat: %v\nrun 'lanchat help' for usage\n", err)
		return exitUsage
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage())
		return exitUsage
	}
	home, err := dataHome(*homeFlag, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "lanchat: %v\n", err)
		return exitFailure
	}

	switch args[0] {
	case "completion":
		return report(ctx, stderr, home, runCompletion(args[1:], stdout))
	case "__complete":
		runComplete(ctx, home, args[1:], stdout)
		return exitOK
	}
	if args[0] == "daemon" {
		return report(ctx, stderr, home, runDaemon(ctx, home, args[1:], stdout, stderr))
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return report(ctx, stderr, home, err)
	}
	client := api.NewClient(socketPath(home))
	defer client.Close()
	e := &env{
		ctx: ctx, home: home, json: *asJSON,
		stdin: stdin, stdout: stdout, stderr: stderr,
		client: client, now: timeNow, getenv: getenv,
	}
	return report(ctx, stderr, home, cmd.run(e, cmd, rest))
}

// report prints err the way users see it and returns the exit code.
func report(ctx context.Context, stderr io.Writer, home string, err error) int {
	var (
		apiErr   *api.Error
		usageErr *usageErr
	)
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return exitOK
	case errors.As(err, &usageErr):
		fmt.Fprintf(stderr, "lanchat: %v\n", err)
		return exitUsage
	case errors.Is(err, api.ErrNoDaemon):
		fmt.Fprintf(stderr, "lanchat: no daemon running for %s; start one with: lanchat --home %s daemon --server HOST:PORT\n", home, home)
		return exitFailure
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return exitInterrupted
	case errors.As(err, &apiErr):
		if apiErr.Field != "" {
			// Name the field: `email: "x@" is not an e-mail address`.
			fmt.Fprintf(stderr, "lanchat: %s: %s\n", apiErr.Field, apiErr.Message)
			return exitFailure
		}
		fmt.Fprintf(stderr, "lanchat: %s\n", apiErr.Message)
		return exitFailure
	default:
		fmt.Fprintf(stderr, "lanchat: %v\n", err)
		return exitFailure
	}
}
