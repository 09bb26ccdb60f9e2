package history

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on search text, so a query stays cheap to plan and run.
const (
	MaxSearchText  = 1024 // bytes
	MaxSearchTerms = 16
)

// minTrigram is the shortest term the trigram index can find; shorter
// terms are matched by scanning.
const minTrigram = 3

// Search returns up to limit messages, newest first, whose body contains
// every word of text (words are separated by white space), in conversation
// conv or, if conv is "", in all conversations. Matching ignores case and
// diacritics and finds a word anywhere, also inside longer words, so it
// works the same for emoji and for scripts written without spaces.
//
// text is the user's, taken literally: each word is quoted as an FTS5
// phrase, so FTS5 operators in it ("AND", "NEAR(", "*", "-", quotes,
// parentheses) are searched for as text and can never make a syntax
// error. Words shorter than three characters, which the trigram index
// cannot look up, are matched by a scan (case-insensitive for ASCII
// only). Blank text finds nothing; text longer than MaxSearchText bytes or
// with more than MaxSearchTerms words is ErrInvalid. No messages if limit
// <= 0.
func (s *Store) Search(ctx context.Context, text, conv string, limit int) ([]Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	if len(text) > MaxSearchText {
		return nil, fmt.Errorf("search: %w", invalid("text longer than %d bytes", MaxSearchText))
	}
	terms := searchTerms(text)
	if len(terms) > MaxSearchTerms {
		return nil, fmt.Errorf("search: %w", invalid("more than %d words", MaxSearchTerms))
	}
	if len(terms) == 0 {
		return nil, nil
	}
	var (
		conds  []string
		args   []any
		phrase []string
	)
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= minTrigram {
			phrase = append(phrase, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
			continue
		}
		conds = append(conds, `m.body LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscaper.Replace(t)+"%")
	}
	if len(phrase) > 0 {
		// Phrases side by side must all match (FTS5's implicit AND).
		conds = append([]string{`m.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)`}, conds...)
		args = append([]any{strings.Join(phrase, " ")}, args...)
	}
	if conv != "" {
		conds = append(conds, `m.conversation = ?`)
		args = append(args, conv)
	}
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, `SELECT `+msgCols+` FROM messages m
		WHERE `+strings.Join(conds, " AND ")+`
		ORDER BY m.seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
}

// likeEscaper escapes LIKE's wildcards and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchTerms splits search text into its distinct words. White space,
// control characters (NUL among them, which would cut an FTS5 query
// short) and invalid UTF-8 all separate words.
func searchTerms(text string) []string {
	text = strings.ToValidUTF8(text, " ")
	words := strings.FieldsFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	seen := make(map[string]bool, len(words))
	out := words[:0]
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
