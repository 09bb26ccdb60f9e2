package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// errStreamEnded is why watch and chat stop when the daemon ends the
// event stream.
var errStreamEnded = errors.New("the daemon ended the event stream (it stopped, or this client fell too far behind)")

func cmdWatch(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	st, err := e.client.Events(e.ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if !e.json {
		fmt.Fprintln(e.stderr, "watching events; Ctrl-C to stop")
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	// lastPresence keeps each contact's last status shown, so that a
	// repeat of it is not printed again.
	lastPresence := map[string]string{}
	for {
		ev, err := st.Next()
		switch {
		case e.ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			return errStreamEnded
		case err != nil:
			return fmt.Errorf("event stream: %w", err)
		}
		if e.json {
			if err := enc.Encode(ev); err != nil {
				return fmt.Errorf("write event: %w", err)
			}
			continue
		}
		if p := ev.Presence; ev.Type == api.EventPresence && p != nil {
			if lastPresence[p.User] == p.Presence.Status {
				continue
			}
			lastPresence[p.User] = p.Presence.Status
		}
		line := describeEvent(ev, e.now())
		if line == "" {
			continue
		}
		fmt.Fprintf(e.stdout, "%s  %s\n", ev.At.Local().Format(time.TimeOnly), line)
	}
}

// describeEvent renders an event as one readable line (longer for a
// multi-line message), or "" for one not worth a line (a message merely
// sent; --json shows every event).
func describeEvent(ev api.Event, now time.Time) string {
	switch ev.Type {
	case api.EventMessage:
		if m := ev.Message; m != nil {
			from, to := oneLine(m.From), "you"
			switch {
			case m.Outgoing:
				from, to = "you", oneLine(m.Conversation)
			case strings.HasPrefix(m.Conversation, "#"):
				to = oneLine(m.Conversation)
			}
			head := from + " → " + to + ": "
			return head + indentLines(m.Text, len([]rune(head))+10)
		}
	case api.EventMessageState:
		if m := ev.Message; m != nil {
			if m.State != "delivered" {
				return ""
			}
			s := fmt.Sprintf("%s received your message", oneLine(m.Conversation))
			if t := oneLine(m.Text); t != "" {
				s += fmt.Sprintf(" %q", truncate(t, 40))
			}
			return s
		}
	case api.EventPresence:
		if p := ev.Presence; p != nil {
			return fmt.Sprintf("%s is %s", oneLine(p.User), presence(p.Presence, now))
		}
	case api.EventTyping:
		if ev.From != "" {
			return oneLine(ev.From) + " is typing…"
		}
	case api.EventFriendRequest:
		if f := ev.Friend; f != nil {
			return fmt.Sprintf("friend request from %s%s; accept with: lanchat friend accept %s", oneLine(f.User), displayName(f.DisplayName), oneLine(f.User))
		}
	case api.EventFriendAccepted:
		if f := ev.Friend; f != nil {
			return fmt.Sprintf("%s accepted: you are now friends", oneLine(f.User))
		}
	case api.EventFriendRemoved:
		if f := ev.Friend; f != nil {
			return fmt.Sprintf("%s is no longer your friend", oneLine(f.User))
		}
	case api.EventGroup:
		if g := ev.Group; g != nil {
			s := fmt.Sprintf("group #%s: %s", oneLine(g.Group.Name), oneLine(g.Change))
			if g.User != "" {
				s += " " + oneLine(g.User)
			}
			if g.By != "" {
				s += " by " + oneLine(g.By)
			}
			if g.OldName != "" {
				s += " (was #" + oneLine(g.OldName) + ")"
			}
			return s
		}
	case api.EventKeyChanged:
		if k := ev.KeyChange; k != nil {
			u := oneLine(k.User)
			if k.Restored {
				return fmt.Sprintf("%s's identity key is the one you trusted again (fingerprint %s); messages with %s flow again", u, oneLine(k.Fingerprint), u)
			}
			return fmt.Sprintf("WARNING: %s's identity key changed (new fingerprint %s); messages with %s are held. Compare safety numbers (lanchat verify %s), then run: lanchat trust %s", u, oneLine(k.Fingerprint), u, u, u)
		}
	case api.EventKeyShared:
		if k := ev.KeyChange; k != nil {
			users := oneLine(strings.Join(append([]string{k.User}, k.SameKey...), ", "))
			return fmt.Sprintf("WARNING: one identity key (fingerprint %s) is pinned for %s: a key belongs to one account, so none of them is admitted. Ask your server's admin.", oneLine(k.Fingerprint), users)
		}
	case api.EventServer:
		if cn := ev.Connection; cn != nil {
			if cn.Up {
				return "server link up" + at(cn.Addr)
			}
			return "server link down; messages to offline contacts wait in the outbox"
		}
	case api.EventPeer:
		if cn := ev.Connection; cn != nil {
			if cn.Up {
				return fmt.Sprintf("direct connection to %s opened%s", oneLine(cn.Peer), at(cn.Addr))
			}
			return fmt.Sprintf("direct connection to %s closed", oneLine(cn.Peer))
		}
	case api.EventLAN:
		if cn := ev.Connection; cn != nil {
			if cn.Up {
				return fmt.Sprintf("%s seen on the LAN%s", oneLine(cn.Peer), at(cn.Addr))
			}
			return fmt.Sprintf("%s left the LAN", oneLine(cn.Peer))
		}
	case api.EventTransfer:
		if tr := ev.Transfer; tr != nil {
			return transferLine(*tr, now)
		}
	case api.EventSignedOut:
		return "signed out: " + oneLine(ev.Text) + "; log in again with: lanchat login USER"
	}
	// An event this version does not know, or without its detail: show
	// it raw.
	b, _ := json.Marshal(ev)
	return fmt.Sprintf("%s %s", oneLine(ev.Type), oneLine(string(b)))
}

func displayName(name string) string {
	if name == "" {
		return ""
	}
	return " (" + oneLine(name) + ")"
}

func at(addr string) string {
	if addr == "" {
		return ""
	}
	return " (" + oneLine(addr) + ")"
}
