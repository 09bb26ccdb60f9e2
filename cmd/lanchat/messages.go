package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lanchat/lanchat/peer/api"
)

func cmdSend(e *env, c *command, args []string) error {
	fs := e.flags(c)
	replyTo := fs.String("reply-to", "", "the id of the message this one answers")
	pos, err := e.parse(c, fs, args, 2, -1)
	if err != nil {
		return err
	}
	target := pos[0]
	// The text may look like a flag, so flags stop at TARGET; --reply-to
	// may also follow it: lanchat send bob --reply-to ID TEXT.
	if len(pos) >= 4 && (pos[1] == "--reply-to" || pos[1] == "-reply-to") && *replyTo == "" {
		*replyTo = pos[2]
		pos = append([]string{target}, pos[3:]...)
	}
	var text string
	if len(pos) == 2 && pos[1] == "-" {
		if text, err = readText(e.stdin); err != nil {
			return err
		}
	} else {
		text = strings.Join(pos[1:], " ")
	}
	if strings.TrimSpace(text) == "" {
		return usageError(c, "the message is empty")
	}
	res, err := e.client.Send(e.ctx, api.SendRequest{Target: target, Text: text, ReplyTo: *replyTo})
	if err != nil {
		return err
	}
	return e.reply(res, "%s", sendLine(target, res))
}

// readText reads a message from r: at most api.MaxText bytes of UTF-8,
// without trailing newlines.
func readText(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, api.MaxText+1))
	if err != nil {
		return "", fmt.Errorf("read the message from stdin: %w", err)
	}
	if len(b) > api.MaxText {
		return "", fmt.Errorf("the message on stdin is over %d KiB", api.MaxText>>10)
	}
	text := strings.TrimRight(string(b), "\r\n")
	if !utf8.ValidString(text) {
		// JSON would silently replace the bad bytes.
		return "", errors.New("the message on stdin is not valid UTF-8")
	}
	return text, nil
}

// sendLine says how a sent message left.
func sendLine(target string, res api.SendResult) string {
	switch res.Via {
	case api.ViaDirect:
		return fmt.Sprintf("sent to %s (direct)", target)
	case api.ViaRelay:
		return fmt.Sprintf("sent to %s (relayed)", target)
	case api.ViaHeld:
		return fmt.Sprintf("held: %s's identity key changed; the message waits until you compare numbers (lanchat verify %s) and accept it (lanchat trust %s)", target, target, target)
	case api.ViaQueued:
		if strings.HasPrefix(target, "#") {
			return fmt.Sprintf("queued: no member of %s is reachable now and the server is unreachable; it goes out when a path opens", target)
		}
		return fmt.Sprintf("queued: %s is offline and the server unreachable; it goes out when a path opens", target)
	case api.ViaPartial:
		var parts []string
		for _, u := range slices.Sorted(maps.Keys(res.Copies)) {
			parts = append(parts, u+" "+viaWord(res.Copies[u]))
		}
		return fmt.Sprintf("sent to %s: %s", target, strings.Join(parts, ", "))
	default:
		return fmt.Sprintf("sent to %s (%s)", target, res.Via)
	}
}

func viaWord(via string) string {
	if via == api.ViaRelay {
		return "relayed"
	}
	return via
}

func cmdHistory(e *env, c *command, args []string) error {
	fs := e.flags(c)
	limit := fs.Int("limit", 0, "most messages to show (0: the daemon's default)")
	search := fs.String("search", "", "show only messages matching this full-text search")
	ids := fs.Bool("ids", false, "start each line with the message's id (for react, edit, recall, --reply-to)")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	msgs, err := e.client.History(e.ctx, pos[0], *limit, *search, "")
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, msgs)
	}
	if len(msgs) == 0 {
		if *search != "" {
			fmt.Fprintf(e.stdout, "no messages with %s match %q\n", pos[0], *search)
		} else {
			fmt.Fprintf(e.stdout, "no messages with %s yet\n", pos[0])
		}
		return nil
	}
	now := e.now()
	for _, m := range msgs {
		if *ids {
			fmt.Fprint(e.stdout, idPrefix(m))
		}
		fmt.Fprintln(e.stdout, messageLine(m, now, false))
	}
	return nil
}

func cmdSearch(e *env, c *command, args []string) error {
	fs := e.flags(c)
	limit := fs.Int("limit", 0, "most messages to show (0: the daemon's default)")
	pos, err := e.parse(c, fs, args, 1, -1)
	if err != nil {
		return err
	}
	text := strings.Join(pos, " ")
	msgs, err := e.client.Search(e.ctx, text, *limit)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, msgs)
	}
	if len(msgs) == 0 {
		fmt.Fprintf(e.stdout, "no messages match %q\n", text)
		return nil
	}
	now := e.now()
	for _, m := range msgs {
		fmt.Fprintln(e.stdout, messageLine(m, now, true))
	}
	return nil
}

// messageLine renders a message as "[time] from: text", with its
// conversation when withConversation, and continuation lines indented.
func messageLine(m api.Message, now time.Time, withConversation bool) string {
	head := "[" + stamp(m.Sent, now) + "] "
	if withConversation {
		head += "(" + oneLine(m.Conversation) + ") "
	}
	head += oneLine(m.From) + ": "
	before, after := richNotes(m) // rich.go
	head += before
	line := head + indentLines(shownText(m), utf8.RuneCountInString(head)) + after
	if m.Outgoing {
		line += "  " + stateNote(m)
	}
	return line
}

func cmdRecent(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	convs, err := e.client.Recent(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, convs)
	}
	if len(convs) == 0 {
		fmt.Fprintln(e.stdout, "no conversations yet; start one with: lanchat send USER TEXT")
		return nil
	}
	now := e.now()
	t := newTable(e.stdout, "CONVERSATION", "UNREAD", "LAST", "PREVIEW")
	for _, cv := range convs {
		unread := ""
		if cv.Unread > 0 {
			unread = fmt.Sprint(cv.Unread)
		}
		t.row(cv.Target, unread, ago(cv.LastActivity, now), truncate(oneLine(cv.Preview), 60))
	}
	t.flush()
	return nil
}

// stateNote says where an outgoing message stands: queued (waiting in the
// outbox), sent (left this machine, directly or to the relay), delivered
// (the recipient's daemon has it in its history) or failed (the relay
// dropped it, with why).
func stateNote(m api.Message) string {
	switch {
	case m.State == "sent" && m.Via == "relay":
		return "(sent, relayed)"
	case m.State == "failed" && m.Error != "":
		return "(failed: " + m.Error + ")"
	case m.State == "":
		return ""
	case m.Recipients > 1 && len(m.ReadBy) > 0 && len(m.ReadBy) < m.Recipients:
		return fmt.Sprintf("(read by %d of %d)", len(m.ReadBy), m.Recipients)
	case len(m.ReadBy) > 0:
		return "(read)"
	default:
		return "(" + m.State + ")"
	}
}
