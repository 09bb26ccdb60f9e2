// Package media checks and prepares the pictures and voice recordings that
// travel in a conversation, before they are sent and again when they
// arrive. Everything it reads is untrusted (a file the user picked may be
// anything; a received one is a stranger's), so every decoder here is
// bounded in the bytes it reads, the memory it allocates and the time it
// takes, and refuses what it cannot read with an error wrapping one of the
// sentinels below.
//
// Pictures: Decode reads JPEG, PNG, GIF (its first frame) and WebP. It
// learns the dimensions from the header first and refuses a picture whose
// decoded form would be too large (a decompression bomb: a few kilobytes
// that claim 20000×20000 pixels) before allocating anything for its
// pixels. Prepare makes what an image message carries: a JPEG thumbnail of
// at most 320 pixels on the long side and under 48 KiB, and the full
// picture with its metadata (EXIF location and camera data, XMP, comments,
// text chunks) removed. Avatar makes a square JPEG of at most 256 pixels,
// under 64 KiB. Re-encoded pictures are turned upright first, following
// their EXIF orientation, since the orientation tag goes with the rest.
//
// Voice: ReadVoice reads the duration of an Ogg/Opus, WebM/Opus or MP4
// (m4a) recording and computes a small waveform. Decoding Opus audio is
// not possible here without cgo, so the waveform of an Opus recording is
// derived from the size of its packets per time slice: Opus spends more
// bytes on loud, busy sound than on quiet sound, and next to none on
// silence, which is what a waveform should show. See voice.go.
//
// The package is a leaf: it imports nothing of lanchat's, so the peer
// daemon and the rendezvous server (which keeps avatars) can both use it.
package media

import (
	"errors"
	"time"
)

// Errors the package returns; every error wraps exactly one of them.
var (
	// ErrUnsupported means the bytes are not a picture (or recording) in
	// a format this package reads.
	ErrUnsupported = errors.New("not a supported format")
	// ErrTooLarge means the input, or what it would decode to, is over a
	// limit: too many bytes, pixels or samples.
	ErrTooLarge = errors.New("too large")
	// ErrCorrupt means the bytes start like a supported format but do
	// not decode.
	ErrCorrupt = errors.New("corrupt")
	// ErrTimeout means decoding took longer than Limits.Time.
	ErrTimeout = errors.New("took too long to decode")
)

// Limits bound what decoding a picture may cost.
type Limits struct {
	// Bytes is the largest input read.
	Bytes int64
	// Pixels is the largest width × height decoded.
	Pixels int64
	// Side is the largest width or height.
	Side int
	// Memory is the largest decoded pixel buffer, in bytes, estimated
	// from the header's colour model (1 byte a pixel for grey, 4 for
	// RGBA, 8 for 16-bit RGBA, …).
	Memory int64
	// Time bounds decoding (and scaling). The decoders stop at their
	// next read once it has passed.
	Time time.Duration
}

// DefaultLimits suit photos from today's cameras and phones (40
// megapixels) while keeping one decode under 160 MiB of pixels.
var DefaultLimits = Limits{
	Bytes:  32 << 20,
	Pixels: 40_000_000,
	Side:   16384,
	Memory: 160 << 20,
	Time:   10 * time.Second,
}
