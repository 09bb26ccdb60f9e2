// Package checkpoint holds what a file receiver remembers of each
// transfer so that a broken one resumes where it stopped: where every
// entry goes and how much of it is verified. It is a leaf of plain
// values: package transfer reads and writes checkpoints through its
// Progress interface, and the daemon's history store keeps them, without
// the store linking the transfer protocol or QUIC.
package checkpoint

import "slices"

// MaxEntries bounds the files and folders of one transfer (its offer),
// and so the entries of its checkpoint.
const MaxEntries = 100_000

// Transfer is what a receiver remembers of one transfer.
type Transfer struct {
	// Peer is the sender's identity key in hex; only that peer may resume.
	Peer string `json:"peer"`
	// Dir is the absolute destination directory.
	Dir string `json:"dir"`
	// Entries parallels the offer's entries.
	Entries []Entry `json:"entries"`
}

// Entry is the receiver's state of one entry of a transfer.
type Entry struct {
	// Offered is the entry's sanitised path in the offer.
	Offered string `json:"offered"`
	// Path is where the entry goes, relative to Dir: the sanitised name,
	// renamed if it was taken. It becomes the final name once the entry
	// is done.
	Path string `json:"path"`
	// Size, ModTime and Dir repeat the offer, so that a resumed offer
	// whose file changed starts that file over.
	Size    int64 `json:"size"`
	ModTime int64 `json:"mtime"`
	Dir     bool  `json:"dir,omitempty"`
	// Verified counts the bytes written, verified and synced.
	Verified int64 `json:"verified"`
	// Done marks an entry in its final place.
	Done bool `json:"done,omitempty"`
}

// Clone returns a deep copy of t, so that a store and its callers never
// share memory.
func (t *Transfer) Clone() *Transfer {
	c := *t
	c.Entries = slices.Clone(t.Entries)
	return &c
}

// ValidID reports whether id is a transfer id as package transfer makes
// them: 32 lower-case hex digits. A valid id is never a path.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
