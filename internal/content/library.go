package content

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The kinds of a group's (or room's) shared file library. Each travels
// like any other message to every member, end to end encrypted; a
// member's daemon folds them into its copy of the listing. See
// docs/protocol.md, "Library listings".
const (
	KindShare   = "share"   // Share
	KindUnshare = "unshare" // Unshare
	KindHolder  = "holder"  // Holder
)

// Bounds of a library listing.
const (
	// MaxSharePath is the longest path of a shared file, in bytes: a
	// file shared alone has its name; a file of a shared folder has the
	// folder's name, then its path inside it.
	MaxSharePath = 1024
	// MaxShareDepth bounds the elements of a shared path.
	MaxShareDepth = 32
	// ShareChunkSize is the chunk size a listed file's hash is made
	// with (transfer.ChunkSize): the whole-file hash is the transfer
	// package's hash list over chunks of this size.
	ShareChunkSize = 1 << 20
)

// Share lists one file in the conversation's library. Its sender is the
// sharer; ID names the item in the library (with the group, as the
// sender's message id names a message). SHA256 is the whole-file hash
// of the transfer package (a hash over the file's size and the SHA-256
// of each ShareChunkSize chunk): every download is checked against it,
// chunk by chunk through the hash list a holder sends, and as a whole.
type Share struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Folder names the folder the file was shared with (the first
	// element of Path), empty for a file shared alone.
	Folder bool `json:"folder,omitempty"`
}

// Kind returns KindShare.
func (Share) Kind() string { return KindShare }

// Validate checks the id, the path (CheckSharePath), the size and the
// hash.
func (s Share) Validate() error {
	const k = KindShare
	if err := checkID(k, "id", s.ID); err != nil {
		return err
	}
	if err := CheckSharePath(s.Path); err != nil {
		return invalid(k, "path", "%v", err)
	}
	if s.Folder && !strings.Contains(s.Path, "/") {
		return invalid(k, "path", "of a folder's file must have the folder's name first")
	}
	if s.Size < 0 || s.Size > MaxFileSize {
		return invalid(k, "size", "must be 0 to %d bytes", int64(MaxFileSize))
	}
	if !isSHA256(s.SHA256) {
		return invalid(k, "sha256", "must be 64 lower-case hex digits")
	}
	return nil
}

// Unshare withdraws an item from the library. Only its sharer, or an
// owner or admin of the conversation, may withdraw it: the receiver
// checks the signed sender against its listing and roster.
type Unshare struct {
	ID string `json:"id"`
}

// Kind returns KindUnshare.
func (Unshare) Kind() string { return KindUnshare }

// Validate checks the id.
func (u Unshare) Validate() error { return checkID(KindUnshare, "id", u.ID) }

// Holder says that its sender holds a verified copy of a library item
// and serves it to members (On), or no longer does.
type Holder struct {
	ID string `json:"id"`
	On bool   `json:"on"`
}

// Kind returns KindHolder.
func (Holder) Kind() string { return KindHolder }

// Validate checks the id.
func (h Holder) Validate() error { return checkID(KindHolder, "id", h.ID) }

// shareError is why CheckSharePath refuses a path.
type shareError string

func (e shareError) Error() string { return string(e) }

// CheckSharePath checks a shared file's path: slash-separated, relative,
// of valid UTF-8, at most MaxSharePath bytes and MaxShareDepth elements,
// each a file name as checkName allows (no "." or "..", no backslash,
// no control character, at most MaxName bytes). The receiver of a
// download still cleans it with the transfer package's Sanitize.
func CheckSharePath(p string) error {
	if p == "" || len(p) > MaxSharePath || !utf8.ValidString(p) {
		return shareError("must be 1 to 1024 bytes of UTF-8")
	}
	parts := strings.Split(p, "/")
	if len(parts) > MaxShareDepth {
		return shareError("has too many elements")
	}
	for _, e := range parts {
		if e == "" || e == "." || e == ".." || len(e) > MaxName ||
			strings.ContainsRune(e, '\\') || strings.ContainsFunc(e, unicode.IsControl) {
			return shareError("must be relative, without empty, '.' or '..' elements, '\\' or control characters")
		}
	}
	return nil
}
