// Package cli is what the bench command's subcommands share on the
// command line: flag sets that print an example on --help, usage errors
// (exit code 2), the exit code of a run, the context a run is cancelled
// by, and writing the report to --out.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// ErrUsage marks errors caused by a bad command line (exit code 2).
var ErrUsage = errors.New("usage")

// Flags makes a flag set for the subcommand name ("bench messaging")
// that prints what it does, its flags and examples on --help.
func Flags(name, what string, stderr io.Writer, examples ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of %s (%s):\n", name, what)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nExamples:\n")
		for _, e := range examples {
			fmt.Fprintf(stderr, "  %s\n", e)
		}
	}
	return fs
}

// Parse parses flags, wrapping failures as usage errors, and refuses
// positional arguments.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// Context is cancelled by SIGINT, SIGTERM or SIGHUP.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
}

// Exit prints err, if any, and returns the exit code: 0 for none or
// --help, 2 for a usage error, 1 for anything else.
func Exit(name string, err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}

// WriteReport writes report to the file path, making its directory.
func WriteReport(path, report string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// Main is a subcommand's whole run: parse the flags into a
// configuration, run the benchmark under Context, and return the exit
// code as Exit does.
func Main[C any](name string, args []string, stdout, stderr io.Writer,
	parse func(args []string, stderr io.Writer) (C, error),
	run func(ctx context.Context, cfg C, args []string, stdout, stderr io.Writer) error) int {
	cfg, err := parse(args, stderr)
	if err == nil {
		ctx, stop := Context()
		defer stop()
		err = run(ctx, cfg, args, stdout, stderr)
	}
	return Exit(name, err, stderr)
}

// Common are the flags of the subcommands that start processes of their
// own: where the binaries are, where the report goes, and whether the
// temporary directory is kept.
type Common struct {
	Bin  string // --bin
	Out  string // --out
	Keep bool   // --keep
}

// AddFlags adds --bin, --out and --keep to fs; binHelp says which
// binaries --bin holds, keepHelp what --keep keeps.
func (c *Common) AddFlags(fs *flag.FlagSet, binHelp, keepHelp string) {
	fs.StringVar(&c.Bin, "bin", "bin", "`DIR` holding "+binHelp)
	fs.StringVar(&c.Out, "out", "", "also write the report to `FILE` (e.g. bench/results/NAME-latest.md)")
	fs.BoolVar(&c.Keep, "keep", false, "keep "+keepHelp+" for a post-mortem")
}

// Publish prints report to stdout and, with --out, writes it there too
// and says so on progress.
func (c *Common) Publish(stdout, progress io.Writer, report string) error {
	fmt.Fprint(stdout, report)
	if c.Out == "" {
		return nil
	}
	if err := WriteReport(c.Out, report); err != nil {
		return err
	}
	fmt.Fprintf(progress, "== written to %s\n", c.Out)
	return nil
}
