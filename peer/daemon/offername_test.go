package daemon

import (
	"testing"

	"github.com/lanchat/lanchat/transfer"
)

// A transfer's name is the picked name, a lone folder marked with a
// slash, or the first pick and a count with no slash before the words.
func TestOfferName(t *testing.T) {
	dir := func(p string) transfer.Entry { return transfer.Entry{Path: p, Dir: true} }
	file := func(p string) transfer.Entry { return transfer.Entry{Path: p, Size: 1} }
	for _, c := range []struct {
		want    string
		entries []transfer.Entry
	}{
		{"", nil},
		{"q3.pdf", []transfer.Entry{file("q3.pdf")}},
		{"folderx/", []transfer.Entry{dir("folderx"), file("folderx/a.txt")}},
		{"folderx/", []transfer.Entry{dir("folderx")}},
		{"folderx and 1 more", []transfer.Entry{dir("folderx"), file("folderx/a.txt"), file("b.txt")}},
		{"b.txt and 1 more", []transfer.Entry{file("b.txt"), dir("folderx"), file("folderx/a.txt")}},
		{"folderx and 2 more", []transfer.Entry{dir("folderx"), dir("folderx/sub"), file("folderx/sub/c"), dir("y"), file("z")}},
	} {
		if got := offerName(&transfer.Offer{Entries: c.entries}); got != c.want {
			t.Errorf("offerName(%v) = %q, want %q", c.entries, got, c.want)
		}
	}
}
