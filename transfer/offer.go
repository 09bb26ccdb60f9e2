package transfer

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// Limits on what one offer may ask of a receiver.
const (
	// MaxEntries bounds the files and folders of one offer.
	MaxEntries = checkpoint.MaxEntries
	// MaxTotalSize bounds the bytes of one offer (4 TiB).
	MaxTotalSize int64 = 1 << 42
	// ChunkSize is the chunk size senders use: each chunk of a file is
	// hashed on its own, and resume offsets are multiples of it.
	ChunkSize = 1 << 20
	// MinChunkSize and MaxChunkSize bound the chunk size an offer may
	// name; it must also be a power of two.
	MinChunkSize = 16 << 10
	MaxChunkSize = 4 << 20
)

// Offer is what a sender proposes: a transfer id and the entries (files
// and folders) it will send. It is the body of the transfer.offer frame;
// see docs/protocol.md.
type Offer struct {
	// ID names the transfer: 32 lower-case hex digits (128 random bits).
	// A sender that resumes after a restart rebuilds the offer with
	// NewOffer and sets ID back to the id it used before.
	ID string `json:"id"`
	// ChunkSize is the size of the hashed chunks data is sent in.
	ChunkSize int `json:"chunk_size"`
	// Entries lists folders before their contents. Paths are relative and
	// slash-separated; the first segment is the name the user picked.
	Entries []Entry `json:"entries"`

	// Skipped lists what NewOffer left out (symbolic links, devices,
	// unreadable folders), for the user interface. It is not sent.
	Skipped []Skipped `json:"-"`

	// sources holds the local path of each entry, on the sending side.
	sources []string
}

// Entry is one file or folder of an offer.
type Entry struct {
	// Path is relative and slash-separated, like "photos/2024/a.jpg".
	Path string `json:"path"`
	// Size is the file's length in bytes; 0 for a folder.
	Size int64 `json:"size"`
	// Mode holds the permission bits (0o777 at most).
	Mode uint32 `json:"mode"`
	// ModTime is the modification time in Unix nanoseconds.
	ModTime int64 `json:"mtime"`
	// Dir marks a folder.
	Dir bool `json:"dir,omitempty"`
}

// Skipped is a local path NewOffer did not include, and why.
type Skipped struct {
	Path   string
	Reason string
}

// Total returns the number of bytes of all the offer's files.
func (o *Offer) Total() int64 {
	var n int64
	for _, e := range o.Entries {
		n += e.Size
	}
	return n
}

// Files returns the number of files (entries that are not folders).
func (o *Offer) Files() int {
	n := 0
	for _, e := range o.Entries {
		if !e.Dir {
			n++
		}
	}
	return n
}

// NewID returns a fresh transfer id: 128 random bits in hex.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails; see crypto/rand
	return hex.EncodeToString(b[:])
}

// NewOffer builds an offer for local files and folders, with a new id.
// Folders are walked without following symbolic links; links, devices,
// sockets, pipes and unreadable folders are listed in Skipped instead.
// Each path becomes a top-level entry named by its last element. Sizes
// and times are read now; Send fails with ErrSource if a file has
// shrunk by the time it is sent.
func NewOffer(paths ...string) (*Offer, error) {
	o := &Offer{ID: NewID(), ChunkSize: ChunkSize}
	for _, p := range paths {
		if err := o.add(p); err != nil {
			return nil, fmt.Errorf("offer %s: %w", p, err)
		}
	}
	if len(o.Entries) == 0 {
		return nil, fmt.Errorf("offer: nothing to send (%d skipped)", len(o.Skipped))
	}
	if len(o.Entries) > MaxEntries {
		return nil, fmt.Errorf("offer: %d entries, limit %d", len(o.Entries), MaxEntries)
	}
	if total := o.Total(); total > MaxTotalSize {
		return nil, fmt.Errorf("offer: %d bytes, limit %d", total, MaxTotalSize)
	}
	return o, nil
}

