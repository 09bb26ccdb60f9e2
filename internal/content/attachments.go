package content

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of pictures, recordings and files in a message.
const (
	// MaxThumb is the largest thumbnail, in bytes (media.MaxThumb).
	MaxThumb = 48 << 10
	// ThumbSide is the longest side of a thumbnail (media.ThumbSide).
	ThumbSide = 320
	// MaxInline is the largest picture or recording that travels inside
	// its message; a larger one follows as a file transfer. Its base64
	// form beside a thumbnail still fits in MaxBody.
	MaxInline = 128 << 10
	// MaxImageSize is the largest picture, in bytes (the limit media
	// decodes under).
	MaxImageSize = 32 << 20
	// MaxImageSide is the longest side of a picture, in pixels.
	MaxImageSide = 16384
	// MaxVoiceSize is the largest recording, in bytes.
	MaxVoiceSize = 16 << 20
	// MaxVoiceDuration is the longest recording.
	MaxVoiceDuration = 15 * 60 * 1000 // milliseconds
	// WaveformLen is the most levels of a recording's waveform.
	WaveformLen = 64
	// MaxCaption is the longest caption of a picture, in bytes.
	MaxCaption = 4096
	// MaxName is the longest file name, in bytes.
	MaxName = 255
	// MaxFileSize is the largest file (or folder) offered (4 TiB, as the
	// transfer package bounds an offer).
	MaxFileSize = 1 << 42
	// MaxFiles bounds the files of one offer (transfer.MaxEntries).
	MaxFiles = 100_000
)

// imageTypes and voiceTypes are the media types a message may name.
var (
	imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}
	voiceTypes = map[string]bool{"audio/ogg": true, "audio/webm": true, "audio/mp4": true}
)

// Image is a picture. Its thumbnail travels in the message, so the
// receiver shows it at once, also when it came through the relay. The
// picture itself travels inline (Data) when it is at most MaxInline bytes,
// else as the file transfer named by Transfer, which must carry a file of
// Size bytes whose SHA-256 is SHA256.
type Image struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // image/jpeg, image/png, image/gif or image/webp
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // of the picture as sent, 64 lower-case hex digits
	Width  int    `json:"width"`  // upright
	Height int    `json:"height"`
	// Thumb is a JPEG of ThumbWidth×ThumbHeight, at most ThumbSide on its
	// long side and MaxThumb bytes.
	Thumb       []byte `json:"thumb"`
	ThumbWidth  int    `json:"thumb_width"`
	ThumbHeight int    `json:"thumb_height"`
	Caption     string `json:"caption,omitempty"`
	// Exactly one of Data and Transfer.
	Data     []byte `json:"data,omitempty"`
	Transfer string `json:"transfer,omitempty"`
}

// Kind returns KindImage.
func (Image) Kind() string { return KindImage }

// Validate checks every field's bound. It does not decode the thumbnail
// or the picture: the receiver does that with internal/media, bounded.
func (m Image) Validate() error {
	const k = KindImage
	if err := checkName(k, m.Name); err != nil {
		return err
	}
	if !imageTypes[m.Type] {
		return invalid(k, "type", "%q is not image/jpeg, image/png, image/gif or image/webp", clip(m.Type))
	}
	if m.Size < 1 || m.Size > MaxImageSize {
		return invalid(k, "size", "must be 1 to %d bytes", MaxImageSize)
	}
	if !isSHA256(m.SHA256) {
		return invalid(k, "sha256", "must be 64 lower-case hex digits")
	}
	if m.Width < 1 || m.Height < 1 || m.Width > MaxImageSide || m.Height > MaxImageSide {
		return invalid(k, "width", "and height must be 1 to %d", MaxImageSide)
	}
	if len(m.Thumb) == 0 || len(m.Thumb) > MaxThumb {
		return invalid(k, "thumb", "must be 1 to %d bytes", MaxThumb)
	}
	if m.ThumbWidth < 1 || m.ThumbHeight < 1 || m.ThumbWidth > ThumbSide || m.ThumbHeight > ThumbSide {
		return invalid(k, "thumb_width", "and thumb_height must be 1 to %d", ThumbSide)
	}
	if m.Caption != "" {
		if err := checkText(k, "caption", m.Caption, MaxCaption); err != nil {
			return err
		}
	}
	return checkPayload(k, m.Size, m.Data, m.Transfer)
}

