package content

import (
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// MaxEmoji is the longest reaction, in bytes: room for the longest emoji
// sequences (families, flags of subdivisions).
const MaxEmoji = 32

// Reaction adds or takes back one reaction of its sender to a message of
// the same conversation. A sender has at most one of each emoji on a
// message; the receiver keeps, per (sender, message, emoji), the reaction
// with the latest send time (then the greatest id), so that an add and a
// take-back arriving out of order end as the sender meant.
type Reaction struct {
	To    Ref    `json:"to"`
	Emoji string `json:"emoji"`
	// On is true to add the reaction, false to take it back.
	On bool `json:"on"`
}

// Kind returns KindReaction.
func (Reaction) Kind() string { return KindReaction }

// Validate checks the message named and the emoji (ValidEmoji).
func (r Reaction) Validate() error {
	if err := r.To.validate(KindReaction, "to"); err != nil {
		return err
	}
	if !ValidEmoji(r.Emoji) {
		return invalid(KindReaction, "emoji", "must be one emoji of at most %d bytes", MaxEmoji)
	}
	return nil
}

// ValidEmoji reports whether s is one emoji: a single grapheme cluster of
// at most MaxEmoji bytes made only of pictographic symbols, regional
// indicators, skin-tone modifiers, joiners, variation selectors and tags,
// or a keycap (a digit, '#' or '*' with U+20E3).
func ValidEmoji(s string) bool {
	if s == "" || len(s) > MaxEmoji || !utf8.ValidString(s) || uniseg.GraphemeClusterCount(s) != 1 {
		return false
	}
	first, size := utf8.DecodeRuneInString(s)
	if (first >= '0' && first <= '9') || first == '#' || first == '*' {
		rest := s[size:]
		return rest == "\u20e3" || rest == "\ufe0f\u20e3"
	}
	flags := 0
	for _, r := range s {
		if r >= 0x1f1e6 && r <= 0x1f1ff {
			flags++
		}
		switch {
		case unicode.Is(unicode.So, r), unicode.Is(unicode.Sk, r) && r >= 0x1f3fb && r <= 0x1f3ff:
		case r == 0x200d, r == 0xfe0f, r == 0xfe0e, r == 0x20e3:
		case r >= 0xe0020 && r <= 0xe007f: // tags (subdivision flags)
		case r == 0x203c, r == 0x2049: // ‼ ⁉ are punctuation, yet emoji
		default:
			return false
		}
	}
	// Regional indicators make a flag in pairs; one alone is a letter.
	return first != 0x200d && first != 0xfe0f && first != 0xfe0e && (flags == 0 || flags == 2)
}
