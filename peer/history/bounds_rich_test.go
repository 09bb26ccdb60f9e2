package history

import (
	"testing"

	"github.com/lanchat/lanchat/internal/content"
)

// TestRichBoundsAgree checks the bounds history repeats from the message
// kinds.
func TestRichBoundsAgree(t *testing.T) {
	if MaxEditAge != content.MaxEditAge || MaxReadIDs != content.MaxReadIDs ||
		MaxEmojiBytes != content.MaxEmoji || MaxMeta != content.MaxBody {
		t.Fatal("history's bounds disagree with internal/content's")
	}
	if !editable[content.KindText] || !editable[content.KindReply] || len(editable) != 2 {
		t.Fatal("editable kinds disagree with internal/content's")
	}
}
