package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

func cmdUsersSearch(e *env, c *command, args []string) error {
	fs := e.flags(c)
	limit := fs.Int("limit", 0, "most users to show (0: the daemon's default)")
	pos, err := e.parse(c, fs, args, 1, -1)
	if err != nil {
		return err
	}
	query := strings.Join(pos, " ")
	users, err := e.client.SearchUsers(e.ctx, query, *limit)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, users)
	}
	if len(users) == 0 {
		fmt.Fprintf(e.stdout, "no users match %q\n", query)
		return nil
	}
	t := newTable(e.stdout, "USER", "NAME")
	for _, u := range users {
		t.row(u.Username, u.DisplayName)
	}
	t.flush()
	return nil
}

func cmdFriends(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	friends, err := e.client.Friends(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, friends)
	}
	if len(friends) == 0 {
		fmt.Fprintln(e.stdout, "no friends yet; send a request with: lanchat friend add USER")
		return nil
	}
	now := e.now()
	t := newTable(e.stdout, "USER", "NAME", "STATUS", "DIRECT", "KEY")
	var held []string
	var shared []api.Friend
	for _, f := range friends {
		direct := "no"
		if f.Direct {
			direct = "yes"
		}
		key := "unverified"
		switch {
		case len(f.SameKey) > 0:
			key = "SHARED"
			shared = append(shared, f)
		case f.Held:
			key = "CHANGED"
			held = append(held, f.Username)
		case f.Verified:
			key = "verified"
		}
		t.row(f.Username, f.DisplayName, presence(f.Presence, now), direct, key)
	}
	t.flush()
	for _, u := range held {
		fmt.Fprintf(e.stdout, "%s's identity key changed: messages are held. Compare safety numbers (lanchat verify %s), then run: lanchat trust %s\n", u, u, u)
	}
	for _, f := range shared {
		fmt.Fprintf(e.stdout, "WARNING: %s's identity key is also pinned for %s: a key belongs to one account, so none of them is admitted. Ask your server's admin.\n", oneLine(f.Username), oneLine(strings.Join(f.SameKey, ", ")))
	}
	return nil
}

// presence shows a status with how long ago an offline user was seen.
func presence(p api.Presence, now time.Time) string {
	s := p.Status
	if s == "" {
		s = api.Offline
	}
	if s != api.Online && !p.LastSeen.IsZero() {
		s += ", last seen " + ago(p.LastSeen, now)
	}
	return s
}

func cmdFriend(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	action := strings.TrimPrefix(c.name, "friend ")
	user := pos[0]
	res, err := e.client.Friend(e.ctx, action, user)
	if err != nil {
		return err
	}
	var line string
	switch {
	case action == api.FriendAdd && res.Status == "accepted":
		line = fmt.Sprintf("%s had asked you too: you are now friends", user)
	case action == api.FriendAdd:
		line = fmt.Sprintf("friend request sent to %s", user)
	case action == api.FriendAccept:
		line = fmt.Sprintf("you and %s are now friends", user)
	case action == api.FriendReject:
		line = fmt.Sprintf("rejected %s's friend request", user)
	case action == api.FriendRemove:
		line = fmt.Sprintf("removed %s from your friends", user)
	}
	return e.reply(res, "%s", line)
}

func cmdFriendRequests(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	reqs, err := e.client.FriendRequests(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, reqs)
	}
	if len(reqs.Incoming)+len(reqs.Outgoing) == 0 {
		fmt.Fprintln(e.stdout, "no pending friend requests")
		return nil
	}
	now := e.now()
	t := newTable(e.stdout, "DIRECTION", "USER", "NAME", "SENT")
	for _, r := range reqs.Incoming {
		t.row("from", r.User, r.DisplayName, ago(r.At, now))
	}
	for _, r := range reqs.Outgoing {
		t.row("to", r.User, r.DisplayName, ago(r.At, now))
	}
	t.flush()
	if len(reqs.Incoming) > 0 {
		fmt.Fprintln(e.stdout, "accept with: lanchat friend accept USER (or reject)")
	}
	return nil
}
