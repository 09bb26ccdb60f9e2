package history

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// searchCorpus is stored by seedSearch: message n+1 has body n.
var searchCorpus = []string{
	"first line\nsecond line about pizza\nthird line",                // 1
	"party tonight 🎉🎉 bring 🍕 and friends",                           // 2
	"Crème Brûlée for dessert",                                       // 3
	"明天的会议室在三楼",                                                      // 4
	`he said "hi" (really) - 50% off_sale * NEAR(x) AND 'quoted'`,    // 5
	"Pizza again? PIZZA!",                                            // 6
	"nothing to see",                                                 // 7
	"C:\\path\\to\\file and a_b",                                     // 8
	"NEAR it: col:body ^start {braces} [brackets] a+b a|b ~tilde $$", // 9
}

// seedSearch stores searchCorpus: messages 1–5 from alice, 6–9 in the
// group, each a minute newer than the last.
func seedSearch(t testing.TB, s *Store) {
	t.Helper()
	for i, body := range searchCorpus {
		m := in(i+1, "alice", body, time.Duration(i)*time.Minute)
		if i >= 5 {
			m.From = "bob"
			m.Conversation = Group(gid)
		}
		addIn(t, s, m)
	}
}

func search(t *testing.T, s *Store, text, conv string) []int {
	t.Helper()
	ms, err := s.Search(context.Background(), text, conv, 100)
	if err != nil {
		t.Fatalf("Search(%q, %q): %v", text, conv, err)
	}
	var ns []int
	for _, m := range ms {
		for n := 1; n <= len(searchCorpus); n++ {
			if m.ID == id(n) {
				ns = append(ns, n)
			}
		}
	}
	return ns
}

func TestSearch(t *testing.T) {
	s, _ := openTest(t)
	seedSearch(t, s)
	for _, c := range []struct {
		text, conv string
		want       []int // newest first
	}{
		{"pizza", "", []int{6, 1}},
		{"PIZZA", "", []int{6, 1}},
		{"pizza", Direct("alice"), []int{1}},
		{"pizza", Group(gid), []int{6}},
		{"pizza", Direct("bob"), nil},
		{"second pizza", "", []int{1}},               // words on one line, any order
		{"first third", "", []int{1}},                // words on different lines
		{"line\nabout", "", []int{1}},                // white space in the query separates words
		{"izz", "", []int{6, 1}},                     // inside a word
		{"ond line", "", []int{1}},                   // two words
		{"tonight", "", []int{2}},                    // word in emoji text
		{"🎉", "", []int{2}},                          // one emoji: a scan
		{"🎉🎉", "", []int{2}},                         // two: a scan
		{"🎉🎉 bring", "", []int{2}},                   // emoji with a word
		{"🍕", "", []int{2}},                          // another emoji
		{"creme brulee", "", []int{3}},               // diacritics ignored
		{"CRÈME", "", []int{3}},                      // case ignored
		{"会议室", "", []int{4}},                        // no spaces in the script
		{"三楼", "", []int{4}},                         // short CJK word: a scan
		{"pizza nothing", "", nil},                   // all words must match
		{"absent", "", nil},                          // no match
		{`"hi"`, "", []int{5}},                       // quotes are text
		{`(really)`, "", []int{5}},                   // parentheses are text
		{`NEAR(x)`, "", []int{5}},                    // so is NEAR(
		{`off_sale`, "", []int{5}},                   // underscore, indexed
		{`50%`, "", []int{5}},                        // percent
		{`5%`, "", nil},                              // % is not a wildcard
		{`_`, "", []int{8, 5}},                       // nor is _
		{`a_b`, "", []int{8}},                        //
		{`'quoted'`, "", []int{5}},                   // single quotes
		{`C:\path`, "", []int{8}},                    // backslashes
		{`\`, "", []int{8}},                          // a lone backslash: a scan
		{"col:body", "", []int{9}},                   // column filter syntax is text
		{"^start", "", []int{9}},                     // initial-token syntax is text
		{"{braces} [brackets]", "", []int{9}},        //
		{"NEAR", "", []int{9, 5}},                    // NEAR alone
		{"AND", "", []int{8, 5, 2}},                  // and AND (the word, any case)
		{"said AND really", "", []int{5}},            // AND as a word to find
		{"pizza OR party", "", nil},                  // OR is a word too, not an operator
		{"* -", "", []int{5}},                        // operators alone
		{"", "", nil},                                // blank
		{"   \n\t ", "", nil},                        // blank
		{"\x00pizza\x00", "", []int{6, 1}},           // NUL separates words
		{"pi\xffzza", "", []int{6, 1}},               // invalid UTF-8 separates: "pi" and "zza"
		{"pizza pizza pizza", "", []int{6, 1}},       // repeated words count once
		{`"`, "", []int{5}},                          // unbalanced quote
		{`""""`, "", nil},                            // only quotes: no body has four in a row
		{`(`, "", []int{5}},                          // unbalanced parenthesis
		{`)))`, "", nil},                             //
		{`NEAR(pizza party, 5)`, "", nil},            // would be a NEAR group
		{`pizza*`, "", nil},                          // would be a prefix query
		{`-pizza`, "", nil},                          // would be NOT
		{`+`, "", []int{9}},                          //
		{`$$`, "", []int{9}},                         //
		{strings.Repeat("x", 300), "", nil},          // long word
		{"a b c d e f g h i j k l m n o p", "", nil}, // MaxSearchTerms words
	} {
		got := search(t, s, c.text, c.conv)
		if !slices.Equal(got, c.want) {
			t.Errorf("Search(%q, %q) = %v, want %v", c.text, c.conv, got, c.want)
		}
	}
}

func TestSearchLimitsAndErrors(t *testing.T) {
	s, _ := openTest(t)
	seedSearch(t, s)
	ctx := context.Background()
	ms, err := s.Search(ctx, "line", "", 1)
	mustNil(t, err)
	if len(ms) != 1 || ms[0].ID != id(1) || ms[0].Body != searchCorpus[0] {
		t.Errorf("limit 1 = %+v", ms)
	}
	if ms, err := s.Search(ctx, "line", "", 0); err != nil || ms != nil {
		t.Errorf("limit 0 = %v, %v", ms, err)
	}
	_, err = s.Search(ctx, strings.Repeat("x", MaxSearchText+1), "", 10)
	wantErr(t, err, ErrInvalid)
	_, err = s.Search(ctx, strings.Repeat("w ", MaxSearchTerms+1), "", 10)
	if err != nil {
		t.Errorf("repeated word counted more than once: %v", err)
	}
	_, err = s.Search(ctx, "a b c d e f g h i j k l m n o p q", "", 10)
	wantErr(t, err, ErrInvalid)
}

// TestFTSInSync checks the full-text index against its content table.
func TestFTSInSync(t *testing.T) {
	s, _ := openTest(t)
	seedSearch(t, s)
	addOut(t, s, out(100, Direct("alice"), "outgoing pizza", time.Hour), "alice")
	_, err := s.w.Exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`)
	mustNil(t, err)
	// The triggers keep the index right if rows ever change or go.
	_, err = s.w.Exec(`UPDATE messages SET body = 'edited calzone' WHERE id = ?`, id(1))
	mustNil(t, err)
	_, err = s.w.Exec(`DELETE FROM messages WHERE id = ?`, id(6))
	mustNil(t, err)
	_, err = s.w.Exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`)
	mustNil(t, err)
	if got := search(t, s, "pizza", ""); len(got) != 0 { // 100 is outside the corpus numbering
		t.Errorf("pizza = %v", got)
	}
	if got := search(t, s, "calzone", ""); !slices.Equal(got, []int{1}) {
		t.Errorf("calzone = %v", got)
	}
	ms, err := s.Search(context.Background(), "pizza", "", 10)
	mustNil(t, err)
	if len(ms) != 1 || ms[0].ID != id(100) || !ms[0].Outgoing {
		t.Errorf("pizza = %+v", ms)
	}
}

