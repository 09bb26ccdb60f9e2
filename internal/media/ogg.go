package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// readOgg reads an Ogg/Opus recording: the first logical stream, which
// must be Opus (RFC 7845). Its duration is the last page's granule
// position (48 kHz samples) less the pre-skip; its packets' times come
// from their TOC bytes. Page checksums are not checked: nothing here is
// trusted, every length is.
func readOgg(data []byte) (time.Duration, []packet, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	var (
		serial    uint32
		started   bool
		npackets  int // packets of the stream seen, headers included
		preSkip   int64
		last      int64 = -1 // the last granule position
		samples   int64      // of the audio packets so far
		packets   []packet
		cur       []byte // the packet being assembled, up to its first bytes
		curSize   int
		continued bool
	)
	finish := func() error {
		defer func() { cur, curSize = cur[:0], 0 }()
		npackets++
		switch npackets {
		case 1:
			if len(cur) < 19 || !bytes.HasPrefix(cur, []byte("OpusHead")) {
				return fmt.Errorf("%w: the first stream is not Opus", ErrUnsupported)
			}
			if cur[8]&0xf0 != 0 || cur[9] == 0 {
				return bad("opus header version %d, %d channels", cur[8], cur[9])
			}
			preSkip = int64(binary.LittleEndian.Uint16(cur[10:]))
			return nil
		case 2:
			if !bytes.HasPrefix(cur, []byte("OpusTags")) {
				return bad("no opus tags")
			}
			return nil
		}
		n, err := opusSamples(cur)
		if err != nil {
			return err
		}
		if len(packets) >= maxPackets {
			return fmt.Errorf("%w: more than %d packets", ErrTooLarge, maxPackets)
		}
		packets = append(packets, packet{at: samplesToDuration(samples), size: curSize})
		samples += int64(n)
		return nil
	}
	for p := 0; p < len(data); {
		if len(data)-p < 27 || string(data[p:p+4]) != "OggS" {
			return 0, nil, bad("no page at offset %d", p)
		}
		h := data[p : p+27]
		if h[4] != 0 {
			return 0, nil, bad("ogg version %d", h[4])
		}
		granule := int64(binary.LittleEndian.Uint64(h[6:]))
		pageSerial := binary.LittleEndian.Uint32(h[14:])
		nseg := int(h[26])
		if len(data)-p-27 < nseg {
			return 0, nil, bad("truncated page")
		}
		lacing := data[p+27 : p+27+nseg]
		body := p + 27 + nseg
		size := 0
		for _, l := range lacing {
			size += int(l)
		}
		if len(data)-body < size {
			return 0, nil, bad("truncated page")
		}
		next := body + size
		if !started {
			if h[5]&0x02 == 0 {
				return 0, nil, bad("the first page does not begin a stream")
			}
			serial, started = pageSerial, true
		}
		if pageSerial != serial {
			p = next // another logical stream: not ours
			continue
		}
		if h[5]&0x01 == 0 && continued {
			return 0, nil, bad("a packet continues on a page not marked so")
		}
		for _, l := range lacing {
			if len(cur) < 8+11 { // keep the first bytes: a header, or a TOC and frame count
				take := min(int(l), 8+11-len(cur))
				cur = append(cur, data[body:body+take]...)
			}
			curSize += int(l)
			body += int(l)
			if l < 255 {
				if err := finish(); err != nil {
					return 0, nil, err
				}
			}
		}
		continued = nseg > 0 && lacing[nseg-1] == 255
		if granule != -1 && npackets > 2 {
			last = granule
		}
		p = next
	}
	if npackets < 2 {
		return 0, nil, bad("no opus headers")
	}
	if last < 0 {
		// No page ended a packet with a position: count what was read.
		last = samples + preSkip
	}
	return samplesToDuration(max(last-preSkip, 0)), packets, nil
}
