package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// Shell completion: "lanchat completion SHELL" prints a script that asks
// "lanchat __complete WORDS..." for the candidates of the last word;
// contact and group names come from the running daemon.

const bashCompletion = `# lanchat completion for bash: eval "$(lanchat completion bash)"
_lanchat() {
	local IFS=$'\n'
	COMPREPLY=($(lanchat __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _lanchat lanchat
`

const zshCompletion = `#compdef lanchat
# lanchat completion for zsh: eval "$(lanchat completion zsh)"
_lanchat() {
	local -a c
	c=("${(@f)$(lanchat __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	compadd -a c
}
compdef _lanchat lanchat
`

const fishCompletion = `# lanchat completion for fish: lanchat completion fish | source
complete -c lanchat -f -a '(lanchat __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`

// runCompletion serves "completion SHELL".
func runCompletion(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usagef("usage: lanchat completion bash|zsh|fish")
	}
	switch args[0] {
	case "bash":
		fmt.Fprint(stdout, bashCompletion)
	case "zsh":
		fmt.Fprint(stdout, zshCompletion)
	case "fish":
		fmt.Fprint(stdout, fishCompletion)
	default:
		return usagef("completion: unknown shell %q (bash, zsh or fish)", args[0])
	}
	return nil
}

var reFlag = regexp.MustCompile(`--[a-z][a-z-]*`)

// names is what the daemon knows to complete: friends, and groups as
// #name.
type names func() (users, groups []string)

// daemonNames asks the daemon at home for names, briefly; none if it
// does not answer.
func daemonNames(ctx context.Context, home string) names {
	return func() (users, groups []string) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		c := api.NewClient(socketPath(home))
		defer c.Close()
		if fs, err := c.Friends(ctx); err == nil {
			for _, f := range fs {
				users = append(users, f.Username)
			}
		}
		if gs, err := c.Groups(ctx); err == nil {
			for _, g := range gs.Groups {
				groups = append(groups, g.Name)
			}
		}
		return users, groups
	}
}

// complete returns the candidates for the last of words (the words
// after "lanchat", the last one being typed).
func complete(words []string, known names) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, done := words[len(words)-1], words[:len(words)-1]
	// Global flags before the command.
	for len(done) > 0 && strings.HasPrefix(done[0], "-") {
		if done[0] == "--home" && len(done) > 1 {
			done = done[1:]
		}
		done = done[1:]
	}
	var cands []string
	switch {
	case len(done) == 0:
		if strings.HasPrefix(cur, "-") {
			cands = []string{"--home", "--json", "--help"}
			break
		}
		for _, c := range commands {
			cands = append(cands, strings.Fields(c.name)[0])
		}
		cands = append(cands, "daemon", "completion", "help")
	case done[0] == "completion":
		if len(done) == 1 {
			cands = []string{"bash", "zsh", "fish"}
		}
	case done[0] == "help":
		for _, c := range commands {
			cands = append(cands, strings.Fields(c.name)[0])
		}
	case len(done) == 1 && len(subcommands(done[0])) > 0 && find(done[0]) == nil:
		cands = subcommands(done[0])
	default:
		c := find(done[0])
		if len(done) > 1 && find(done[0]+" "+done[1]) != nil {
			c = find(done[0] + " " + done[1])
		}
		if c == nil {
			return nil
		}
		if strings.HasPrefix(cur, "-") {
			cands = append(reFlag.FindAllString(c.args, -1), "--json", "--help")
			break
		}
		if strings.Contains(c.args, "USER") || strings.Contains(c.args, "TARGET") || strings.Contains(c.args, "NAME") {
			users, groups := known()
			if !strings.Contains(c.args, "NAME") {
				cands = users
			}
			for _, g := range groups {
				if strings.Contains(c.args, "TARGET") {
					cands = append(cands, "#"+g)
				} else if strings.Contains(c.args, "NAME") {
					cands = append(cands, g)
				}
			}
			if strings.Contains(c.args, "NAME USER") && len(done) >= 3 {
				cands = users
			}
		}
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, cur) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// runComplete serves the hidden "__complete WORDS...".
func runComplete(ctx context.Context, home string, args []string, stdout io.Writer) {
	// A --home among the words names the daemon to ask.
	for i, a := range args {
		if a == "--home" && i+1 < len(args)-1 {
			home = args[i+1]
		}
	}
	for _, c := range complete(args, daemonNames(ctx, home)) {
		fmt.Fprintln(stdout, c)
	}
}
