package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// This file drives the full-screen terminal chat ("lanchat chat") in a
// tmux session of a fixed size, reading the screen as a user sees it.

// tmuxTerm is one tmux server of the test's own, with one session.
type tmuxTerm struct {
	t    *testing.T
	tmux string
	sock string
}

// startTmux runs command in a detached tmux session of width×height.
func startTmux(t *testing.T, width, height int, command string) *tmuxTerm {
	t.Helper()
	path, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux not found: the terminal chat is tested through tmux")
	}
	tt := &tmuxTerm{t: t, tmux: path, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	tt.run("new-session", "-d", "-x", itoa(width), "-y", itoa(height), "-s", "chat", command)
	t.Cleanup(func() { exec.Command(tt.tmux, "-S", tt.sock, "kill-server").Run() })
	return tt
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func (tt *tmuxTerm) run(args ...string) string {
	tt.t.Helper()
	out, err := exec.Command(tt.tmux, append([]string{"-S", tt.sock}, args...)...).CombinedOutput()
	if err != nil {
		tt.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys types text literally; named keys go through key.
func (tt *tmuxTerm) keys(text string) { tt.t.Helper(); tt.run("send-keys", "-t", "chat", "-l", text) }
func (tt *tmuxTerm) key(name string)  { tt.t.Helper(); tt.run("send-keys", "-t", "chat", name) }

// screen is what the pane shows now.
func (tt *tmuxTerm) screen() string {
	tt.t.Helper()
	return tt.run("capture-pane", "-p", "-t", "chat")
}

// waitScreen waits until cond holds for the screen, and returns it.
func (tt *tmuxTerm) waitScreen(what string, cond func(string) bool) string {
	tt.t.Helper()
	var s string
	eventually(tt.t, 20*time.Second, func() (bool, string) {
		s = tt.screen()
		return cond(s), "screen never showed " + what + ":\n" + s
	})
	return s
}

func (tt *tmuxTerm) waitText(text string) string {
	tt.t.Helper()
	return tt.waitScreen(text, func(s string) bool { return strings.Contains(s, text) })
}

// inputLine is the screen's line of the input prompt.
func inputLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, "> "); i >= 0 && strings.Contains(l, "│") {
			return l[i:]
		}
	}
	return ""
}

func TestTerminalChat(t *testing.T) {
	srv := startServer(t)
	alice, bob := newUser(t, srv, "alice"), newUser(t, srv, "bob")
	for _, u := range []*user{alice, bob} {
		u.start(t)
		u.register(t)
	}
	befriendUsers(t, alice, bob)
	if out := alice.must(t, "profile", "show"); !strings.Contains(out, "alice") || !strings.Contains(out, "key fingerprint") {
		t.Fatalf("profile show printed:\n%s", out)
	}
	bob.must(t, "send", "alice", "before the chat")

	tt := startTmux(t, 100, 30, bin("lanchat")+" --home "+alice.home+" chat bob")
	s := tt.waitText("bob: before the chat")
	if !strings.Contains(s, "Conversations") {
		t.Fatalf("no conversations pane at 100x30:\n%s", s)
	}

	// A message arriving does not disturb a half-typed line.
	tt.keys("half typed")
	tt.waitText("> half typed")
	bob.must(t, "send", "alice", "hello alice")
	s = tt.waitText("bob: hello alice")
	if in := inputLine(s); !strings.HasPrefix(in, "> half typed") {
		t.Fatalf("input line is %q after a message arrived, want it to keep \"half typed\":\n%s", in, s)
	}
	// What the chat showed is read.
	eventually(t, 10*time.Second, func() (bool, string) {
		n := alice.unread(t, "bob")
		return n == 0, "alice's conversation with bob has " + fmtInt(max(n, 0)) + " unread"
	})

	// Enter sends; the line shows with its state.
	tt.keys(" line")
	tt.key("Enter")
	tt.waitScreen("the sent line with its state", func(s string) bool {
		return strings.Contains(s, "you: half typed line ✓")
	})
	bob.waitMessage(t, "alice", "half typed line", 20*time.Second)

	// Alt+Enter breaks the line; Enter sends both lines as one message.
	tt.keys("first")
	tt.key("M-Enter")
	tt.keys("second")
	tt.key("Enter")
	tt.waitText("you: first")
	bob.waitMessage(t, "alice", "first\nsecond", 20*time.Second)

	// Commands are never sent; an unknown one is an error; // escapes.
	tt.keys("/help")
	tt.key("Enter")
	tt.waitText("Commands (never sent as text)")
	tt.keys("/bogus")
	tt.key("Enter")
	s = tt.waitText("unknown command /bogus")
	t.Logf("the chat at 100x30:\n%s", s)
	tt.key("C-u") // the bad line stays for fixing; clear it
	tt.keys("//slash")
	tt.key("Enter")
	bob.waitMessage(t, "alice", "/slash", 20*time.Second)
	for _, m := range bob.history(t, "alice") {
		if strings.HasPrefix(m.Text, "/help") || strings.HasPrefix(m.Text, "/bogus") {
			t.Fatalf("a command reached bob as a message: %q", m.Text)
		}
	}

	// Tab completes a command.
	tt.keys("/he")
	tt.key("Tab")
	tt.waitText("> /help")
	tt.key("C-u")

	// Resizing redraws within the new size; a narrow one hides the list.
	tt.run("resize-window", "-t", "chat", "-x", "70", "-y", "20")
	s = tt.waitScreen("a 70x20 layout", func(s string) bool {
		return strings.Contains(s, "Conversations") && strings.Contains(s, "you: //slash") == false && strings.Contains(s, "you: /slash")
	})
	for i, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if w := len([]rune(l)); w > 70 {
			t.Fatalf("line %d is %d cells wide at 70 columns: %q", i, w, l)
		}
	}
	tt.run("resize-window", "-t", "chat", "-x", "50", "-y", "20")
	tt.waitScreen("a 50x20 layout without the list", func(s string) bool {
		return !strings.Contains(s, "Conversations") && strings.Contains(s, "you: /slash")
	})

	// /quit leaves.
	tt.keys("/quit")
	tt.key("Enter")
	eventually(t, 10*time.Second, func() (bool, string) {
		err := exec.Command(tt.tmux, "-S", tt.sock, "has-session", "-t", "chat").Run()
		return err != nil, "the chat is still running after /quit"
	})
}
