package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// usageErr is a bad command line (exit status 2).
type usageErr struct{ msg string }

func (u *usageErr) Error() string { return u.msg }

// usagef makes a usageErr.
func usagef(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

// errHelpShown means a command printed its help as asked (exit status 0).
var errHelpShown = errors.New("help shown")

// usageError makes an error for a bad command line, pointing at help.
func usageError(c *command, format string, args ...any) error {
	return usagef("%s\nrun 'lanchat help %s' for usage", fmt.Sprintf(format, args...), c.name)
}

// timeNow is the clock; tests replace env.now.
var timeNow = time.Now

// env is what a command runs with.
type env struct {
	ctx    context.Context
	home   string
	json   bool
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	client *api.Client
	now    func() time.Time
	getenv func(string) string
}

// command is one subcommand.
type command struct {
	name    string // "send", "friend add"
	args    string // what follows the name in usage, flags included
	summary string
	example string
	// noInterspersed makes every argument after the first positional
	// one positional too (send's text may look like a flag).
	noInterspersed bool
	run            func(e *env, c *command, args []string) error
}

// commands lists every subcommand but daemon, in the order help shows
// them.
var commands []*command

func init() {
	commands = []*command{
		{name: "register", args: "USER [--display-name N] [--email E] [--phone P] [--password-stdin] [--yes]", summary: "create an account on the server and log in", example: "lanchat register alice --display-name 'Alice Liddell'", run: cmdRegister},
		{name: "login", args: "USER [--password-stdin] [--yes]", summary: "log in to an existing account", example: "lanchat login alice", run: cmdLogin},
		{name: "logout", summary: "end the session on this machine", example: "lanchat logout", run: cmdLogout},
		{name: "passwd", args: "[--password-stdin]", summary: "change the password (with --password-stdin: old and new on two lines)", example: "printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | lanchat passwd --password-stdin", run: cmdPasswd},
		{name: "profile show", summary: "show your own profile", example: "lanchat profile show", run: cmdProfileShow},
		{name: "profile set", args: "[--display-name N] [--email E] [--phone P] [--avatar FILE | --no-avatar]", summary: "change profile fields (an empty value clears one)", example: "lanchat profile set --display-name 'Alice L.' --avatar ~/photo.jpg", run: cmdProfileSet},
		{name: "status", summary: "show the daemon, the login, the server link and direct peers", example: "lanchat status", run: cmdStatus},

		{name: "users search", args: "QUERY [--limit N]", summary: "search the server's user directory", example: "lanchat users search bob", run: cmdUsersSearch},
		{name: "friends", summary: "list friends with presence", example: "lanchat friends", run: cmdFriends},
		{name: "friend add", args: "USER", summary: "send a friend request", example: "lanchat friend add bob", run: cmdFriend},
		{name: "friend accept", args: "USER", summary: "accept a friend request", example: "lanchat friend accept bob", run: cmdFriend},
		{name: "friend reject", args: "USER", summary: "reject a friend request", example: "lanchat friend reject mallory", run: cmdFriend},
		{name: "friend remove", args: "USER", summary: "remove a friend", example: "lanchat friend remove bob", run: cmdFriend},
		{name: "friend requests", summary: "list pending friend requests both ways", example: "lanchat friend requests", run: cmdFriendRequests},

		{name: "send", args: "TARGET [--reply-to ID] TEXT... | TARGET -", summary: "send a message to a user or a #group (- reads the text from stdin, up to 64 KiB); --reply-to quotes the message answered; other flags go before TARGET", example: "lanchat send '#team' lunch at noon?", noInterspersed: true, run: cmdSend},
		{name: "chat", args: "[TARGET]", summary: "the full-screen terminal chat (without a terminal: shows the last messages, then sends each line read until /quit or EOF)", example: "lanchat chat bob", run: cmdChat},
		{name: "history", args: "TARGET [--limit N] [--search TEXT] [--ids]", summary: "show a conversation's messages, oldest first", example: "lanchat history '#team' --limit 50", run: cmdHistory},
		{name: "search", args: "TEXT... [--limit N]", summary: "search every conversation, newest first", example: "lanchat search budget report", run: cmdSearch},
		{name: "recent", summary: "list conversations by last activity", example: "lanchat recent", run: cmdRecent},
		{name: "watch", summary: "print events (messages, presence, requests...) until interrupted; one JSON object per line with --json", example: "lanchat --json watch", run: cmdWatch},

		{name: "groups", summary: "list your groups and invitations", example: "lanchat groups", run: cmdGroups},
		{name: "group create", args: "NAME", summary: "create a group", example: "lanchat group create team", run: cmdGroup},
		{name: "group invite", args: "NAME USER", summary: "invite a user to a group you are a member of", example: "lanchat group invite team bob", run: cmdGroup},
		{name: "group join", args: "NAME", summary: "accept an invitation to a group", example: "lanchat group join team", run: cmdGroup},
		{name: "group leave", args: "NAME", summary: "leave a group", example: "lanchat group leave team", run: cmdGroup},
		{name: "group kick", args: "NAME USER", summary: "remove a member from a group you own", example: "lanchat group kick team mallory", run: cmdGroup},
		{name: "group rename", args: "NAME NEWNAME", summary: "rename a group you own", example: "lanchat group rename team crew", run: cmdGroup},
		{name: "group delete", args: "NAME", summary: "delete a group you own", example: "lanchat group delete team", run: cmdGroup},
		{name: "group members", args: "NAME", summary: "list a group's members", example: "lanchat group members team", run: cmdGroupMembers},

		{name: "verify", args: "USER [--confirm [--safety-number N]]", summary: "show the safety number and key fingerprint shared with USER; --confirm marks them verified, for the key whose number you compared", example: "lanchat verify bob --confirm", run: cmdVerify},
		{name: "trust", args: "USER [--safety-number N]", summary: "accept USER's changed identity key: the key whose number you compared, never one that changed since", example: "lanchat trust bob", run: cmdTrust},

		{name: "send-file", args: "TARGET PATH... [--no-wait]", summary: "send files and folders to a user or a #group, directly; shows progress until done (--no-wait returns at once)", example: "lanchat send-file bob ~/reports/q3.pdf ~/photos", run: cmdSendFile},
		{name: "transfers", summary: "list file transfers both ways with state, progress and rate", example: "lanchat transfers", run: cmdTransfers},
		{name: "accept", args: "ID [--to DIR]", summary: "accept a file offer (into the downloads folder, or DIR)", example: "lanchat accept 3f9ac2 --to ~/incoming", run: cmdTransferAction},
		{name: "reject", args: "ID", summary: "decline a file offer", example: "lanchat reject 3f9ac2", run: cmdTransferAction},
		{name: "cancel", args: "ID", summary: "cancel a transfer, sent or received; partial files are removed", example: "lanchat cancel 3f9ac2", run: cmdTransferAction},

		{name: "peers", summary: "list the lanchat peers seen on the LAN: contacts by name, others as a count", example: "lanchat peers", run: cmdPeers},
		{name: "doctor", summary: "check the server, the UDP port, multicast and the direct path to each online contact, with a fix for each failure", example: "lanchat doctor", run: cmdDoctor},

		{name: "backup create", args: "FILE [--passphrase-file F]", summary: "write your identity key, history and settings into FILE, encrypted with a passphrase (the daemon may run)", example: "lanchat backup create /media/usb/alice.lanchat-backup", run: cmdBackupCreate},
		{name: "backup restore", args: "FILE [--passphrase-file F]", summary: "restore a backup into this machine's data directory, empty and with its daemon stopped; then log in", example: "lanchat backup restore /media/usb/alice.lanchat-backup", run: cmdBackupRestore},

		{name: "service install", args: "[--systemd|--autostart] [--] [DAEMON FLAGS...]", summary: "start the daemon for this data directory with your session, with the daemon flags given: a systemd user unit (else an XDG autostart entry) on Linux, a launchd agent on macOS, the Run key on Windows", example: "lanchat service install --server 10.0.0.5:7443 --server-fingerprint 3f9a...c2", noInterspersed: true, run: cmdServiceInstall},
		{name: "service uninstall", summary: "stop starting the daemon with your session, and remove what service install wrote", example: "lanchat service uninstall", run: cmdServiceUninstall},
		{name: "service status", summary: "show whether the daemon starts with your session, and whether it runs", example: "lanchat service status", run: cmdServiceStatus},

		{name: "version", summary: "print the version and commit this binary was built from", example: "lanchat version", run: cmdVersion},
		{name: "help", args: "[COMMAND]", summary: "show help for lanchat or a command", example: "lanchat help send", run: cmdHelp},
	}
}

// reserved are commands that later versions add.
var reserved = map[string]bool{}

// lookup finds the command args name and returns it with its arguments.
func lookup(args []string) (*command, []string, error) {
	name := args[0]
	if reserved[name] {
		return nil, nil, fmt.Errorf("%s is not available yet", name)
	}
	if len(args) > 1 {
		if c := find(name + " " + args[1]); c != nil {
			return c, args[2:], nil
		}
	}
	if c := find(name); c != nil {
		return c, args[1:], nil
	}
	if subs := subcommands(name); len(subs) > 0 {
		if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			return nil, nil, usagef("unknown command %q; %s takes %s", name+" "+args[1], name, strings.Join(subs, ", "))
		}
		if len(args) > 1 && isHelpFlag(args[1]) {
			return &command{name: name, run: func(e *env, _ *command, _ []string) error {
				fmt.Fprint(e.stdout, groupUsage(name))
				return errHelpShown
			}}, nil, nil
		}
		return nil, nil, usagef("%s needs one of: %s\nrun 'lanchat help %s' for usage", name, strings.Join(subs, ", "), name)
	}
	return nil, nil, usagef("unknown command %q\nrun 'lanchat help' for the list", name)
}

