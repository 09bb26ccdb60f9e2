package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// errStreamEnded is returned when the daemon ends the event stream.
var errStreamEnded = errors.New("the daemon ended the event stream (it stopped, or this chat fell behind)")

var filepathStat = os.Stat

func homeDir() string {
	h, _ := os.UserHomeDir()
	return h
}

// expandHome turns a leading "~/" into the home directory.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h := homeDir(); h != "" {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

// clean makes text from the network safe to print on a terminal: control
// characters (escape sequences among them) become U+FFFD, except newline
// and tab.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// cleanLine is clean for text that must stay on one line.
func cleanLine(s string) string {
	return strings.ReplaceAll(clean(s), "\n", " ")
}
