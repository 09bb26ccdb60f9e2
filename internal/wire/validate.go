package wire

import (
	_ "embed"
	"encoding/hex"
	"net/mail"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on user-supplied fields.
const (
	MinUsername    = 3
	MaxUsername    = 32
	MinPassword    = 8
	MaxPassword    = 1024 // bytes; bounds the hashing input
	MaxDisplayName = 64   // characters
	MaxEmail       = 254
	MaxEndpoints   = 8
	MaxSearchQuery = 64
	MaxSearchLimit = 50
	MaxAckIDs      = 512
	MinGroupName   = 1
	MaxGroupName   = 32
	MaxToken       = 128
)

// NormalizeUsername lower-cases a username and checks its shape:
// 3–32 letters, digits, '.', '_' or '-'. Usernames compare
// case-insensitively, so the server stores only the lower-case form.
func NormalizeUsername(field, s string) (string, *Error) {
	return normalizeName(field, s, MinUsername, MaxUsername)
}

// NormalizeGroupName checks a group name like a username (1–32 characters)
// and lower-cases it.
func NormalizeGroupName(field, s string) (string, *Error) {
	return normalizeName(field, s, MinGroupName, MaxGroupName)
}

func normalizeName(field, s string, min, max int) (string, *Error) {
	if len(s) < min || len(s) > max {
		return "", Invalid(field, "must be %d to %d characters", min, max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return "", Invalid(field, "may contain only letters, digits, '.', '_' and '-'")
		}
	}
	return strings.ToLower(s), nil
}

// CheckPassword enforces the password rules for a (normalized) username.
func CheckPassword(field, password, username string) *Error {
	if !utf8.ValidString(password) {
		return Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(password) < MinPassword {
		return Invalid(field, "must be at least %d characters (NIST SP 800-63B); a few unrelated words make a good one", MinPassword)
	}
	if len(password) > MaxPassword {
		return Invalid(field, "must be at most %d bytes", MaxPassword)
	}
	if strings.EqualFold(password, username) {
		return Invalid(field, "must not equal the username")
	}
	if commonPasswords[strings.ToLower(password)] {
		return Invalid(field, "is one of the most common passwords, the first ones an attacker tries (NIST SP 800-63B); choose another")
	}
	return nil
}

//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords holds the list's passwords, lower case.
var commonPasswords = func() map[string]bool {
	m := make(map[string]bool)
	for _, l := range strings.Split(commonPasswordList, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}()

// CheckDisplayName allows up to 64 characters: any text, emoji with
// joiners included, but no control characters, line breaks or bidi
// overrides (which could disguise a name).
func CheckDisplayName(field, s string) *Error {
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > MaxDisplayName {
		return Invalid(field, "must be at most %d characters", MaxDisplayName)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || isBidiControl(r) {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// CheckEmail accepts an empty string or a bare address like a@b.example.
func CheckEmail(field, s string) *Error {
	if s == "" {
		return nil
	}
	if len(s) > MaxEmail {
		return Invalid(field, "must be at most %d bytes", MaxEmail)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return Invalid(field, "%q is not an e-mail address", truncate(s, 64))
	}
	// Require a domain name with a dot; refuse domain literals (a@[10.0.0.1]).
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasPrefix(s[at+1:], "[") {
		return Invalid(field, "%q is not an e-mail address", truncate(s, 64))
	}
	return nil
}

// CheckPhone accepts an empty string or an international-style number: an
// optional leading '+', then 7–15 digits, with spaces, dashes, dots and
// parentheses allowed as separators.
func CheckPhone(field, s string) *Error {
	if s == "" {
		return nil
	}
	if len(s) > 32 {
		return Invalid(field, "is too long")
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return Invalid(field, "%q is not a phone number", truncate(s, 32))
		}
	}
	if digits < 7 || digits > 15 {
		return Invalid(field, "must have 7 to 15 digits")
	}
	return nil
}

// CheckMessageID accepts a 128-bit id written as 32 lower-case hex digits.
func CheckMessageID(field, s string) *Error {
	if len(s) != 32 || strings.ToLower(s) != s {
		return Invalid(field, "must be 32 lower-case hex digits")
	}
	if _, err := hex.DecodeString(s); err != nil {
		return Invalid(field, "must be 32 lower-case hex digits")
	}
	return nil
}

// broadcast is the IPv4 limited broadcast address.
var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// CheckEndpoints validates the UDP endpoints a daemon reports and returns
// them in canonical form. IPv4-mapped IPv6 addresses are unmapped, so that
// "[::ffff:0.0.0.0]:1" cannot slip past the unspecified check; zoned
// addresses are refused, as a zone names an interface of the reporting
// machine and means nothing to anyone else; so are unspecified, multicast
// and broadcast addresses, which name no one host. (Whether a loopback
// endpoint makes sense depends on where the reporter is: the server
// decides.)
func CheckEndpoints(field string, eps []string) ([]string, *Error) {
	if len(eps) > MaxEndpoints {
		return nil, Invalid(field, "at most %d endpoints", MaxEndpoints)
	}
	out := make([]string, 0, len(eps))
	for _, ep := range eps {
		ap, err := netip.ParseAddrPort(ep)
		addr := ap.Addr().Unmap()
		if err != nil || ap.Port() == 0 || !addr.IsValid() || addr.Zone() != "" || addr.IsUnspecified() || addr.IsMulticast() || addr == broadcast {
			return nil, Invalid(field, "%q is not a host:port endpoint", truncate(ep, 64))
		}
		out = append(out, netip.AddrPortFrom(addr, ap.Port()).String())
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// isBidiControl reports the explicit bidirectional formatting characters.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f'
}
