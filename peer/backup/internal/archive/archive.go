// Package archive is the plaintext inside a backup file: a tar stream
// (archive/tar) of named files, the manifest first, then the data
// directory's files a backup carries. Pack writes one; Unpack reads one
// from untrusted bytes into an empty directory, checking names, types,
// sizes and the manifest. It knows nothing of encryption (package backup
// wraps the stream in age) or of the files' contents.
package archive

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lanchat/lanchat/peer/home"
)

// Version is the format of the manifest and the set of files it names.
// There is one version; an archive of another is refused.
const Version = 1

// ManifestName is the first file of the tar stream.
const ManifestName = "lanchat-backup.json"

// Manifest describes a backup.
type Manifest struct {
	Version int `json:"version"`
	// User is the account the identity key belongs to.
	User string `json:"user"`
	// IdentityKey is the public half of the identity key, in hex (32
	// bytes); a restore checks it against identity.key.
	IdentityKey string    `json:"identity_key"`
	Created     time.Time `json:"created"`
}

// Check validates a manifest.
func (m Manifest) Check() error {
	switch {
	case m.Version != Version:
		return fmt.Errorf("backup format version %d; this lanchat reads version %d", m.Version, Version)
	case m.User == "" || len(m.User) > 64:
		return errors.New("manifest: no valid user")
	case m.Created.IsZero():
		return errors.New("manifest: no creation time")
	}
	if b, err := hex.DecodeString(m.IdentityKey); err != nil || len(b) != 32 {
		return errors.New("manifest: no valid identity key")
	}
	return nil
}

// Bounds on what Unpack takes from a tar stream. The manifest and the
// small files are a few hundred bytes. The history database has no bound
// but the disk: it is written as it arrives, never held in memory.
const (
	maxSmall = 64 << 10
	// maxTrailer bounds what may follow the tar stream's end marker
	// (archive/tar writes none; other writers pad to 10 KiB records).
	maxTrailer = 64 << 10
)

// Member is one file of the archive, named as in the data directory.
type Member struct {
	Name string
	Data []byte // a small file
	Path string // or a file on disk (the history snapshot)
}

// Pack writes the archive: the manifest, then each member.
func Pack(w io.Writer, m Manifest, members []Member) error {
	tw := tar.NewWriter(w)
	man, err := json.Marshal(m)
	if err != nil {
		return err
	}
	all := append([]Member{{Name: ManifestName, Data: man}}, members...)
	for _, f := range all {
		if err := packOne(tw, f, m.Created); err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
	}
	return tw.Close()
}

func packOne(tw *tar.Writer, f Member, mtime time.Time) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     f.Name,
		Mode:     0o600,
		ModTime:  mtime.Truncate(time.Second),
		Format:   tar.FormatPAX,
	}
	if f.Path == "" {
		hdr.Size = int64(len(f.Data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(f.Data)
		return err
	}
	src, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	hdr.Size = fi.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	// The snapshot is a private copy: nothing changes its size meanwhile.
	_, err = io.CopyN(tw, src, hdr.Size)
	return err
}

// ErrFormat marks a stream that is not a backup's archive: a wrong
// manifest, an unexpected, doubled, missing or oversized file. Other
// errors are errors reading the stream.
var ErrFormat = errors.New("not a lanchat backup")

// Unpack reads the archive from r: the manifest (first, checked before
// anything else is read), then the files a backup holds, each at most
// once, regular files only, each handed to create (which must make a new
// file) as it is read, never held in memory. It reads r to its end, so
// that a stream that authenticates at its end (age) has been verified
// when Unpack returns nil. It does not check the files' contents: a
// restore checks them before it installs them.
func Unpack(r io.Reader, create func(name string) (io.WriteCloser, error)) (Manifest, error) {
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return Manifest{}, fmt.Errorf("read the manifest: %w", eofIsDamage(err))
	}
	if hdr.Name != ManifestName || hdr.Typeflag != tar.TypeReg || hdr.Size > maxSmall {
		return Manifest{}, fmt.Errorf("%w: the archive does not start with %s", ErrFormat, ManifestName)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return Manifest{}, fmt.Errorf("read the manifest: %w", eofIsDamage(err))
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: manifest: %v", ErrFormat, err)
	}
	if err := m.Check(); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrFormat, err)
	}

	allowed := map[string]int64{home.HistoryName: -1}
	for _, name := range home.CarriedFiles() {
		allowed[name] = maxSmall
	}
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("read the archive: %w", eofIsDamage(err))
		}
		limit, ok := allowed[hdr.Name]
		switch {
		case !ok:
			return Manifest{}, fmt.Errorf("%w: unexpected file %q", ErrFormat, hdr.Name)
		case seen[hdr.Name]:
			return Manifest{}, fmt.Errorf("%w: %s twice", ErrFormat, hdr.Name)
		case hdr.Typeflag != tar.TypeReg:
			return Manifest{}, fmt.Errorf("%w: %s is not a regular file", ErrFormat, hdr.Name)
		case hdr.Size < 0 || (limit >= 0 && hdr.Size > limit):
			return Manifest{}, fmt.Errorf("%w: %s is %d bytes", ErrFormat, hdr.Name, hdr.Size)
		}
		seen[hdr.Name] = true
		if err := copyOut(create, hdr.Name, tr, hdr.Size); err != nil {
			return Manifest{}, fmt.Errorf("unpack %s: %w", hdr.Name, err)
		}
	}
	for name := range allowed {
		if !seen[name] && (name == home.HistoryName || home.Required(name)) {
			return Manifest{}, fmt.Errorf("%w: %s is missing", ErrFormat, name)
		}
	}
	// Read to the end: a stream cut after the tar end marker, or one
	// with something appended, fails here.
	n, err := io.Copy(io.Discard, io.LimitReader(r, maxTrailer+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("read the end: %w", eofIsDamage(err))
	}
	if n > maxTrailer {
		return Manifest{}, fmt.Errorf("%w: data after the archive's end", ErrFormat)
	}
	return m, nil
}

// copyOut copies exactly size bytes of r into a new file made by create.
func copyOut(create func(string) (io.WriteCloser, error), name string, r io.Reader, size int64) error {
	w, err := create(name)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(w, r, size); err != nil {
		w.Close()
		return eofIsDamage(err)
	}
	return w.Close()
}

// CreateIn returns a create function for Unpack that makes each file in
// dir, new, with mode 0600. It does not sync them: what is installed is
// synced then (home.Install).
func CreateIn(dir string) func(name string) (io.WriteCloser, error) {
	return func(name string) (io.WriteCloser, error) {
		return os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
}

// eofIsDamage turns an end of stream in the middle of the archive into
// io.ErrUnexpectedEOF: the file was cut short.
func eofIsDamage(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
