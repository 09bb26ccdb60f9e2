package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lanchat/lanchat/peer/api"
)

// shareCommands are the shared file library's, placed after the rooms'.
var shareCommands = []*command{
	{name: "share add", args: "#GROUP PATH...", summary: "share files and folders in a group's or room's library (served from where they are, never copied)", example: "lanchat share add '#team' report.pdf photos/", run: cmdShareAdd},
	{name: "share ls", args: "#GROUP", summary: "list a library: name, size, who shared it and when, how many hold a copy, whether it is available now", example: "lanchat share ls '#team'", run: cmdShareLs},
	{name: "share get", args: "#GROUP ID [--to DIR]", summary: "download a library file from the members holding it, checked against its hash", example: "lanchat share get '#team' 3fa1 --to ~/inbox", run: cmdShareGet},
	{name: "share rm", args: "#GROUP ID", summary: "withdraw a file from a library (its sharer, the group's owner, or a room's admin)", example: "lanchat share rm '#team' 3fa1", run: cmdShareRm},
	{name: "share keep", args: "on|off", summary: "keep the library files you fetched available to the other members (default on)", example: "lanchat share keep off", run: cmdShareKeep},
}

func init() {
	at := slices.IndexFunc(commands, func(c *command) bool { return c.name == "online" })
	commands = slices.Insert(commands, at+1, shareCommands...)
}

func cmdShareAdd(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 2, -1)
	if err != nil {
		return err
	}
	l, err := e.client.ShareAdd(e.ctx, api.ShareAddRequest{Target: pos[0], Paths: pos[1:]})
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, l)
	}
	for _, s := range l.Shares {
		fmt.Fprintf(e.stdout, "shared %s (%s) in %s as %s\n", clean(s.Path), bytesText(s.Size), l.Target, s.ID)
	}
	return nil
}

func cmdShareLs(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	l, err := e.client.Shares(e.ctx, pos[0])
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, l)
	}
	if len(l.Shares) == 0 {
		fmt.Fprintf(e.stdout, "the library of %s is empty; share a file with: lanchat share add '%s' PATH\n", l.Target, l.Target)
		return nil
	}
	now := e.now()
	t := newTable(e.stdout, "ID", "NAME", "SIZE", "SHARED BY", "WHEN", "COPIES", "AVAILABLE")
	for _, s := range l.Shares {
		avail := "no"
		switch {
		case s.Held:
			avail = "yes (here)"
		case s.Available:
			avail = fmt.Sprintf("yes (%d online)", s.Online)
		}
		if len(s.Refused) > 0 {
			avail += "; not from " + strings.Join(s.Refused, ", ")
		}
		t.row(s.ID[:8], s.Path, bytesText(s.Size), s.Sharer, ago(s.Shared, now), fmt.Sprint(s.Holders), avail)
	}
	t.flush()
	return nil
}

// resolveShareID expands a prefix of a library item's id, as shown by
// share ls, to the whole id.
func (e *env) resolveShareID(target, prefix string) (string, error) {
	if len(prefix) == 32 {
		return prefix, nil
	}
	l, err := e.client.Shares(e.ctx, target)
	if err != nil {
		return "", err
	}
	var found []string
	for _, s := range l.Shares {
		if strings.HasPrefix(s.ID, strings.ToLower(prefix)) {
			found = append(found, s.ID)
		}
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		return "", api.Errorf(api.CodeNotFound, "no file %q in the library of %s", prefix, l.Target)
	case 1:
		return found[0], nil
	}
	return "", api.Errorf(api.CodeInvalid, "%q names %d files; give more of the id", prefix, len(found))
}

func cmdShareGet(e *env, c *command, args []string) error {
	fs := e.flags(c)
	to := fs.String("to", "", "the folder to download into (default: your downloads folder)")
	pos, err := e.parse(c, fs, args, 2, 2)
	if err != nil {
		return err
	}
	id, err := e.resolveShareID(pos[0], pos[1])
	if err != nil {
		return err
	}
	r, err := e.client.ShareGet(e.ctx, api.ShareGetRequest{Target: pos[0], ID: id, Dir: *to})
	if err != nil {
		return err
	}
	var from []string
	for u, n := range r.From {
		from = append(from, fmt.Sprintf("%s %s", u, bytesText(n)))
	}
	sort.Strings(from)
	return e.reply(r, "got %s (%s, hash checked) from %s", clean(r.Path), bytesText(r.Size), orDash(strings.Join(from, ", ")))
}

func cmdShareRm(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 2, 2)
	if err != nil {
		return err
	}
	id, err := e.resolveShareID(pos[0], pos[1])
	if err != nil {
		return err
	}
	if err := e.client.ShareRemove(e.ctx, pos[0], id); err != nil {
		return err
	}
	return e.reply(map[string]string{"id": id, "removed": "true"}, "withdrew %s from %s", id, pos[0])
}

func cmdShareKeep(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	var on bool
	switch pos[0] {
	case "on":
		on = true
	case "off":
	default:
		return usageError(c, "say on or off, not %q", pos[0])
	}
	if err := e.client.ShareKeep(e.ctx, on); err != nil {
		return err
	}
	return e.reply(api.ShareKeepRequest{On: on}, "files you fetch are kept available to others: %s", pos[0])
}
