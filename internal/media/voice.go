package media

import (
	"bytes"
	"fmt"
	"time"
)

// Bounds of a voice recording.
const (
	// MaxVoiceBytes is the largest recording ReadVoice reads.
	MaxVoiceBytes = 16 << 20
	// MaxVoiceDuration is the longest recording.
	MaxVoiceDuration = 15 * time.Minute
	// WaveformLen is the number of levels of a waveform.
	WaveformLen = 64
	// maxPackets bounds the packets (or samples) of one recording: 15
	// minutes of Opus in its shortest, 2.5 ms frames is 360,000.
	maxPackets = 400_000
)

// The recording formats ReadVoice reads.
const (
	Ogg  = "ogg"  // Ogg with Opus (audio/ogg)
	WebM = "webm" // WebM (or Matroska) with Opus (audio/webm)
	MP4  = "mp4"  // MP4 audio, usually AAC (audio/mp4, .m4a)
)

// Voice describes a voice recording.
type Voice struct {
	Format   string // Ogg, WebM or MP4
	Type     string // its media type: audio/ogg, audio/webm or audio/mp4
	Duration time.Duration
	// Waveform holds WaveformLen levels, 0 to 255, one per equal slice of
	// the recording (fewer for a recording shorter than WaveformLen
	// packets). They are the bytes the encoder spent per second in each
	// slice, relative to the busiest slice: for Opus and AAC, which spend
	// more on loud, busy sound and next to nothing on silence, that
	// follows the loudness closely enough to draw, without decoding the
	// audio (which would need cgo).
	Waveform []uint8
}

// packet is one compressed audio packet: when it starts and how many
// bytes it has.
type packet struct {
	at   time.Duration
	size int
}

// ReadVoice reads the duration of a recording and computes its waveform.
// It refuses, wrapping ErrUnsupported, what is none of Ogg/Opus,
// WebM/Opus and MP4; ErrTooLarge, a recording over MaxVoiceBytes or
// MaxVoiceDuration; ErrCorrupt, one that does not parse.
func ReadVoice(data []byte) (Voice, error) {
	if len(data) > MaxVoiceBytes {
		return Voice{}, fmt.Errorf("voice: %w: %d bytes, the most is %d", ErrTooLarge, len(data), MaxVoiceBytes)
	}
	var (
		v       Voice
		packets []packet
		err     error
	)
	switch {
	case bytes.HasPrefix(data, []byte("OggS")):
		v.Format, v.Type = Ogg, "audio/ogg"
		v.Duration, packets, err = readOgg(data)
	case bytes.HasPrefix(data, []byte{0x1a, 0x45, 0xdf, 0xa3}):
		v.Format, v.Type = WebM, "audio/webm"
		v.Duration, packets, err = readWebM(data)
	case len(data) >= 8 && string(data[4:8]) == "ftyp":
		v.Format, v.Type = MP4, "audio/mp4"
		v.Duration, packets, err = readMP4(data)
	default:
		return Voice{}, fmt.Errorf("voice: %w: not an Ogg, WebM or MP4 recording", ErrUnsupported)
	}
	if err != nil {
		return Voice{}, fmt.Errorf("voice %s: %w", v.Format, err)
	}
	if v.Duration <= 0 {
		return Voice{}, fmt.Errorf("voice %s: %w: no duration", v.Format, ErrCorrupt)
	}
	if v.Duration > MaxVoiceDuration {
		return Voice{}, fmt.Errorf("voice %s: %w: %v long, the most is %v", v.Format, ErrTooLarge, v.Duration.Round(time.Second), MaxVoiceDuration)
	}
	v.Waveform = waveform(packets, v.Duration)
	return v, nil
}

// waveform spreads packets over WaveformLen slices of d and scales the
// bytes per slice to 0–255 of the busiest.
func waveform(packets []packet, d time.Duration) []uint8 {
	if len(packets) == 0 || d <= 0 {
		return nil
	}
	n := min(WaveformLen, len(packets))
	sums := make([]int64, n)
	for _, p := range packets {
		i := int(int64(p.at) * int64(n) / int64(d))
		sums[min(max(i, 0), n-1)] += int64(p.size)
	}
	var top int64
	for _, s := range sums {
		top = max(top, s)
	}
	out := make([]uint8, n)
	if top == 0 {
		return out
	}
	for i, s := range sums {
		out[i] = uint8(s * 255 / top)
	}
	return out
}

// opusSamples returns the samples (at 48 kHz) of an Opus packet from its
// TOC byte and, for code 3, its frame count byte (RFC 6716, 3.1).
func opusSamples(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil // a lost or discontinuous-transmission packet
	}
	toc := p[0]
	cfg := int(toc >> 3)
	var frame int
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[cfg%4]
	case cfg < 16: // hybrid: 10, 20 ms
		frame = []int{480, 960}[cfg%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[cfg%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0, fmt.Errorf("%w: opus packet without its frame count", ErrCorrupt)
		}
		frames = int(p[1] & 0x3f)
		if frames == 0 || frames*frame > 5760 { // at most 120 ms
			return 0, fmt.Errorf("%w: opus packet of %d frames", ErrCorrupt, frames)
		}
	}
	return frames * frame, nil
}

// samplesToDuration converts samples at 48 kHz, saturating at a day so
// that no claimed position overflows.
func samplesToDuration(n int64) time.Duration {
	const day = 48000 * 86400
	return time.Duration(min(n, day)) * time.Second / 48000
}
