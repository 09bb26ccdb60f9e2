package content

import (
	"errors"
	"strings"
	"testing"
)

// TestShareBounds checks that a listing item out of any bound is refused
// as invalid, and that the bounds themselves are accepted.
func TestShareBounds(t *testing.T) {
	ok := Share{ID: idA, Path: "report.pdf", Size: 10, SHA256: hash}
	deep := strings.TrimSuffix(strings.Repeat("d/", MaxShareDepth), "/")
	long := strings.Repeat(strings.Repeat("a", MaxName-1)+"/", 4)
	long += strings.Repeat("b", MaxSharePath-len(long))
	for name, c := range map[string]struct {
		edit func(*Share)
		ok   bool
	}{
		"plain":         {func(*Share) {}, true},
		"empty file":    {func(s *Share) { s.Size = 0 }, true},
		"largest":       {func(s *Share) { s.Size = MaxFileSize }, true},
		"deepest":       {func(s *Share) { s.Path = deep }, true},
		"longest":       {func(s *Share) { s.Path = long }, true},
		"folder":        {func(s *Share) { s.Path, s.Folder = "photos/a.jpg", true }, true},
		"too large":     {func(s *Share) { s.Size = MaxFileSize + 1 }, false},
		"negative":      {func(s *Share) { s.Size = -1 }, false},
		"too deep":      {func(s *Share) { s.Path = deep + "/d" }, false},
		"too long":      {func(s *Share) { s.Path = long + "d" }, false},
		"long element":  {func(s *Share) { s.Path = strings.Repeat("a", MaxName+1) }, false},
		"empty path":    {func(s *Share) { s.Path = "" }, false},
		"absolute":      {func(s *Share) { s.Path = "/etc/passwd" }, false},
		"dot dot":       {func(s *Share) { s.Path = "a/../../b" }, false},
		"dot":           {func(s *Share) { s.Path = "./a" }, false},
		"trailing":      {func(s *Share) { s.Path = "a/" }, false},
		"backslash":     {func(s *Share) { s.Path = `a\b` }, false},
		"control":       {func(s *Share) { s.Path = "a\nb" }, false},
		"not utf-8":     {func(s *Share) { s.Path = "a\xffb" }, false},
		"folder alone":  {func(s *Share) { s.Folder = true }, false},
		"bad id":        {func(s *Share) { s.ID = "ABC" }, false},
		"upper hash":    {func(s *Share) { s.SHA256 = strings.ToUpper(hash) }, false},
		"short hash":    {func(s *Share) { s.SHA256 = hash[:62] }, false},
		"missing hash":  {func(s *Share) { s.SHA256 = "" }, false},
		"id with space": {func(s *Share) { s.ID = " " + idA[1:] }, false},
	} {
		s := ok
		c.edit(&s)
		err := s.Validate()
		if c.ok && err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
		if !c.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	for _, it := range []Item{Unshare{ID: "x"}, Holder{ID: ""}} {
		if err := it.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%#v: got %v, want ErrInvalid", it, err)
		}
	}
}

// TestShareDecodeStrict checks that a listing body with an unknown
// field, or of the wrong shape, is refused.
func TestShareDecodeStrict(t *testing.T) {
	for name, c := range map[string][2]string{
		"unknown field": {KindShare, `{"id":"` + idA + `","path":"a","size":1,"sha256":"` + hash + `","owner":"eve"}`},
		"string size":   {KindShare, `{"id":"` + idA + `","path":"a","size":"1","sha256":"` + hash + `"}`},
		"holder array":  {KindHolder, `[]`},
		"unshare extra": {KindUnshare, `{"id":"` + idA + `"} {}`},
	} {
		if _, err := Decode(c[0], []byte(c[1])); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}
