// Command rendezvous runs the lanchat rendezvous server and its operator
// tools.
//
//	rendezvous serve --listen :7443 --data DIR [--store postgres://…]
//	rendezvous migrate --store postgres://…
//	rendezvous fingerprint --data DIR
//	rendezvous users list|disable|enable --data DIR [USER]
//	rendezvous service install|uninstall|status (Windows)
//	rendezvous version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lanchat/lanchat/internal/buildinfo"
)

const usage = `rendezvous runs the lanchat rendezvous server.

Usage:
  rendezvous serve --data DIR [--store URL|FILE] [--listen ADDR] [--tls-cert F --tls-key F] [--metrics ADDR]
  rendezvous migrate --store URL|FILE
  rendezvous fingerprint --data DIR
  rendezvous users list --data DIR|--store URL
  rendezvous users disable --data DIR|--store URL USER
  rendezvous users enable --data DIR|--store URL USER
  rendezvous service install|uninstall|status [serve flags]   (Windows)
  rendezvous version

Run "rendezvous COMMAND --help" for a command's flags and an example.
`

// errUsage marks errors caused by a bad command line (exit code 2).
var errUsage = errors.New("usage")

func main() {
	if code, ok := runAsService(os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(args[1:], stdout, stderr)
	case "fingerprint":
		err = cmdFingerprint(args[1:], stdout, stderr)
	case "users":
		err = cmdUsers(args[1:], stdout, stderr)
	case "service":
		err = cmdService(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "rendezvous", buildinfo.Read())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rendezvous: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "rendezvous: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "rendezvous: %v\n", err)
		return 1
	}
}

// newFlags makes a flag set that prints its usage and example on --help.
func newFlags(name, example string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of rendezvous %s:\n", name)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExample:\n  %s\n", example)
	}
	return fs
}

// parse parses flags, wrapping failures as usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
