package content

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is the body of a text message: the text itself.
type Text string

// Kind returns KindText.
func (Text) Kind() string { return KindText }

// Validate checks that the text is valid UTF-8, not only white space, and
// at most MaxText bytes.
func (t Text) Validate() error { return checkText(KindText, "text", string(t), MaxText) }

// Bounds of a quoted excerpt.
const (
	// ExcerptRunes is the most characters Excerpt keeps.
	ExcerptRunes = 160
	// MaxExcerpt is the largest excerpt a reply may carry, in bytes.
	MaxExcerpt = 1024
)

// Quote is what a reply shows of the message it answers, so that the
// receiver can show it even when that message is no longer (or not yet)
// in its history.
type Quote struct {
	Ref
	// Kind is the quoted message's kind.
	Kind string `json:"kind"`
	// Excerpt is the start of its text (or a picture's caption, a file's
	// name), made by Excerpt; it may be empty.
	Excerpt string `json:"excerpt,omitempty"`
}

// Reply is a text message that answers another message of the same
// conversation.
type Reply struct {
	Text  string `json:"text"`
	Quote Quote  `json:"quote"`
}

// Kind returns KindReply.
func (Reply) Kind() string { return KindReply }

// Validate checks the text as Text's and the quote: a sender and id, a
// kind of this package, an excerpt of valid UTF-8 on one line of at most
// MaxExcerpt bytes.
func (r Reply) Validate() error {
	if err := checkText(KindReply, "text", r.Text, MaxText); err != nil {
		return err
	}
	if err := r.Quote.validate(KindReply, "quote"); err != nil {
		return err
	}
	if !knownKind(r.Quote.Kind) {
		return invalid(KindReply, "quote.kind", "%q is not a message kind", clip(r.Quote.Kind))
	}
	e := r.Quote.Excerpt
	if !utf8.ValidString(e) || len(e) > MaxExcerpt || strings.ContainsFunc(e, unicode.IsControl) {
		return invalid(KindReply, "quote.excerpt", "must be one line of valid UTF-8 of at most %d bytes", MaxExcerpt)
	}
	return nil
}

// Excerpt makes a quote's excerpt of a text: its start on one line, runs
// of white space and control characters collapsed to one space, cut to
// ExcerptRunes characters with "…" if cut.
func Excerpt(text string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.ToValidUTF8(text, "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if n == ExcerptRunes {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
			if n++; n == ExcerptRunes {
				b.WriteString("…")
				break
			}
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Edit replaces the text of one of its sender's own messages (a text or a
// reply) of the same conversation. The receiver keeps every version.
type Edit struct {
	// To is the id of the edited message; its sender is the edit's.
	To   string `json:"to"`
	Text string `json:"text"`
}

// Kind returns KindEdit.
func (Edit) Kind() string { return KindEdit }

// Validate checks the id and the text (as Text's).
func (e Edit) Validate() error {
	if err := checkID(KindEdit, "to", e.To); err != nil {
		return err
	}
	return checkText(KindEdit, "text", e.Text, MaxText)
}

// Recall marks one of its sender's own messages of the same conversation
// as recalled. Nothing is deleted: what a recalled message shows is the
// receiver's setting.
type Recall struct {
	// To is the id of the recalled message; its sender is the recall's.
	To string `json:"to"`
}

// Kind returns KindRecall.
func (Recall) Kind() string { return KindRecall }

// Validate checks the id.
func (r Recall) Validate() error { return checkID(KindRecall, "to", r.To) }

// knownKind reports whether k is a kind of this package.
func knownKind(k string) bool {
	switch k {
	case KindText, KindImage, KindVoice, KindFile, KindReply, KindReaction, KindEdit, KindRecall, KindRead, KindTyping:
		return true
	}
	return false
}

// MaxMentions bounds how many users one message mentions.
const MaxMentions = 32

// Mentions returns the members a text mentions, in the order first
// mentioned, at most MaxMentions. A mention is "@" at the start of the
// text or after a character that cannot be part of a username, followed
// by a member's username (any case) that ends the run of username
// characters, but for trailing '.', '-' or '_' (so "@bob." at the end of
// a sentence mentions bob, unless "bob." is a member). members are
// lower-case usernames; mentions travel in the text itself, and the
// receiver finds them with the members it knows.
func Mentions(text string, members []string) []string {
	set := make(map[string]bool, len(members))
	for _, m := range members {
		set[m] = true
	}
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(text) && len(out) < MaxMentions; i++ {
		if text[i] != '@' || (i > 0 && nameByte(text[i-1])) {
			continue
		}
		j := i + 1
		for j < len(text) && nameByte(text[j]) {
			j++
		}
		name := strings.ToLower(text[i+1 : j])
		for !set[name] && name != "" && strings.ContainsRune("._-", rune(name[len(name)-1])) {
			name = name[:len(name)-1]
		}
		if set[name] && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
		i = j - 1
	}
	return out
}

// nameByte reports whether c may be part of a username.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}
