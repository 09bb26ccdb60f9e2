package tui

import (
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line   string
		isCmd  bool
		name   string
		arg    string
		text   string
		errHas string
	}{
		{line: "hello", isCmd: false},
		{line: "/help", isCmd: true, name: "help"},
		{line: "/quit", isCmd: true, name: "quit"},
		{line: "/send-file /tmp/a b.txt", isCmd: true, name: "send-file", arg: "/tmp/a b.txt"},
		{line: "/send-file", isCmd: true, errHas: "needs a path"},
		{line: "/accept", isCmd: true, name: "accept"},
		{line: "/reject 3f2a", isCmd: true, name: "reject", arg: "3f2a"},
		{line: "/verify confirm", isCmd: true, name: "verify", arg: "confirm"},
		{line: "/help me", isCmd: true, errHas: "takes no argument"},
		{line: "/hlep", isCmd: true, errHas: "unknown command /hlep"},
		{line: "//etc/passwd is a file", isCmd: false, text: "/etc/passwd is a file"},
	}
	for _, tc := range tests {
		c, isCmd, err := parseCommand(tc.line)
		if isCmd != tc.isCmd {
			t.Errorf("%q: isCmd %v, want %v", tc.line, isCmd, tc.isCmd)
		}
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("%q: error %v, want one with %q", tc.line, err, tc.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if c.name != tc.name || c.arg != tc.arg || c.text != tc.text {
			t.Errorf("%q: got %+v, want name %q arg %q text %q", tc.line, c, tc.name, tc.arg, tc.text)
		}
	}
}

func TestCleanStripsTerminalControls(t *testing.T) {
	in := "hi\x1b]0;pwned\x07 there\x1b[2J\nline two\u009b31m\ttab"
	got := clean(in)
	for _, bad := range []string{"\x1b", "\x07", "\u009b"} {
		if strings.Contains(got, bad) {
			t.Errorf("clean(%q) = %q keeps %q", in, got, bad)
		}
	}
	if !strings.Contains(got, "\nline two") || !strings.Contains(got, "\ttab") {
		t.Errorf("clean(%q) = %q lost a newline or tab", in, got)
	}
	if strings.Contains(cleanLine("a\nb"), "\n") {
		t.Error("cleanLine kept a newline")
	}
}

func TestCommonPrefix(t *testing.T) {
	if got := commonPrefix([]string{"send-file", "sensor"}); got != "sen" {
		t.Errorf("commonPrefix = %q, want sen", got)
	}
}
