package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lanchat/lanchat/peer/api"
)

// roomCommands are the room and who-is-online commands; help lists them
// after the group commands.
var roomCommands = []*command{
	{name: "rooms", args: "[QUERY]", summary: "list the server's rooms (those whose name starts with QUERY), with topic, members and how many are online", example: "lanchat rooms", run: cmdRooms},
	{name: "room create", args: "NAME [--topic TEXT]", summary: "create a room anyone may find and join", example: "lanchat room create coffee --topic 'beans and brews'", run: cmdRoom},
	{name: "room join", args: "NAME", summary: "join a room (no invitation needed)", example: "lanchat room join coffee", run: cmdRoom},
	{name: "room leave", args: "NAME", summary: "leave a room (the lobby too: join it again any time)", example: "lanchat room leave lobby", run: cmdRoom},
	{name: "room topic", args: "NAME TEXT...", summary: "set a room's topic (owner and admins; '' clears it)", example: "lanchat room topic coffee espresso only", run: cmdRoom},
	{name: "room admin", args: "NAME USER [--remove]", summary: "make a member an admin of a room you own (--remove: no longer)", example: "lanchat room admin coffee bob", run: cmdRoom},
	{name: "room kick", args: "NAME USER", summary: "remove a member from a room you moderate (they may rejoin)", example: "lanchat room kick coffee mallory", run: cmdRoom},
	{name: "room ban", args: "NAME USER", summary: "remove a user from a room you moderate and keep them out", example: "lanchat room ban coffee mallory", run: cmdRoom},
	{name: "room unban", args: "NAME USER", summary: "let a banned user join again", example: "lanchat room unban coffee mallory", run: cmdRoom},
	{name: "room members", args: "NAME", summary: "list a room's members, online first", example: "lanchat room members coffee", run: cmdGroupMembers},
	{name: "online", args: "[--room NAME] [--all]", summary: "list who is online among your contacts and in your rooms (--all: offline too, with last seen)", example: "lanchat online --room coffee", run: cmdOnline},
}

func init() {
	at := slices.IndexFunc(commands, func(c *command) bool { return c.name == "group members" })
	commands = slices.Insert(commands, at+1, roomCommands...)
}

func cmdRooms(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 0, 1)
	if err != nil {
		return err
	}
	query := ""
	if len(pos) == 1 {
		query = pos[0]
	}
	rs, err := e.client.Rooms(e.ctx, query)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, rs)
	}
	if len(rs.Rooms) == 0 {
		fmt.Fprintln(e.stdout, "no rooms yet; make one with: lanchat room create NAME")
		return nil
	}
	t := newTable(e.stdout, "ROOM", "MEMBERS", "ONLINE", "YOU", "TOPIC")
	for _, r := range rs.Rooms {
		you := ""
		switch {
		case r.Joined:
			you = "member"
		case r.Banned:
			you = "banned"
		}
		name := "#" + r.Name
		if r.Lobby {
			name += " (lobby)"
		}
		t.row(name, fmt.Sprint(r.Members), fmt.Sprint(r.Online), you, r.Topic)
	}
	t.flush()
	if rs.Truncated {
		fmt.Fprintln(e.stdout, "more rooms match; narrow the list with: lanchat rooms QUERY")
	}
	return nil
}

// roomArgs says how many arguments after NAME each room action takes;
// -1: one or more (the topic's words).
var roomArgs = map[string]int{
	api.RoomCreate: 0, api.RoomJoin: 0, api.RoomLeave: 0, api.RoomTopic: -1,
	api.RoomAdmin: 1, api.RoomKick: 1, api.RoomBan: 1, api.RoomUnban: 1,
}

func cmdRoom(e *env, c *command, args []string) error {
	action := strings.TrimPrefix(c.name, "room ")
	fs := e.flags(c)
	var topic *string
	var remove *bool
	switch action {
	case api.RoomCreate:
		topic = fs.String("topic", "", "the room's topic")
	case api.RoomAdmin:
		remove = fs.Bool("remove", false, "take the admin role away instead")
	}
	n := 1 + roomArgs[action]
	max := n
	if roomArgs[action] < 0 {
		n, max = 2, -1
	}
	pos, err := e.parse(c, fs, args, n, max)
	if err != nil {
		return err
	}
	req := api.RoomRequest{Action: action, Name: pos[0]}
	switch action {
	case api.RoomCreate:
		req.Topic = *topic
	case api.RoomTopic:
		req.Topic = strings.Join(pos[1:], " ")
	case api.RoomAdmin:
		req.User = pos[1]
		if *remove {
			req.Action = api.RoomUnadmin
		}
	case api.RoomKick, api.RoomBan, api.RoomUnban:
		req.User = pos[1]
	}
	g, err := e.client.Room(e.ctx, req)
	if err != nil {
		return err
	}
	name := "#" + strings.TrimPrefix(strings.ToLower(pos[0]), "#")
	var line string
	switch req.Action {
	case api.RoomCreate:
		line = fmt.Sprintf("created %s; anyone may join it with: lanchat room join %s", name, name[1:])
	case api.RoomJoin:
		line = fmt.Sprintf("joined %s (%s); earlier messages are not shown to new members", name, plural(g.Members, "member"))
	case api.RoomLeave:
		line = fmt.Sprintf("left %s", name)
	case api.RoomTopic:
		line = fmt.Sprintf("topic of %s: %s", name, req.Topic)
	case api.RoomAdmin:
		line = fmt.Sprintf("%s is now an admin of %s", req.User, name)
	case api.RoomUnadmin:
		line = fmt.Sprintf("%s is no longer an admin of %s", req.User, name)
	case api.RoomKick:
		line = fmt.Sprintf("removed %s from %s", req.User, name)
	case api.RoomBan:
		line = fmt.Sprintf("banned %s from %s", req.User, name)
	case api.RoomUnban:
		line = fmt.Sprintf("%s may join %s again", req.User, name)
	}
	return e.reply(g, "%s", line)
}

func cmdOnline(e *env, c *command, args []string) error {
	fs := e.flags(c)
	room := fs.String("room", "", "only this room's members")
	all := fs.Bool("all", false, "list offline users too, with when they were last seen")
	if _, err := e.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	ol, err := e.client.Online(e.ctx, *room, *all)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, ol)
	}
	if len(ol.Users) == 0 {
		if *room != "" {
			fmt.Fprintf(e.stdout, "nobody else in #%s is online\n", strings.TrimPrefix(*room, "#"))
		} else {
			fmt.Fprintln(e.stdout, "none of your contacts or room members is online")
		}
		return nil
	}
	now := e.now()
	t := newTable(e.stdout, "USER", "NAME", "FRIEND", "STATUS")
	for _, u := range ol.Users {
		friend := ""
		if u.Friend {
			friend = "yes"
		}
		t.row(u.Username, u.DisplayName, friend, presence(u.Presence, now))
	}
	t.flush()
	if ol.Truncated {
		fmt.Fprintln(e.stdout, "more are online than one list shows; narrow it with --room NAME")
	}
	return nil
}
