package content

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	idA  = "00112233445566778899aabbccddeeff"
	idB  = "ffeeddccbbaa99887766554433221100"
	hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// samples are valid items of every kind.
func samples() map[string]Item {
	return map[string]Item{
		"text":  Text("Hi Bob 👋\nlunch?"),
		"reply": Reply{Text: "yes, at noon @bob", Quote: Quote{Ref: Ref{From: "bob", ID: idA}, Kind: KindText, Excerpt: "lunch?"}},
		"image-inline": Image{Name: "photo.jpg", Type: "image/jpeg", Size: 3, SHA256: hash, Width: 4000, Height: 3000,
			Thumb: []byte{0xff, 0xd8, 0xff}, ThumbWidth: 320, ThumbHeight: 240, Caption: "the view", Data: []byte{1, 2, 3}},
		"image-transfer": Image{Name: "big.png", Type: "image/png", Size: 5 << 20, SHA256: hash, Width: 100, Height: 100,
			Thumb: []byte{0xff}, ThumbWidth: 100, ThumbHeight: 100, Transfer: idB},
		"voice": Voice{Name: "voice.ogg", Type: "audio/ogg", Size: 2, SHA256: hash, Duration: 30_000,
			Waveform: []uint8{0, 10, 255}, Data: []byte{1, 2}},
		"file":      File{Transfer: idA, Name: "report.pdf", Size: 1 << 30, Files: 1},
		"reaction":  Reaction{To: Ref{From: "alice", ID: idA}, Emoji: "👍🏽", On: true},
		"edit":      Edit{To: idA, Text: "lunch at 1?"},
		"recall":    Recall{To: idA},
		"read":      Read{IDs: []string{idA, idB}},
		"typing":    Typing{Active: true},
		"reaction2": Reaction{To: Ref{From: "alice", ID: idA}, Emoji: "🏳️‍🌈"},
		"share":     Share{ID: idA, Path: "plans/2027/budget.ods", Size: 1 << 20, SHA256: hash, Folder: true},
		"unshare":   Unshare{ID: idA},
		"holder":    Holder{ID: idB, On: true},
	}
}

func TestRoundTrip(t *testing.T) {
	for name, it := range samples() {
		t.Run(name, func(t *testing.T) {
			kind, body, err := Encode(it)
			if err != nil {
				t.Fatal(err)
			}
			if kind != it.Kind() {
				t.Fatalf("kind %q, want %q", kind, it.Kind())
			}
			got, err := Decode(kind, body)
			if err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if !reflect.DeepEqual(got, it) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, it)
			}
		})
	}
}

