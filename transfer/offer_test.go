package transfer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/transfer/checkpoint"
)

func TestNewOffer(t *testing.T) {
	dir := t.TempDir()
	randomFile(t, filepath.Join(dir, "tree", "b.txt"), 10)
	randomFile(t, filepath.Join(dir, "tree", "a", "c.txt"), 20)
	randomFile(t, filepath.Join(dir, "single.bin"), 30)
	os.Symlink("b.txt", filepath.Join(dir, "tree", "link"))
	os.Symlink("single.bin", filepath.Join(dir, "toplink"))

	o, err := NewOffer(filepath.Join(dir, "tree"), filepath.Join(dir, "single.bin"), filepath.Join(dir, "toplink"))
	if err != nil {
		t.Fatal(err)
	}
	if !checkpoint.ValidID(o.ID) || o.ChunkSize != ChunkSize {
		t.Errorf("id %q, chunk size %d", o.ID, o.ChunkSize)
	}
	var got []string
	for _, e := range o.Entries {
		s := e.Path
		if e.Dir {
			s += "/"
		}
		got = append(got, s)
	}
	want := "tree/ tree/a/ tree/a/c.txt tree/b.txt single.bin"
	if strings.Join(got, " ") != want {
		t.Errorf("entries %q, want %q", got, want)
	}
	if o.Total() != 60 || o.Files() != 3 {
		t.Errorf("total %d, files %d", o.Total(), o.Files())
	}
	if len(o.Skipped) != 2 || o.Skipped[0].Path != filepath.Join(dir, "tree", "link") || o.Skipped[1].Path != filepath.Join(dir, "toplink") {
		t.Errorf("skipped %+v", o.Skipped)
	}
	if o.Entries[3].Mode != 0o644 || o.Entries[0].Mode&0o700 != 0o700 {
		t.Errorf("modes %o %o", o.Entries[3].Mode, o.Entries[0].Mode)
	}

	if _, err := NewOffer(filepath.Join(dir, "missing")); err == nil {
		t.Error("offer of a missing path")
	}
	if _, err := NewOffer(filepath.Join(dir, "toplink")); err == nil {
		t.Error("offer of nothing but a link")
	}
}

func TestDecodeOffer(t *testing.T) {
	id := NewID()
	good := func(entries string) string {
		return `{"version":` + strconv.Itoa(Version) + `,"id":"` + id + `","chunk_size":1048576,"entries":[` + entries + `]}`
	}
	o, err := DecodeOffer([]byte(good(`{"path":"../a/./b","size":5,"mode":4095,"mtime":7},{"path":"d","size":0,"mode":493,"mtime":0,"dir":true}`)))
	if err != nil {
		t.Fatal(err)
	}
	if o.Entries[0].Path != "a/b" || o.Entries[0].Mode != 0o777 || !o.Entries[1].Dir || o.Total() != 5 {
		t.Errorf("decoded %+v", o)
	}
	// Encoding and decoding again gives the same offer.
	b, _ := json.Marshal(offerBody{Offer: o, Version: Version})
	o2, err := DecodeOffer(b)
	if err != nil || o2.Entries[0] != o.Entries[0] || o2.ID != o.ID {
		t.Errorf("round trip: %+v, %v", o2, err)
	}

	many := strings.Repeat(`{"path":"a","size":1,"mode":0,"mtime":0},`, MaxEntries)
	for name, body := range map[string]string{
		"not JSON":           `{`,
		"trailing data":      good(`{"path":"a","size":1,"mode":0,"mtime":0}`) + `{}`,
		"unknown field":      good(`{"path":"a","size":1,"mode":0,"mtime":0,"owner":"root"}`),
		"upper-case id":      strings.Replace(good(`{"path":"a","size":1,"mode":0,"mtime":0}`), id, strings.ToUpper(id), 1),
		"chunk size 3 MiB":   strings.Replace(good(`{"path":"a","size":1,"mode":0,"mtime":0}`), "1048576", "3145728", 1),
		"chunk size 8 MiB":   strings.Replace(good(`{"path":"a","size":1,"mode":0,"mtime":0}`), "1048576", "8388608", 1),
		"no entries":         good(``),
		"too many entries":   good(many + `{"path":"a","size":1,"mode":0,"mtime":0}`),
		"negative size":      good(`{"path":"a","size":-5,"mode":0,"mtime":0}`),
		"folder with a size": good(`{"path":"a","size":5,"mode":0,"mtime":0,"dir":true}`),
		"too big in all":     good(`{"path":"a","size":4398046511104,"mode":0,"mtime":0},{"path":"b","size":1,"mode":0,"mtime":0}`),
		"overflowing sizes":  good(`{"path":"a","size":9223372036854775807,"mode":0,"mtime":0},{"path":"b","size":9223372036854775807,"mode":0,"mtime":0}`),
		"empty path":         good(`{"path":"","size":1,"mode":0,"mtime":0}`),
		"dot-dot path":       good(`{"path":"../..","size":1,"mode":0,"mtime":0}`),
	} {
		if _, err := DecodeOffer([]byte(body)); !errors.Is(err, ErrInvalidOffer) {
			t.Errorf("%s: %v, want ErrInvalidOffer", name, err)
		}
	}
}
