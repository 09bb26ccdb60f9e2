package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
)

// topUsage is the help "lanchat help" prints.
func topUsage() string {
	var b strings.Builder
	b.WriteString(`lanchat: private chat and direct file sharing on the office LAN.

Usage:
  lanchat [--home DIR] [--json] COMMAND [ARGS]

Commands:
`)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  daemon\trun the peer daemon that every other command talks to\n")
	fmt.Fprintf(tw, "  completion bash|zsh|fish\tprint a shell completion script (commands, flags, contact and group names)\n")
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	b.WriteString(`
Global flags (before COMMAND):
  --home DIR   data directory; default $LANCHAT_HOME, else $XDG_DATA_HOME/lanchat,
               else ~/.local/share/lanchat. The daemon's socket is DIR/daemon.sock.
  --json       print replies as JSON, for scripts

Run 'lanchat help COMMAND' or 'lanchat COMMAND --help' for a command's flags
and an example.
`)
	return b.String()
}

// commandUsage is c's help: usage line, summary, flags, example.
func commandUsage(c *command, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: lanchat %s %s\n\n%s.\n", c.name, c.args, upperFirst(c.summary))
	b.WriteString("\nFlags:\n")
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		fmt.Fprintf(tw, "  --%s%s\t%s\n", f.Name, name, usage)
	})
	tw.Flush()
	fmt.Fprintf(&b, "\nExample:\n  %s\n", c.example)
	return b.String()
}

// groupUsage lists the subcommands of a command group such as "friend".
func groupUsage(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: lanchat %s SUBCOMMAND\n\nSubcommands:\n", name)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, c := range commands {
		if strings.HasPrefix(c.name, name+" ") {
			fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nRun 'lanchat help %s SUBCOMMAND' for its flags and an example.\n", name)
	return b.String()
}

// cmdHelp prints help for lanchat or for one command.
func cmdHelp(e *env, c *command, args []string) error {
	fs := e.flags(c)
	pos, err := e.parse(c, fs, args, 0, 2)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprint(e.stdout, topUsage())
		return nil
	}
	if pos[0] == "daemon" {
		return runDaemon(e.ctx, e.home, []string{"--help"}, e.stdout, e.stderr)
	}
	target, _, err := lookup(append(pos, "--help"))
	if err != nil {
		return err
	}
	if target == c {
		fmt.Fprint(e.stdout, commandUsage(c, fs))
		return nil
	}
	return target.run(e, target, []string{"--help"})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