// FuzzSearch runs arbitrary text as a search query. It must never panic
// and never fail except with ErrInvalid (too long, too many words): no SQL
// or FTS5 syntax error can come from user text.
func FuzzSearch(f *testing.F) {
	s, _ := openTest(f)
	seedSearch(f, s)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, text string) {
		for _, conv := range []string{"", Direct("alice"), "x:'\""} {
			ms, err := s.Search(ctx, text, conv, 5)
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Search(%q, %q): %v", text, conv, err)
				}
				return
			}
			if len(ms) > 5 {
				t.Fatalf("Search(%q): %d results over the limit", text, len(ms))
			}
			for _, m := range ms {
				if conv != "" && m.Conversation != conv {
					t.Fatalf("Search(%q, %q) returned a message of %s", text, conv, m.Conversation)
				}
			}
		}
		// For printable ASCII text, compare with a plain substring search
		// over the bodies that are ASCII too (where case folding is simple
		// and there are no diacritics to remove).
		if !isPlainASCII(text) {
			return
		}
		terms := searchTerms(text)
		ms, err := s.Search(ctx, text, "", 100)
		if err != nil || len(terms) == 0 {
			return
		}
		got := make(map[string]bool)
		for _, m := range ms {
			got[m.ID] = true
		}
		for i, body := range searchCorpus {
			if !isPlainASCII(strings.ReplaceAll(body, "\n", " ")) {
				continue
			}
			want := true
			for _, term := range terms {
				want = want && strings.Contains(strings.ToLower(body), strings.ToLower(term))
			}
			if got[id(i+1)] != want {
				t.Fatalf("Search(%q) found %q: %v, want %v", text, body, got[id(i+1)], want)
			}
		}
	})
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
