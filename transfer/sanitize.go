package transfer

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// Limits on the names an offer may carry.
const (
	// MaxNameBytes bounds one path segment (a file or folder name), as
	// most file systems do.
	MaxNameBytes = 255
	// MaxPathBytes bounds a whole relative path.
	MaxPathBytes = 4096
)

// ErrBadName means a received path has nothing usable left once
// cleaned, or is too long.
var ErrBadName = errors.New("unusable file name")

// partialSuffix ends the names of partial files (see partialName). A
// received name that ends with it gets an extra "_", so no entry can be
// mistaken for another entry's partial file.
const partialSuffix = ".lanchat-partial"

// Sanitize turns a path received in an offer into a relative slash path
// that is safe to create under a destination directory on any common
// file system. It is pure: it looks at no file system. Each segment is
// cleaned on its own:
//
//   - empty, "." and ".." segments are dropped, so a leading "/" or a
//     "../" cannot climb out of the destination;
//   - invalid UTF-8, control characters (C0, DEL, C1), line separators,
//     bidirectional overrides and the characters <>:"|?*\ become "_";
//   - trailing dots and spaces are trimmed (Windows drops them itself,
//     which could merge two names);
//   - Windows device names (CON, PRN, AUX, NUL, COM0-9, LPT0-9, with or
//     without an extension) get a leading "_";
//   - a segment longer than MaxNameBytes is shortened at a character
//     boundary, keeping a short extension.
//
// Sanitize fails with ErrBadName when nothing is left or the result is
// longer than MaxPathBytes. Its result is a fixed point:
// Sanitize(Sanitize(p)) == Sanitize(p).
func Sanitize(p string) (string, error) {
	// Bound the work before cleaning: nothing this long can pass.
	if len(p) > 4*MaxPathBytes {
		return "", fmt.Errorf("%w: path of %d bytes", ErrBadName, len(p))
	}
	segs := strings.Split(p, "/")
	out := segs[:0]
	for _, seg := range segs {
		if seg = cleanSegment(seg); seg != "" {
			out = append(out, seg)
		}
	}
	if len(out) == 0 {
		return "", fmt.Errorf("%w: %q has no usable name", ErrBadName, truncateBytes(p, 64))
	}
	clean := strings.Join(out, "/")
	if len(clean) > MaxPathBytes {
		return "", fmt.Errorf("%w: path of %d bytes, limit %d", ErrBadName, len(clean), MaxPathBytes)
	}
	return clean, nil
}

// cleanSegment cleans one path segment; "" means drop it. The rules can
// feed each other (shortening can expose a trailing space or a device
// name, a "_" prefix can make a name too long), so they are applied until
// nothing changes; three rounds always suffice.
func cleanSegment(s string) string {
	s = replaceBadRunes(s)
	for range 8 {
		prev := s
		s = strings.TrimRight(s, " .")
		if s == "" {
			return ""
		}
		s = shorten(s, MaxNameBytes)
		s = strings.TrimRight(s, " .")
		if isDeviceName(s) {
			s = "_" + s
		}
		if strings.HasSuffix(strings.ToLower(s), partialSuffix) {
			s += "_"
		}
		if s == prev {
			break
		}
	}
	return s
}

// replaceBadRunes replaces invalid UTF-8 and every rune badRune refuses
// with "_".
func replaceBadRunes(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || badRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || badRune(r) {
			b.WriteByte('_')
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// badRune reports runes no received name may contain: controls, the
// characters Windows reserves, and invisible formatting that could make
// "gpj.exe" look like "exe.jpg".
func badRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case strings.ContainsRune(`<>:"|?*\`, r):
		return true
	case r == '\u2028', r == '\u2029': // line and paragraph separators
		return true
	case r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true // bidirectional formatting
	}
	return false
}

// isDeviceName reports names Windows maps to devices whatever the
// extension: "nul", "COM1.txt", "aux .tar.gz".
func isDeviceName(s string) bool {
	stem, _, _ := strings.Cut(s, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) >= 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		switch stem[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// maxKeptExt is the longest extension shorten keeps whole.
const maxKeptExt = 32

// shorten cuts s to at most max bytes at a character boundary, keeping
// its extension when that is short, so "very long name….pdf" stays a
// PDF.
func shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	ext := path.Ext(s)
	if len(ext) > maxKeptExt || len(ext) == len(s) {
		ext = ""
	}
	return truncateBytes(s[:len(s)-len(ext)], max-len(ext)) + ext
}

// truncateBytes returns the longest prefix of s of at most n bytes that
// does not split a UTF-8 sequence.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
