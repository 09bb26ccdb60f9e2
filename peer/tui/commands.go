package tui

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/lanchat/lanchat/peer/api"
)

// command is one line of input that starts with "/".
type command struct {
	name string // "help", "send-file", …
	arg  string
	text string // for "//text": the message to send, "/text"
}

// commandHelp lists the commands, in the order /help shows them.
var commandHelp = []struct{ name, args, summary string }{
	{"help", "", "show this help"},
	{"send-file", "PATH", "offer a file or folder to this conversation"},
	{"accept", "[ID]", "accept the offered file (or the friend request) here"},
	{"reject", "[ID]", "reject the offered file (or the friend request) here"},
	{"verify", "[confirm]", "show the safety number; confirm marks it compared (and trusts a changed key)"},
	{"quit", "", "leave the chat"},
}

// parseCommand reads a line of input. isCmd is false for a message (its
// text in c.text when it was escaped as //text). An unknown command is an
// error and is never sent.
func parseCommand(line string) (c command, isCmd bool, err error) {
	if !strings.HasPrefix(line, "/") {
		return command{}, false, nil
	}
	if strings.HasPrefix(line, "//") {
		return command{text: line[1:]}, false, nil
	}
	name, arg, _ := strings.Cut(strings.TrimSpace(line[1:]), " ")
	arg = strings.TrimSpace(arg)
	for _, h := range commandHelp {
		if h.name == name {
			if h.args == "" && arg != "" {
				return command{}, true, fmt.Errorf("/%s takes no argument", name)
			}
			if h.args == "PATH" && arg == "" {
				return command{}, true, fmt.Errorf("/%s needs a path: /%s %s", name, name, h.args)
			}
			return command{name: name, arg: arg}, true, nil
		}
	}
	return command{}, true, fmt.Errorf("unknown command /%s (type /help for the list; //text sends a line starting with /)", name)
}

// run executes a command.
func (m *model) run(c command) tea.Cmd {
	switch c.name {
	case "quit":
		return tea.Quit
	case "help":
		var b strings.Builder
		b.WriteString("Commands (never sent as text):")
		for _, h := range commandHelp {
			fmt.Fprintf(&b, "\n  /%-9s %-9s %s", h.name, h.args, h.summary)
		}
		b.WriteString("\n  //text    sends a line starting with /")
		b.WriteString("\nKeys: Enter sends, Alt+Enter new line, Tab completes, PgUp/PgDn scroll, Ctrl+N/Ctrl+P next/previous conversation, Ctrl+C quits")
		m.note(m.open, b.String(), false)
		return nil
	}
	if m.open == "" {
		m.setStatus("no conversation open", true)
		return nil
	}
	target := m.open
	switch c.name {
	case "send-file":
		return m.sendFile(target, c.arg)
	case "accept", "reject":
		return m.answer(target, c.name, c.arg)
	case "verify":
		return m.verify(target, c.arg)
	}
	return nil
}

func (m *model) send(text string) tea.Cmd {
	if m.open == "" {
		m.setStatus("no conversation open: add a friend (lanchat friend add NAME) or join a group", true)
		return nil
	}
	target, ctx, d := m.open, m.ctx, m.d
	return func() tea.Msg {
		res, err := d.Send(ctx, api.SendRequest{Target: target, Text: text})
		if err != nil {
			return noteMsg{target: target, text: "not sent: " + errText(err), warn: true}
		}
		return sentMsg{target: target, text: text, res: res}
	}
}

func (m *model) sendFile(target, path string) tea.Cmd {
	abs, err := filepath.Abs(expandHome(path))
	if err != nil {
		m.setStatus(err.Error(), true)
		return nil
	}
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		res, err := d.SendFile(ctx, api.SendFileRequest{Target: target, Paths: []string{abs}})
		if err != nil {
			return noteMsg{target: target, text: "file not offered: " + errText(err), warn: true}
		}
		for _, s := range res.Skipped {
			return noteMsg{target: target, text: fmt.Sprintf("skipped %s: %s", s.Path, s.Reason), warn: true}
		}
		return transfersMsg{ts: res.Transfers}
	}
}

