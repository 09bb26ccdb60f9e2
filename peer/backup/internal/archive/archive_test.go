package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// entry is one file of a hand-made archive.
type entry struct {
	name string
	typ  byte
	body string
}

// tarOf makes a tar stream of entries; a nil error means it was written.
func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o600, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		} else if typ == tar.TypeSymlink {
			hdr.Linkname = e.body
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func manifestJSON(t testing.TB, m Manifest) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var testManifest = Manifest{Version: Version, User: "alice", IdentityKey: strings.Repeat("ab", 32), Created: time.Unix(1700000000, 0).UTC()}

// goodEntries is a well-formed archive's entries (contents unchecked by
// unpack).
func goodEntries(t testing.TB) []entry {
	return []entry{
		{name: ManifestName, body: manifestJSON(t, testManifest)},
		{name: "server.json", body: `{"addr":"10.0.0.1:7777","fingerprint":"ab"}`},
		{name: "account.json", body: `{"user":"alice"}`},
		{name: "identity.key", body: "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"},
		{name: "history.db", body: "SQLite format 3\x00"},
	}
}

func TestUnpack(t *testing.T) {
	dir := t.TempDir()
	m, err := Unpack(bytes.NewReader(tarOf(t, goodEntries(t)...)), CreateIn(dir))
	mustNil(t, err)
	if m != testManifest {
		t.Errorf("manifest %+v", m)
	}
	for _, e := range goodEntries(t)[1:] {
		b, err := os.ReadFile(filepath.Join(dir, e.name))
		mustNil(t, err)
		if string(b) != e.body {
			t.Errorf("%s = %q", e.name, b)
		}
	}
	// server.json may be missing.
	es := goodEntries(t)
	_, err = Unpack(bytes.NewReader(tarOf(t, append(es[:1:1], es[2:]...)...)), CreateIn(t.TempDir()))
	mustNil(t, err)
}

func TestUnpackRefuses(t *testing.T) {
	good := goodEntries(t)
	with := func(f func([]entry) []entry) []entry {
		return f(append([]entry(nil), good...))
	}
	bigger := testManifest
	bigger.Version = Version + 1
	cases := []struct {
		name    string
		entries []entry
		extra   []byte // appended after the archive
		format  bool   // ErrFormat expected (else any error)
	}{
		{name: "manifest not first", entries: with(func(es []entry) []entry { es[0], es[1] = es[1], es[0]; return es }), format: true},
		{name: "newer version", entries: with(func(es []entry) []entry {
			es[0].body = manifestJSON(t, bigger)
			return es
		}), format: true},
		{name: "unknown manifest field", entries: with(func(es []entry) []entry {
			es[0].body = strings.Replace(es[0].body, "{", `{"extra":1,`, 1)
			return es
		}), format: true},
		{name: "bad key in manifest", entries: with(func(es []entry) []entry {
			es[0].body = strings.Replace(es[0].body, "abab", "zz", 1)
			return es
		}), format: true},
		{name: "unknown file", entries: with(func(es []entry) []entry { return append(es, entry{name: "session.json", body: "{}"}) }), format: true},
		{name: "path", entries: with(func(es []entry) []entry { return append(es, entry{name: "../identity.key", body: "x"}) }), format: true},
		{name: "twice", entries: with(func(es []entry) []entry { return append(es, es[3]) }), format: true},
		{name: "symlink", entries: with(func(es []entry) []entry {
			es[3] = entry{name: "identity.key", typ: tar.TypeSymlink, body: "/etc/passwd"}
			return es
		}), format: true},
		{name: "directory", entries: with(func(es []entry) []entry {
			es[4] = entry{name: "history.db", typ: tar.TypeDir}
			return es
		}), format: true},
		{name: "no history", entries: with(func(es []entry) []entry { return es[:4] }), format: true},
		{name: "no identity", entries: with(func(es []entry) []entry { return append(es[:3], es[4]) }), format: true},
		{name: "no account", entries: with(func(es []entry) []entry { return append(es[:2], es[3:]...) }), format: true},
		{name: "big small file", entries: with(func(es []entry) []entry {
			es[2].body = strings.Repeat(" ", maxSmall+1)
			return es
		}), format: true},
		{name: "trailing data", entries: good, extra: bytes.Repeat([]byte{1}, maxTrailer+1), format: true},
		{name: "empty", entries: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tarOf(t, tc.entries...)
			data = append(data, tc.extra...)
			_, err := Unpack(bytes.NewReader(data), memFiles{}.create)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.format != errors.Is(err, ErrFormat) {
				t.Errorf("err = %v; ErrFormat expected: %v", err, tc.format)
			}
		})
	}
	// Cut inside an entry: an error. (archive/tar takes a stream that
	// ends between entries without its end marker; age's authenticated
	// end is what catches a backup cut there.)
	data := tarOf(t, good...)
	for _, n := range []int{0, 100, 512, 1500, bytes.Index(data, []byte("SQLite")) + 5} {
		if _, err := Unpack(bytes.NewReader(data[:n]), memFiles{}.create); err == nil {
			t.Errorf("cut at %d of %d: accepted", n, len(data))
		}
	}
}

// memFiles is an in-memory create for Unpack: the fuzz target does no
// disk I/O.
type memFiles map[string]*bytes.Buffer

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }

func (fs memFiles) create(name string) (io.WriteCloser, error) {
	if fs[name] != nil {
		return nil, errors.New("exists: " + name)
	}
	b := new(bytes.Buffer)
	fs[name] = b
	return nopCloser{b}, nil
}

// FuzzUnpack feeds arbitrary archives to Unpack. It must never panic, and
// what it accepts has a valid manifest and the files a backup holds (each
// once, none larger than the input), and nothing else.
func FuzzUnpack(f *testing.F) {
	f.Add(tarOf(f, goodEntries(f)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		files := memFiles{}
		m, err := Unpack(bytes.NewReader(in), files.create)
		if err != nil {
			return
		}
		if err := m.Check(); err != nil {
			t.Fatalf("accepted a bad manifest: %v", err)
		}
		allowed := map[string]bool{"server.json": true, "account.json": true, "identity.key": true, "history.db": true}
		for name, b := range files {
			if !allowed[name] || b.Len() > len(in) {
				t.Fatalf("unpacked %s, %d bytes", name, b.Len())
			}
		}
		for _, name := range []string{"account.json", "identity.key", "history.db"} {
			if files[name] == nil {
				t.Fatalf("accepted without %s", name)
			}
		}
	})
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