// Voice is a voice recording: Ogg or WebM with Opus, or MP4 audio. Like
// an image's picture, it travels inline or as a transfer.
type Voice struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // audio/ogg, audio/webm or audio/mp4
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	Duration int64  `json:"duration_ms"`
	// Waveform holds up to WaveformLen levels, 0 (silent) to 255
	// (loudest), spread evenly over the recording.
	Waveform []uint8 `json:"waveform"`
	Data     []byte  `json:"data,omitempty"`
	Transfer string  `json:"transfer,omitempty"`
}

// Kind returns KindVoice.
func (Voice) Kind() string { return KindVoice }

// Validate checks every field's bound.
func (v Voice) Validate() error {
	const k = KindVoice
	if err := checkName(k, v.Name); err != nil {
		return err
	}
	if !voiceTypes[v.Type] {
		return invalid(k, "type", "%q is not audio/ogg, audio/webm or audio/mp4", clip(v.Type))
	}
	if v.Size < 1 || v.Size > MaxVoiceSize {
		return invalid(k, "size", "must be 1 to %d bytes", MaxVoiceSize)
	}
	if !isSHA256(v.SHA256) {
		return invalid(k, "sha256", "must be 64 lower-case hex digits")
	}
	if v.Duration < 1 || v.Duration > MaxVoiceDuration {
		return invalid(k, "duration_ms", "must be 1 to %d", MaxVoiceDuration)
	}
	if len(v.Waveform) > WaveformLen {
		return invalid(k, "waveform", "has %d levels; the most is %d", len(v.Waveform), WaveformLen)
	}
	return checkPayload(k, v.Size, v.Data, v.Transfer)
}

// File is a file transfer's item in the timeline: the sender writes one
// when it offers files in a conversation, so that the receiver sees it
// there (and in search) even before a direct path lets the transfer run.
type File struct {
	Transfer string `json:"transfer"`
	// Name is the file's name, or the folder's, or the first file's of
	// several.
	Name  string `json:"name"`
	Size  int64  `json:"size"`  // of all files together
	Files int    `json:"files"` // how many
}

// Kind returns KindFile.
func (File) Kind() string { return KindFile }

// Validate checks every field's bound.
func (f File) Validate() error {
	const k = KindFile
	if err := checkID(k, "transfer", f.Transfer); err != nil {
		return err
	}
	if err := checkName(k, f.Name); err != nil {
		return err
	}
	if f.Size < 0 || f.Size > MaxFileSize {
		return invalid(k, "size", "must be 0 to %d bytes", int64(MaxFileSize))
	}
	if f.Files < 1 || f.Files > MaxFiles {
		return invalid(k, "files", "must be 1 to %d", MaxFiles)
	}
	return nil
}

// checkPayload checks that a picture or recording travels exactly one
// way: inline data of Size bytes, or a transfer id.
func checkPayload(k string, size int64, data []byte, transfer string) error {
	switch {
	case len(data) > 0 && transfer != "":
		return invalid(k, "data", "and transfer are both given")
	case len(data) > 0:
		if len(data) > MaxInline {
			return invalid(k, "data", "is %d bytes; the most inline is %d", len(data), MaxInline)
		}
		if int64(len(data)) != size {
			return invalid(k, "data", "is %d bytes, size says %d", len(data), size)
		}
		return nil
	case transfer != "":
		return checkID(k, "transfer", transfer)
	}
	return invalid(k, "data", "or transfer must be given")
}

// checkName checks a file name: a last path element of valid UTF-8, at
// most MaxName bytes, without separators or control characters, not "."
// or "..". Received files are still named by the transfer package's own
// cleaning; this keeps what the timeline shows sane.
func checkName(k, name string) error {
	if name == "" || len(name) > MaxName || !utf8.ValidString(name) || name == "." || name == ".." ||
		strings.ContainsAny(name, `/\`) || strings.ContainsFunc(name, unicode.IsControl) {
		return invalid(k, "name", "must be a file name of 1 to %d bytes, without '/', '\\' or control characters", MaxName)
	}
	return nil
}

// isSHA256 reports whether s is 64 lower-case hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