// answer accepts or rejects the newest file offered in target (or the
// one whose id starts with id), else target's friend request.
func (m *model) answer(target, action, id string) tea.Cmd {
	var pick *api.Transfer
	for _, t := range m.transfers {
		if t.Direction != api.DirectionReceive || t.State != api.TransferOffered || convOf(t) != target {
			continue
		}
		if id != "" && !strings.HasPrefix(t.ID, id) {
			continue
		}
		if pick == nil || t.Created.After(pick.Created) {
			pick = &t
		}
	}
	ctx, d := m.ctx, m.d
	if pick != nil {
		tid := pick.ID
		return func() tea.Msg {
			t, err := d.TransferAction(ctx, tid, action, api.AcceptRequest{})
			if err != nil {
				return noteMsg{target: target, text: action + ": " + errText(err), warn: true}
			}
			return transfersMsg{ts: []api.Transfer{t}}
		}
	}
	if id == "" && m.requests[target] {
		return func() tea.Msg {
			if _, err := d.Friend(ctx, action, target); err != nil {
				return noteMsg{target: target, text: action + ": " + errText(err), warn: true}
			}
			return noteMsg{target: target, text: fmt.Sprintf("friend request from %s: %sed", target, action)}
		}
	}
	m.setStatus("nothing to "+action+" in this conversation", true)
	return nil
}

func (m *model) verify(target, arg string) tea.Cmd {
	if strings.HasPrefix(target, "#") {
		m.setStatus("/verify is for a person, not a group", true)
		return nil
	}
	if arg != "" && arg != "confirm" {
		m.setStatus("/verify takes nothing or confirm", true)
		return nil
	}
	ctx, d := m.ctx, m.d
	return func() tea.Msg {
		v, err := d.Verify(ctx, target)
		if err != nil {
			return noteMsg{target: target, text: "verify: " + errText(err), warn: true}
		}
		if arg == "" {
			state := "not verified yet: compare it with " + target + " in person, then /verify confirm"
			if v.Verified {
				state = "verified"
			}
			if v.KeyChanged {
				state = target + "'s key CHANGED: compare the new number in person, then /verify confirm to trust it"
			}
			return noteMsg{target: target, text: fmt.Sprintf("Safety number with %s:\n  %s\n%s", target, v.SafetyNumber, state), warn: v.KeyChanged}
		}
		req := api.KeyRequest{Fingerprint: v.Fingerprint}
		if v.KeyChanged {
			if _, err := d.Trust(ctx, target, req); err != nil {
				return noteMsg{target: target, text: "trust: " + errText(err), warn: true}
			}
			return noteMsg{target: target, text: target + "'s new key is trusted; held messages go out"}
		}
		if _, err := d.Confirm(ctx, target, req); err != nil {
			return noteMsg{target: target, text: "confirm: " + errText(err), warn: true}
		}
		return noteMsg{target: target, text: target + " is verified"}
	}
}

// complete completes the command or the path being typed.
func (m *model) complete() {
	v := m.input.Value()
	if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.Contains(v, "\n") {
		return
	}
	if rest, ok := strings.CutPrefix(v, "/send-file "); ok {
		if c := completePath(rest); c != rest {
			m.input.SetValue("/send-file " + c)
		}
		return
	}
	if strings.Contains(v, " ") {
		return
	}
	var matches []string
	for _, h := range commandHelp {
		if strings.HasPrefix(h.name, v[1:]) {
			matches = append(matches, h.name)
		}
	}
	switch len(matches) {
	case 0:
		m.setStatus("no command starts with "+v, true)
	case 1:
		m.input.SetValue("/" + matches[0] + " ")
	default:
		m.input.SetValue("/" + commonPrefix(matches))
		m.setStatus("/"+strings.Join(matches, "  /"), false)
	}
}

// completePath extends p to the longest prefix shared by the paths it
// begins.
func completePath(p string) string {
	matches, err := filepath.Glob(expandHome(p) + "*")
	if err != nil || len(matches) == 0 {
		return p
	}
	sort.Strings(matches)
	c := commonPrefix(matches)
	if len(matches) == 1 {
		if fi, err := filepathStat(c); err == nil && fi.IsDir() {
			c += string(filepath.Separator)
		}
	}
	if strings.HasPrefix(p, "~") {
		if home := homeDir(); home != "" && strings.HasPrefix(c, home) {
			c = "~" + c[len(home):]
		}
	}
	if len(c) < len(p) {
		return p
	}
	return c
}

func commonPrefix(ss []string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// errText is what the user sees of err: the daemon's message for an API
// error.
func errText(err error) string {
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		return apiErr.Message
	}
	return err.Error()
}

// convOf is the conversation a transfer belongs to.
func convOf(t api.Transfer) string {
	if t.Group != "" {
		return t.Group
	}
	return t.Peer
}
