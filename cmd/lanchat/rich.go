package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lanchat/lanchat/peer/api"
)

// richCommands act on sent messages, placed after watch.
var richCommands = []*command{
	{name: "react", args: "ID EMOJI", summary: "add your reaction to a message, or take it back if you gave it (ids: lanchat history --ids)", example: "lanchat react 3fa19c0e5b7d4e21a0c6f8d2b9e47a10 👍", run: cmdReact},
	{name: "edit", args: "ID TEXT...", summary: "replace the text of one of your messages (within 24 h); the receivers keep every version", example: "lanchat edit 3fa19c0e5b7d4e21a0c6f8d2b9e47a10 lunch at one?", noInterspersed: true, run: cmdEdit},
	{name: "recall", args: "ID", summary: "recall one of your messages (within 24 h); receivers see it marked recalled, and keep its text unless they hide recalled messages", example: "lanchat recall 3fa19c0e5b7d4e21a0c6f8d2b9e47a10", run: cmdRecall},
	{name: "mute", args: "TARGET", summary: "no desktop notifications for a conversation, but for messages that mention you; unread still counts", example: "lanchat mute '#random'", run: cmdMute},
	{name: "unmute", args: "TARGET", summary: "notify of a muted conversation again", example: "lanchat unmute '#random'", run: cmdMute},
	{name: "mentions", args: "[--limit N]", summary: "list the messages that mention you (@yourname), oldest first", example: "lanchat mentions", run: cmdMentions},
	{name: "send-image", args: "TARGET FILE... [--keep-metadata] [--caption TEXT]", summary: "send pictures (JPEG, PNG, GIF, WebP; their location and camera data removed unless --keep-metadata), each with a thumbnail; one over 128 KiB once prepared (up to 32 MiB) follows its thumbnail as a transfer once you both have a direct path", example: "lanchat send-image bob photo.jpg", run: cmdSendImage},
	{name: "send-voice", args: "TARGET FILE", summary: "send a voice recording (.ogg, .webm or .m4a) with its duration and waveform; one over 128 KiB (up to 16 MiB) follows as a transfer once you both have a direct path", example: "lanchat send-voice bob memo.ogg", run: cmdSendVoice},
	{name: "open", args: "ID", summary: "write the picture or recording of a message to your downloads folder and print where (says so while only the thumbnail has come)", example: "lanchat open 3fa19c0e5b7d4e21a0c6f8d2b9e47a10", run: cmdOpen},
	{name: "settings", summary: "show your settings", example: "lanchat settings", run: cmdSettings},
	{name: "settings set", args: "NAME true|false", summary: "change a setting: hide-recalled (default false), send-read-receipts (default true), share-keep (default true)", example: "lanchat settings set hide-recalled true", run: cmdSettingsSet},
}

func init() {
	at := slices.IndexFunc(commands, func(c *command) bool { return c.name == "watch" })
	commands = slices.Insert(commands, at+1, richCommands...)
}

func cmdReact(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 2, 2)
	if err != nil {
		return err
	}
	m, err := e.client.React(e.ctx, pos[0], api.ReactRequest{Emoji: pos[1]})
	if err != nil {
		return err
	}
	return e.reply(m, "%s", messageLine(m, e.now(), false))
}

func cmdEdit(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 2, -1)
	if err != nil {
		return err
	}
	text := strings.Join(pos[1:], " ")
	if strings.TrimSpace(text) == "" {
		return usageError(c, "the text is empty")
	}
	m, err := e.client.Edit(e.ctx, pos[0], api.EditRequest{Text: text})
	if err != nil {
		return err
	}
	return e.reply(m, "%s", messageLine(m, e.now(), false))
}

func cmdRecall(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	m, err := e.client.Recall(e.ctx, pos[0])
	if err != nil {
		return err
	}
	return e.reply(m, "recalled %s; receivers see it marked recalled", m.ID)
}

func cmdMute(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	muted := c.name == "mute"
	if err := e.client.Mute(e.ctx, pos[0], muted); err != nil {
		return err
	}
	res := map[string]any{"target": pos[0], "muted": muted}
	if muted {
		return e.reply(res, "muted %s: no notifications but for mentions", pos[0])
	}
	return e.reply(res, "unmuted %s", pos[0])
}

