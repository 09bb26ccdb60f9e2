package content

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// FuzzDecode feeds arbitrary kinds and bodies to Decode. It must not
// panic, must refuse only with the package's errors, and whatever it
// accepts must encode and decode again to the same value.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		it, err := Decode(kind, body)
		if err != nil {
			for _, want := range []error{ErrUnknownKind, ErrMalformed, ErrInvalid, ErrTooLarge} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		k, enc, err := Encode(it)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return // a body the sender escaped less than encoding/json does
			}
			t.Fatalf("accepted %q body does not encode: %v", kind, err)
		}
		again, err := Decode(k, enc)
		if err != nil {
			t.Fatalf("re-encoded body refused: %v", err)
		}
		if !reflect.DeepEqual(again, it) {
			t.Fatalf("round trip changed the value:\n%#v\n%#v", it, again)
		}
	})
}

// FuzzMentions feeds arbitrary texts to Mentions: it must not panic, and
// must return only members, each once, at most MaxMentions.
func FuzzMentions(f *testing.F) {
	members := []string{"bob", "bob.smith", "carol", "d-e"}
	f.Fuzz(func(t *testing.T, text string) {
		got := Mentions(text, members)
		if len(got) > MaxMentions {
			t.Fatalf("%d mentions", len(got))
		}
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m] {
				t.Fatalf("%q twice", m)
			}
			seen[m] = true
			found := false
			for _, x := range members {
				found = found || x == m
			}
			if !found {
				t.Fatalf("%q is not a member", m)
			}
		}
	})
}

// TestWriteSeeds writes the seed corpora with -update-seeds.
func TestWriteSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(dir, name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, it := range samples() {
		kind, body, err := Encode(it)
		if err != nil {
			t.Fatal(err)
		}
		write(dir, name, fmt.Sprintf("go test fuzz v1\nstring(%q)\n[]byte(%q)\n", kind, body))
	}
	for name, kb := range map[string][2]string{
		"unknown-field": {KindRecall, `{"to":"` + idA + `","x":1}`},
		"trailing":      {KindTyping, `{"active":true} {}`},
		"unknown-kind":  {"sticker", `{}`},
		"not-json":      {KindRead, `ids`},
	} {
		write(dir, name, fmt.Sprintf("go test fuzz v1\nstring(%q)\n[]byte(%q)\n", kb[0], kb[1]))
	}
	mdir := filepath.Join("testdata", "fuzz", "FuzzMentions")
	if err := os.MkdirAll(mdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"sentence": "hi @Bob, ask @bob.smith. and @carol...",
		"email":    "bob@carol.example @",
		"empty":    "",
	} {
		write(mdir, name, fmt.Sprintf("go test fuzz v1\nstring(%q)\n", text))
	}
}
