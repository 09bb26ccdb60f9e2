package transfer

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	long := strings.Repeat("n", 300)
	for _, tt := range []struct {
		in, want string // want "" means ErrBadName
	}{
		{"report.pdf", "report.pdf"},
		{"photos/2024/a.jpg", "photos/2024/a.jpg"},
		{"Zoë 李小龍 🙂.txt", "Zoë 李小龍 🙂.txt"},
		{".bashrc", ".bashrc"},
		{" leading space", " leading space"},
		{"/etc/passwd", "etc/passwd"},
		{"//server/share/x", "server/share/x"},
		{"../../etc/passwd", "etc/passwd"},
		{"a/../../b", "a/b"},
		{"a/./b//c/", "a/b/c"},
		{"..", ""},
		{".", ""},
		{"", ""},
		{"/", ""},
		{"../..", ""},
		{"...", ""},
		{" . ", ""},
		{`C:\Windows\system32`, "C__Windows_system32"},
		{`..\..\evil.exe`, ".._.._evil.exe"},
		{"a<b>c:d\"e|f?g*h", "a_b_c_d_e_f_g_h"},
		{"nul\x00byte", "nul_byte"},
		{"tab\there\nnewline\r", "tab_here_newline_"},
		{"del\x7f", "del_"},
		{"c1\u0085", "c1_"},
		{"bad\xff\xfeutf8", "bad__utf8"},
		{"invoice\u202efdp.exe", "invoice_fdp.exe"},
		{"line\u2028sep", "line_sep"},
		{"trailing.", "trailing"},
		{"trailing. . ..", "trailing"},
		{"dir./file ", "dir/file"},
		{"CON", "_CON"},
		{"con", "_con"},
		{"CON.txt", "_CON.txt"},
		{"nul.tar.gz", "_nul.tar.gz"},
		{"aux .txt", "_aux .txt"},
		{"COM1", "_COM1"},
		{"lpt9.log", "_lpt9.log"},
		{"COM¹", "_COM¹"},
		{"CONIN$", "_CONIN$"},
		{"COM10", "COM10"},
		{"CONSOLE", "CONSOLE"},
		{"dir/PRN/x", "dir/_PRN/x"},
		{"x.lanchat-partial", "x.lanchat-partial_"},
		{".a.0123abcd-1.LANCHAT-PARTIAL", ".a.0123abcd-1.LANCHAT-PARTIAL_"},
		{long, strings.Repeat("n", 255)},
		{long + ".pdf", strings.Repeat("n", 251) + ".pdf"},
		{strings.Repeat("é", 200), strings.Repeat("é", 127)}, // 254 bytes: no half character
		{strings.Repeat("a/", 3000), ""},                     // too long once cleaned
		{strings.Repeat("x", 20000), ""},                     // too long to look at
	} {
		got, err := Sanitize(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrBadName) {
				t.Errorf("Sanitize(%q) = %q, %v; want ErrBadName", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Sanitize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		checkCleanName(t, got)
		if again, err := Sanitize(got); err != nil || again != got {
			t.Errorf("Sanitize(%q) = %q, %v: not a fixed point", got, again, err)
		}
	}
}

// checkClean checks every property a sanitised path must have.
func checkCleanName(t testing.TB, p string) {
	t.Helper()
	if len(p) == 0 || len(p) > MaxPathBytes {
		t.Fatalf("%q: length %d", p, len(p))
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			t.Fatalf("%q: segment %q", p, seg)
		case len(seg) > MaxNameBytes:
			t.Fatalf("%q: segment of %d bytes", p, len(seg))
		case strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " "):
			t.Fatalf("%q: segment %q ends in a dot or space", p, seg)
		case isDeviceName(seg):
			t.Fatalf("%q: device name %q", p, seg)
		case strings.HasSuffix(strings.ToLower(seg), partialSuffix):
			t.Fatalf("%q: looks like a partial file", p)
		}
		for _, r := range seg {
			if badRune(r) {
				t.Fatalf("%q: rune %U", p, r)
			}
		}
	}
	if !utf8.ValidString(p) {
		t.Fatalf("%q: invalid UTF-8", p)
	}
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		t.Fatalf("%q: not a local path", p)
	}
}