func find(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// subcommands lists the second words of commands starting with name.
func subcommands(name string) []string {
	var subs []string
	for _, c := range commands {
		if rest, ok := strings.CutPrefix(c.name, name+" "); ok {
			subs = append(subs, rest)
		}
	}
	return subs
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "-help" || s == "--help"
}

// flags makes the flag set of c, with --json.
func (e *env) flags(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&e.json, "json", e.json, "print the reply as JSON")
	return fs
}

// parse parses args with fs and checks that there are between min and max
// positional arguments (max < 0: no limit). Unless c says otherwise,
// flags may come after positional arguments too; "--" ends the flags.
// For -h or --help it prints c's help and returns errHelpShown.
func (e *env) parse(c *command, fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(e.stdout, commandUsage(c, fs))
				return nil, errHelpShown
			}
			return nil, usageError(c, "%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		consumed := len(args) - len(rest)
		if c.noInterspersed || (consumed > 0 && args[consumed-1] == "--") {
			pos = append(pos, rest...)
			break
		}
		// fs stopped at a positional argument: keep it, parse on.
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < min:
		return nil, usageError(c, "missing arguments; usage: lanchat %s %s", c.name, c.args)
	case max >= 0 && len(pos) > max:
		return nil, usageError(c, "too many arguments (%s); usage: lanchat %s %s", strings.Join(pos, " "), c.name, c.args)
	}
	return pos, nil
}
