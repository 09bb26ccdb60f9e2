package main

import (
	"fmt"
	"strings"

	"github.com/lanchat/lanchat/peer/api"
)

func cmdGroups(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	gs, err := e.client.Groups(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, gs)
	}
	if len(gs.Groups)+len(gs.Invites) == 0 {
		fmt.Fprintln(e.stdout, "no groups yet; make one with: lanchat group create NAME")
		return nil
	}
	if len(gs.Groups) > 0 {
		t := newTable(e.stdout, "GROUP", "OWNER", "MEMBERS")
		for _, g := range gs.Groups {
			t.row("#"+g.Name, g.Owner, fmt.Sprint(g.Members))
		}
		t.flush()
	}
	if len(gs.Invites) > 0 {
		if len(gs.Groups) > 0 {
			fmt.Fprintln(e.stdout)
		}
		now := e.now()
		t := newTable(e.stdout, "INVITED TO", "BY", "WHEN")
		for _, inv := range gs.Invites {
			t.row("#"+inv.Group.Name, inv.By, ago(inv.At, now))
		}
		t.flush()
		fmt.Fprintln(e.stdout, "join with: lanchat group join NAME")
	}
	return nil
}

// groupArgs says how many arguments after NAME each group action takes.
var groupArgs = map[string]int{
	api.GroupCreate: 0, api.GroupInviteUser: 1, api.GroupJoin: 0, api.GroupLeave: 0,
	api.GroupKick: 1, api.GroupRename: 1, api.GroupDelete: 0,
}

func cmdGroup(e *env, c *command, args []string) error {
	action := strings.TrimPrefix(c.name, "group ")
	n := 1 + groupArgs[action]
	pos, err := e.parse(c, e.flags(c), args, n, n)
	if err != nil {
		return err
	}
	req := api.GroupRequest{Action: action, Name: pos[0]}
	switch action {
	case api.GroupInviteUser, api.GroupKick:
		req.User = pos[1]
	case api.GroupRename:
		req.NewName = pos[1]
	}
	g, err := e.client.Group(e.ctx, req)
	if err != nil {
		return err
	}
	name := "#" + strings.TrimPrefix(pos[0], "#")
	var line string
	switch action {
	case api.GroupCreate:
		line = fmt.Sprintf("created %s; invite people with: lanchat group invite %s USER", name, strings.TrimPrefix(name, "#"))
	case api.GroupInviteUser:
		line = fmt.Sprintf("invited %s to %s", req.User, name)
	case api.GroupJoin:
		line = fmt.Sprintf("joined %s", name)
	case api.GroupLeave:
		line = fmt.Sprintf("left %s", name)
	case api.GroupKick:
		line = fmt.Sprintf("removed %s from %s", req.User, name)
	case api.GroupRename:
		line = fmt.Sprintf("renamed %s to #%s", name, strings.TrimPrefix(req.NewName, "#"))
	case api.GroupDelete:
		line = fmt.Sprintf("deleted %s", name)
	}
	return e.reply(g, "%s", line)
}

func cmdGroupMembers(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	gm, err := e.client.GroupMembers(e.ctx, pos[0])
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, gm)
	}
	fmt.Fprintf(e.stdout, "#%s: %s\n", oneLine(gm.Group.Name), plural(len(gm.Members), "member"))
	now := e.now()
	t := newTable(e.stdout, "USER", "NAME", "ROLE", "STATUS")
	for _, m := range gm.Members {
		role := "member"
		switch {
		case m.Owner:
			role = "owner"
		case m.Admin:
			role = "admin"
		}
		t.row(m.Username, m.DisplayName, role, presence(m.Presence, now))
	}
	t.flush()
	return nil
}
