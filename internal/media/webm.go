package media

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Matroska element ids that readWebM looks at.
const (
	idEBML          = 0x1a45dfa3
	idDocType       = 0x4282
	idSegment       = 0x18538067
	idInfo          = 0x1549a966
	idTimecodeScale = 0x2ad7b1
	idDuration      = 0x4489
	idTracks        = 0x1654ae6b
	idTrackEntry    = 0xae
	idTrackNumber   = 0xd7
	idTrackType     = 0x83
	idCodecID       = 0x86
	idCluster       = 0x1f43b675
	idTimecode      = 0xe7
	idSimpleBlock   = 0xa3
	idBlockGroup    = 0xa0
	idBlock         = 0xa1
)

// descend lists the master elements whose children readWebM reads in
// line; every other element is skipped by its size. A browser's recorder
// writes the segment and its clusters with an unknown size, which reading
// children in line copes with.
var descend = map[uint64]bool{idSegment: true, idInfo: true, idTracks: true, idTrackEntry: true, idCluster: true, idBlockGroup: true}

// maxElements bounds the elements one recording may have.
const maxElements = 4 * maxPackets

// readWebM reads a WebM (or Matroska) recording whose first audio track is
// Opus: its duration (the Info element's, or the end of its last block)
// and its blocks.
func readWebM(data []byte) (time.Duration, []packet, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	var (
		scale      uint64  = 1_000_000 // ns per timecode unit
		duration   float64             // in timecode units; 0 if not given
		docType    string
		track      uint64 // the audio track's number, once known
		codec      string
		entry      struct{ number, kind uint64 }
		entryCodec string
		cluster    uint64
		packets    []packet
		end        time.Duration // end of the latest block
	)
	for p, n := 0, 0; p < len(data); n++ {
		if n > maxElements {
			return 0, nil, fmt.Errorf("%w: more than %d elements", ErrTooLarge, maxElements)
		}
		id, l, ok := vint(data[p:], true)
		if !ok {
			return 0, nil, bad("element id at offset %d", p)
		}
		size, m, ok := vint(data[p+l:], false)
		if !ok {
			return 0, nil, bad("element size at offset %d", p)
		}
		p += l + m
		unknown := size == 1<<(7*m)-1
		if descend[id] {
			if id == idTrackEntry {
				entry.number, entry.kind, entryCodec = 0, 0, ""
			}
			continue
		}
		if unknown || size > uint64(len(data)-p) {
			return 0, nil, bad("element 0x%x of %d bytes at offset %d", id, size, p)
		}
		body := data[p : p+int(size)]
		p += int(size)
		switch id {
		case idEBML:
			// The header's children: only the document type matters.
			for q := 0; q < len(body); {
				cid, cl, ok1 := vint(body[q:], true)
				csize, cm, ok2 := vint(body[q+cl:], false)
				if !ok1 || !ok2 || csize > uint64(len(body)-q-cl-cm) {
					return 0, nil, bad("EBML header")
				}
				if cid == idDocType {
					docType = string(body[q+cl+cm : q+cl+cm+int(csize)])
				}
				q += cl + cm + int(csize)
			}
			if docType != "webm" && docType != "matroska" {
				return 0, nil, fmt.Errorf("%w: document type %q", ErrUnsupported, clipString(docType))
			}
		case idTimecodeScale:
			scale = uintOf(body)
			if scale == 0 || scale > uint64(time.Second) {
				return 0, nil, bad("timecode scale %d", scale)
			}
		case idDuration:
			switch len(body) {
			case 4:
				duration = float64(math.Float32frombits(binary.BigEndian.Uint32(body)))
			case 8:
				duration = math.Float64frombits(binary.BigEndian.Uint64(body))
			}
			if math.IsNaN(duration) || duration < 0 || duration > 1e15 {
				return 0, nil, bad("duration %v", duration)
			}
		case idTrackNumber:
			entry.number = uintOf(body)
		case idTrackType:
			entry.kind = uintOf(body)
		case idCodecID:
			entryCodec = string(body)
		case idTimecode:
			cluster = uintOf(body)
		case idSimpleBlock, idBlock:
			if track == 0 {
				return 0, nil, bad("a block before the tracks")
			}
			num, tl, ok := vint(body, false)
			if !ok || len(body) < tl+3 {
				return 0, nil, bad("block header")
			}
			if num != track {
				continue
			}
			rel := int16(binary.BigEndian.Uint16(body[tl:]))
			flags := body[tl+2]
			frames := body[tl+3:]
			count := 1
			if lacing := flags >> 1 & 3; lacing != 0 {
				if len(frames) < 1 {
					return 0, nil, bad("laced block without a frame count")
				}
				count, frames = int(frames[0])+1, frames[1:]
			}
			samples, err := opusSamples(frames)
			if err != nil {
				return 0, nil, err
			}
			units := int64(cluster) + int64(rel)
			if units < 0 || units > math.MaxInt64/int64(scale) {
				return 0, nil, bad("block time %d", units)
			}
			at := time.Duration(units * int64(scale))
			if len(packets) >= maxPackets {
				return 0, nil, fmt.Errorf("%w: more than %d blocks", ErrTooLarge, maxPackets)
			}
			packets = append(packets, packet{at: at, size: len(body) - tl - 3})
			end = max(end, at+samplesToDuration(int64(samples*count)))
		}
		// Settle the track once an entry has a number, the audio type
		// and a codec (they all come before its first block).
		if track == 0 && entry.number != 0 && entry.kind == 2 && entryCodec != "" {
			track, codec = entry.number, entryCodec
			if codec != "A_OPUS" {
				return 0, nil, fmt.Errorf("%w: audio codec %q, not Opus", ErrUnsupported, clipString(codec))
			}
		}
	}
	if docType == "" {
		return 0, nil, bad("no EBML header")
	}
	if track == 0 {
		return 0, nil, bad("no audio track")
	}
	d := end
	if duration > 0 {
		d = time.Duration(duration * float64(scale))
	}
	return d, packets, nil
}

// vint reads an EBML variable-length integer: an element id (keeping its
// length marker, as ids are written) or a size (without it). It reports
// false if b does not hold one.
func vint(b []byte, isID bool) (v uint64, n int, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	n = 1
	for mask := byte(0x80); b[0]&mask == 0; mask >>= 1 {
		n++
	}
	if n > 8 || (isID && n > 4) || len(b) < n {
		return 0, 0, false
	}
	v = uint64(b[0])
	if !isID {
		v &= uint64(0xff >> n)
	}
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n, true
}

// uintOf reads a big-endian unsigned integer of up to 8 bytes.
func uintOf(b []byte) uint64 {
	var v uint64
	for _, c := range b[:min(len(b), 8)] {
		v = v<<8 | uint64(c)
	}
	return v
}

// clipString shortens s for an error message.
func clipString(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