// add walks one local path into the offer.
func (o *Offer) add(p string) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	base := filepath.Base(abs)
	if base == string(filepath.Separator) || base == "." {
		return errors.New("cannot send a file system root")
	}
	return filepath.WalkDir(abs, func(local string, d fs.DirEntry, err error) error {
		rel, rerr := filepath.Rel(abs, local)
		if rerr != nil {
			return rerr
		}
		name := filepath.ToSlash(filepath.Join(base, rel))
		if err != nil {
			if local == abs && d == nil {
				return err // the path itself does not exist or cannot be read
			}
			o.Skipped = append(o.Skipped, Skipped{Path: local, Reason: "unreadable: " + err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			o.Skipped = append(o.Skipped, Skipped{Path: local, Reason: "symbolic link"})
			return nil
		case t.IsDir():
			info, err := d.Info()
			if err != nil {
				o.Skipped = append(o.Skipped, Skipped{Path: local, Reason: "unreadable: " + err.Error()})
				return fs.SkipDir
			}
			o.push(local, Entry{Path: name, Mode: uint32(info.Mode().Perm()), ModTime: info.ModTime().UnixNano(), Dir: true})
		case t.IsRegular():
			info, err := d.Info()
			if err != nil {
				o.Skipped = append(o.Skipped, Skipped{Path: local, Reason: "unreadable: " + err.Error()})
				return nil
			}
			o.push(local, Entry{Path: name, Size: info.Size(), Mode: uint32(info.Mode().Perm()), ModTime: info.ModTime().UnixNano()})
		default:
			o.Skipped = append(o.Skipped, Skipped{Path: local, Reason: "not a regular file"})
		}
		if len(o.Entries) > MaxEntries {
			return fmt.Errorf("more than %d entries", MaxEntries)
		}
		return nil
	})
}

func (o *Offer) push(local string, e Entry) {
	o.Entries = append(o.Entries, e)
	o.sources = append(o.sources, local)
}

// DecodeOffer decodes and checks the body of a transfer.offer frame, as
// received from a peer. Entry paths come back cleaned by Sanitize. An
// offer in another protocol version than Version fails with an error
// wrapping ErrVersion, before the rest of it is read (its format may
// differ); any other bad offer with one wrapping ErrInvalidOffer.
func DecodeOffer(body []byte) (*Offer, error) {
	var head struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOffer, err)
	}
	if head.Version != Version {
		return nil, &versionError{peer: head.Version}
	}
	var o Offer
	if err := wire.DecodeBody(json.RawMessage(body), &offerBody{Offer: &o}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOffer, err)
	}
	if err := o.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOffer, err)
	}
	return &o, nil
}

// check validates a received offer and sanitises its paths in place.
func (o *Offer) check() error {
	if !checkpoint.ValidID(o.ID) {
		return errors.New("id must be 32 lower-case hex digits")
	}
	if !validChunkSize(o.ChunkSize) {
		return fmt.Errorf("chunk size %d: want a power of two from %d to %d", o.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if len(o.Entries) == 0 || len(o.Entries) > MaxEntries {
		return fmt.Errorf("%d entries: want 1 to %d", len(o.Entries), MaxEntries)
	}
	var total int64
	for i := range o.Entries {
		e := &o.Entries[i]
		if e.Size < 0 || (e.Dir && e.Size != 0) {
			return fmt.Errorf("entry %d: bad size %d", i, e.Size)
		}
		if e.Size > MaxTotalSize-total {
			return fmt.Errorf("more than %d bytes in all", MaxTotalSize)
		}
		total += e.Size
		clean, err := Sanitize(e.Path)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		e.Path = clean
		e.Mode &= 0o777
	}
	return nil
}

func validChunkSize(n int) bool {
	return n >= MinChunkSize && n <= MaxChunkSize && bits.OnesCount(uint(n)) == 1
}

// openSource opens the local file of entry i and checks it still has
// the offered size and is a regular file.
func (o *Offer) openSource(i int) (*os.File, error) {
	if i >= len(o.sources) {
		return nil, fmt.Errorf("%w: entry %d has no local file", ErrSource, i)
	}
	f, err := os.Open(o.sources[i])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSource, err)
	}
	info, err := f.Stat()
	if err == nil && (!info.Mode().IsRegular() || info.Size() < o.Entries[i].Size) {
		err = fmt.Errorf("%w: %s is now %d bytes, offered %d", ErrSource, o.sources[i], info.Size(), o.Entries[i].Size)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
