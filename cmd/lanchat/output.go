package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// printJSON writes v as indented JSON, the --json output of one-shot
// commands.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// reply prints v as JSON with --json, else the line text (format, args).
func (e *env) reply(v any, format string, args ...any) error {
	if e.json {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, format+"\n", args...)
	return nil
}

// table writes aligned columns: a header row, then rows. Cells are
// cleaned to one line each.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if i > 0 {
			t.tw.Write([]byte{'\t'})
		}
		io.WriteString(t.tw, oneLine(c))
	}
	t.tw.Write([]byte{'\n'})
}

func (t *table) flush() { t.tw.Flush() }

// clean makes text from other people safe to print on a terminal: control
// characters (escape sequences), bidirectional overrides and invalid
// UTF-8 are shown as U+FFFD; newlines and tabs are kept.
func clean(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	// Ranging over invalid UTF-8 yields U+FFFD for each bad byte.
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unsafeRune(r):
			b.WriteRune(unicode.ReplacementChar)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune reports runes a terminal may act on or that reorder text.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	}
	return false
}

// oneLine cleans s and folds it onto one line.
func oneLine(s string) string {
	s = clean(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// indentLines cleans s and indents every line after the first by pad
// spaces, so a multi-line message stays readable.
func indentLines(s string, pad int) string {
	s = clean(s)
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", pad))
}

// truncate shortens s to n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ago says how long before now t was, roughly: "just now", "5m ago",
// "3h ago", "yesterday", "4d ago", or the date beyond a week.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	case d < 48*time.Hour:
		return "yesterday"
	case d < 7*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	default:
		return t.Local().Format("2006-01-02")
	}
}

// stamp is a message time in local time: the clock for today, the day
// and clock this year, the full date otherwise.
func stamp(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 02 15:04")
	default:
		return t.Format("2006-01-02 15:04")
	}
}

// plural formats n and a noun, adding "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// orDash shows an empty cell as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