func cmdMentions(e *env, c *command, args []string) error {
	fs := e.flags(c)
	limit := fs.Int("limit", 0, "most messages to show (0: the daemon's default)")
	if _, err := e.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	msgs, err := e.client.Mentions(e.ctx, *limit)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, msgs)
	}
	if len(msgs) == 0 {
		fmt.Fprintln(e.stdout, "no messages mention you")
		return nil
	}
	now := e.now()
	for _, m := range msgs {
		fmt.Fprintln(e.stdout, messageLine(m, now, true))
	}
	return nil
}

func cmdSendImage(e *env, c *command, args []string) error {
	fs := e.flags(c)
	keep := fs.Bool("keep-metadata", false, "send the pictures with their EXIF and other metadata")
	caption := fs.String("caption", "", "text shown with the picture")
	pos, err := e.parse(c, fs, args, 2, -1)
	if err != nil {
		return err
	}
	var results []api.SendResult
	for _, p := range pos[1:] {
		res, err := e.client.SendMedia(e.ctx, api.SendMediaRequest{Target: pos[0], Path: absPath(p), Kind: "image", KeepMetadata: *keep, Caption: *caption})
		if err != nil {
			return err
		}
		results = append(results, res)
		if !e.json {
			fmt.Fprintf(e.stdout, "sent %s to %s as %s\n", clean(p), pos[0], res.ID)
		}
	}
	if e.json {
		return printJSON(e.stdout, results)
	}
	return nil
}

func cmdSendVoice(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 2, 2)
	if err != nil {
		return err
	}
	res, err := e.client.SendMedia(e.ctx, api.SendMediaRequest{Target: pos[0], Path: absPath(pos[1]), Kind: "voice"})
	if err != nil {
		return err
	}
	return e.reply(res, "sent %s to %s as %s", clean(pos[1]), pos[0], res.ID)
}

func cmdOpen(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	res, err := e.client.OpenMedia(e.ctx, pos[0])
	if err != nil {
		return err
	}
	return e.reply(res, "%s", res.Path)
}

// absPath makes a path the daemon can read whatever its directory.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// shownText is a message's text, with the tag of its picture or
// recording first: [image photo.jpg 1.2 MB], [voice memo.ogg 0:30].
func shownText(m api.Message) string {
	if tag, ok := fileTag(m); ok { // fileitem.go
		return tag
	}
	md := m.Media
	if md == nil {
		return m.Text
	}
	var tag string
	if m.Kind == "voice" {
		s := md.DurationMS / 1000
		tag = fmt.Sprintf("[voice %s %d:%02d]", oneLine(md.Name), s/60, s%60)
	} else {
		tag = fmt.Sprintf("[image %s %s]", oneLine(md.Name), bytesText(md.Size))
	}
	if m.Text == "" || m.Text == md.Name {
		return tag
	}
	return tag + " " + m.Text
}

func cmdSettings(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	s, err := e.client.Settings(e.ctx)
	if err != nil {
		return err
	}
	return printSettings(e, s)
}

func cmdSettingsSet(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 2, 2)
	if err != nil {
		return err
	}
	s, err := e.client.SetSetting(e.ctx, pos[0], pos[1])
	if err != nil {
		return err
	}
	return printSettings(e, s)
}

func printSettings(e *env, s api.Settings) error {
	if e.json {
		return printJSON(e.stdout, s)
	}
	fmt.Fprintf(e.stdout, "hide-recalled       %t\nsend-read-receipts  %t\nshare-keep          %t\n",
		s.HideRecalled, s.SendReadReceipts, s.ShareKeep)
	return nil
}

// richNotes renders what was done to a message after it was sent: a
// reply's quote goes before it, the marks and reactions after it.
func richNotes(m api.Message) (before, after string) {
	if q := m.Reply; q != nil {
		ex := q.Excerpt
		if utf8.RuneCountInString(ex) > 60 {
			ex = string([]rune(ex)[:59]) + "…"
		}
		before = "↪ " + oneLine(q.From) + ": " + oneLine(ex) + " | "
	}
	var marks []string
	if !m.Edited.IsZero() {
		marks = append(marks, "(edited)")
	}
	if !m.Recalled.IsZero() {
		if m.Text == "" {
			marks = append(marks, "[recalled by the sender; hidden]")
		} else {
			marks = append(marks, "[recalled by the sender]")
		}
	}
	for _, r := range m.Reactions {
		marks = append(marks, fmt.Sprintf("%s %d", oneLine(r.Emoji), r.Count))
	}
	if len(marks) > 0 {
		after = "  " + strings.Join(marks, "  ")
	}
	return before, after
}

// idPrefix puts a message's id before its line (history --ids).
func idPrefix(m api.Message) string { return m.ID + " " }