func TestDecodeIsStrict(t *testing.T) {
	for name, tc := range map[string]struct {
		kind, body string
		want       error
	}{
		"unknown kind":     {"sticker", `{}`, ErrUnknownKind},
		"unknown field":    {KindRecall, `{"to":"` + idA + `","extra":1}`, ErrMalformed},
		"trailing data":    {KindRecall, `{"to":"` + idA + `"}{}`, ErrMalformed},
		"not json":         {KindEdit, `to=` + idA, ErrMalformed},
		"wrong type":       {KindTyping, `{"active":"yes"}`, ErrMalformed},
		"null":             {KindTyping, `null`, ErrMalformed},
		"array":            {KindRead, `[]`, ErrMalformed},
		"empty text":       {KindText, " \n\t", ErrInvalid},
		"text not utf8":    {KindText, "\xff\xfe", ErrInvalid},
		"text too long":    {KindText, strings.Repeat("a", MaxText+1), ErrInvalid},
		"body too large":   {KindEdit, strings.Repeat(" ", MaxBody+1), ErrTooLarge},
		"bad id":           {KindRecall, `{"to":"ABC"}`, ErrInvalid},
		"upper-case id":    {KindRecall, `{"to":"` + strings.ToUpper(idA) + `"}`, ErrInvalid},
		"no id":            {KindRecall, `{}`, ErrInvalid},
		"edit empty":       {KindEdit, `{"to":"` + idA + `","text":""}`, ErrInvalid},
		"reaction word":    {KindReaction, `{"to":{"from":"bob","id":"` + idA + `"},"emoji":"lol","on":true}`, ErrInvalid},
		"reaction two":     {KindReaction, `{"to":{"from":"bob","id":"` + idA + `"},"emoji":"👍👍","on":true}`, ErrInvalid},
		"reaction upper":   {KindReaction, `{"to":{"from":"Bob","id":"` + idA + `"},"emoji":"👍","on":true}`, ErrInvalid},
		"read none":        {KindRead, `{"ids":[]}`, ErrInvalid},
		"read twice":       {KindRead, `{"ids":["` + idA + `","` + idA + `"]}`, ErrInvalid},
		"reply bad kind":   {KindReply, `{"text":"x","quote":{"from":"bob","id":"` + idA + `","kind":"sticker"}}`, ErrInvalid},
		"reply newline":    {KindReply, `{"text":"x","quote":{"from":"bob","id":"` + idA + `","kind":"text","excerpt":"a\nb"}}`, ErrInvalid},
		"file slash":       {KindFile, `{"transfer":"` + idA + `","name":"../etc/passwd","size":1,"files":1}`, ErrInvalid},
		"file no files":    {KindFile, `{"transfer":"` + idA + `","name":"a","size":1,"files":0}`, ErrInvalid},
		"voice long":       {KindVoice, `{"name":"v.ogg","type":"audio/ogg","size":1,"sha256":"` + hash + `","duration_ms":900001,"waveform":[],"data":"AA=="}`, ErrInvalid},
		"voice both":       {KindVoice, `{"name":"v.ogg","type":"audio/ogg","size":1,"sha256":"` + hash + `","duration_ms":9,"waveform":[],"data":"AA==","transfer":"` + idA + `"}`, ErrInvalid},
		"voice neither":    {KindVoice, `{"name":"v.ogg","type":"audio/ogg","size":1,"sha256":"` + hash + `","duration_ms":9,"waveform":[]}`, ErrInvalid},
		"voice wave level": {KindVoice, `{"name":"v.ogg","type":"audio/ogg","size":1,"sha256":"` + hash + `","duration_ms":9,"waveform":[256],"data":"AA=="}`, ErrMalformed},
		"image svg":        {KindImage, `{"name":"a.svg","type":"image/svg+xml","size":1,"sha256":"` + hash + `","width":1,"height":1,"thumb":"AA==","thumb_width":1,"thumb_height":1,"data":"AA=="}`, ErrInvalid},
		"image size":       {KindImage, `{"name":"a.png","type":"image/png","size":2,"sha256":"` + hash + `","width":1,"height":1,"thumb":"AA==","thumb_width":1,"thumb_height":1,"data":"AA=="}`, ErrInvalid},
		"image thumb":      {KindImage, `{"name":"a.png","type":"image/png","size":1,"sha256":"` + hash + `","width":1,"height":1,"thumb":"AA==","thumb_width":321,"thumb_height":1,"data":"AA=="}`, ErrInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(tc.kind, []byte(tc.body))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestEncodeRefusesInvalidAndOversized(t *testing.T) {
	if _, _, err := Encode(Edit{To: "nope", Text: "x"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad id: %v", err)
	}
	// Control characters are escaped six bytes each: valid text of
	// MaxText bytes can encode to more than MaxBody.
	if _, _, err := Encode(Edit{To: idA, Text: "x" + strings.Repeat("\x01", MaxText-1)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("escaped text: %v", err)
	}
	// HTML characters are not escaped.
	_, body, err := Encode(Edit{To: idA, Text: "<b>&"})
	if err != nil || !strings.Contains(string(body), "<b>&") {
		t.Fatalf("got %s, %v", body, err)
	}
	// The largest inline picture with a full thumbnail fits.
	big := Image{Name: "p.jpg", Type: "image/jpeg", Size: MaxInline, SHA256: hash, Width: 1, Height: 1,
		Thumb: make([]byte, MaxThumb), ThumbWidth: 1, ThumbHeight: 1, Caption: strings.Repeat("c", 1000), Data: make([]byte, MaxInline)}
	if _, _, err := Encode(big); err != nil {
		t.Fatalf("largest inline picture: %v", err)
	}
}

func TestValidEmoji(t *testing.T) {
	for _, s := range []string{"👍", "👍🏽", "❤️", "❤", "🇫🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "👨‍👩‍👧‍👦", "1️⃣", "#⃣", "😂", "🎉", "‼️"} {
		if !ValidEmoji(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "a", "ok", "👍👍", "👍 ", " 👍", "\u200d", "\ufe0f", "1", "<script>", "👍\x00",
		strings.Repeat("👨‍👩‍👧‍👦", 2), "\xf0\x9f", "🇫", "é"} {
		if ValidEmoji(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestMentions(t *testing.T) {
	members := []string{"bob", "bob.smith", "carol", "d-e"}
	for text, want := range map[string][]string{
		"hi @bob":                    {"bob"},
		"@Bob, and @carol.":          {"bob", "carol"},
		"@bob.smith please":          {"bob.smith"},
		"@bob.smithers":              nil,
		"@bob.smith.":                {"bob.smith"},
		"@bob...":                    {"bob"},
		"mail bob@carol.example":     nil,
		"@dave @d-e @carol @carol":   {"d-e", "carol"},
		"@@bob":                      {"bob"},
		"(@bob)":                     {"bob"},
		"nobody here":                nil,
		"@" + strings.Repeat("a", 9): nil,
	} {
		got := Mentions(text, members)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Mentions(%q) = %v, want %v", text, got, want)
		}
	}
	var many strings.Builder
	var all []string
	for i := range 40 {
		name := "user" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		all = append(all, name)
		many.WriteString("@" + name + " ")
	}
	if got := Mentions(many.String(), all); len(got) != MaxMentions {
		t.Fatalf("%d mentions, want %d", len(got), MaxMentions)
	}
}

func TestExcerpt(t *testing.T) {
	for in, want := range map[string]string{
		"hello":                  "hello",
		"  two\n\nlines\t ":      "two lines",
		"\x00ctl\x07":            "ctl",
		strings.Repeat("é", 200): strings.Repeat("é", ExcerptRunes) + "…",
	} {
		if got := Excerpt(in); got != want {
			t.Errorf("Excerpt(%q) = %q, want %q", in, got, want)
		}
	}
	long := Excerpt(strings.Repeat("😀 ", 500))
	r := Reply{Text: "x", Quote: Quote{Ref: Ref{From: "bob", ID: idA}, Kind: KindText, Excerpt: long}}
	if err := r.Validate(); err != nil {
		t.Fatalf("an excerpt Excerpt made is refused: %v", err)
	}
}
