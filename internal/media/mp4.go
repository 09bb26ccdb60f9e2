package media

import (
	"encoding/binary"
	"fmt"
	"time"
)

// mp4Containers lists the boxes whose children readMP4 reads.
var mp4Containers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true}

// readMP4 reads an MP4 (m4a) recording: its duration from the movie
// header (mvhd), and the sizes and durations of the samples of its first
// sound track (stsz, stts) for the waveform.
func readMP4(data []byte) (time.Duration, []packet, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	var (
		duration  time.Duration
		haveMvhd  bool
		sound     bool // inside the first sound track
		done      bool // its tables are read
		timescale uint32
		sizes     []uint32
		deltas    []packet // per stts run: count in size, delta in at
	)
	var walk func(b []byte, depth int) error
	walk = func(b []byte, depth int) error {
		for p := 0; p < len(b); {
			if len(b)-p < 8 {
				return bad("truncated box")
			}
			size := uint64(binary.BigEndian.Uint32(b[p:]))
			typ := string(b[p+4 : p+8])
			head := 8
			switch size {
			case 0:
				size = uint64(len(b) - p)
			case 1:
				if len(b)-p < 16 {
					return bad("truncated box")
				}
				size, head = binary.BigEndian.Uint64(b[p+8:]), 16
			}
			if size < uint64(head) || size > uint64(len(b)-p) {
				return bad("box %q of %d bytes", typ, size)
			}
			body := b[p+head : p+int(size)]
			p += int(size)
			switch {
			case mp4Containers[typ] && depth < 8:
				if typ == "trak" {
					if done {
						continue
					}
					sound, sizes, deltas, timescale = false, nil, nil, 0
				}
				if err := walk(body, depth+1); err != nil {
					return err
				}
				if typ == "trak" && sound {
					done = true
				}
			case typ == "mvhd":
				if len(body) < 4 {
					return bad("movie header")
				}
				var scale uint32
				var d uint64
				switch body[0] {
				case 0:
					if len(body) < 20 {
						return bad("movie header")
					}
					scale, d = binary.BigEndian.Uint32(body[12:]), uint64(binary.BigEndian.Uint32(body[16:]))
				case 1:
					if len(body) < 32 {
						return bad("movie header")
					}
					scale, d = binary.BigEndian.Uint32(body[20:]), binary.BigEndian.Uint64(body[24:])
				default:
					return bad("movie header version %d", body[0])
				}
				if scale == 0 {
					return bad("movie time scale 0")
				}
				secs := d / uint64(scale)
				if secs > uint64(24*time.Hour/time.Second) {
					return fmt.Errorf("%w: %d seconds long", ErrTooLarge, secs)
				}
				duration = time.Duration(secs)*time.Second + time.Duration(d%uint64(scale))*time.Second/time.Duration(scale)
				haveMvhd = true
			case done:
			case typ == "hdlr":
				if len(body) >= 12 && string(body[8:12]) == "soun" {
					sound = true
				}
			case typ == "mdhd":
				if len(body) >= 24 && body[0] == 1 {
					timescale = binary.BigEndian.Uint32(body[20:])
				} else if len(body) >= 16 {
					timescale = binary.BigEndian.Uint32(body[12:])
				}
			case typ == "stsz":
				if len(body) < 12 {
					return bad("sample sizes")
				}
				fixed, n := binary.BigEndian.Uint32(body[4:]), binary.BigEndian.Uint32(body[8:])
				if n > maxPackets {
					return fmt.Errorf("%w: %d samples", ErrTooLarge, n)
				}
				if fixed == 0 && uint64(len(body)-12) < uint64(n)*4 || fixed != 0 && uint64(n) > uint64(len(data)) {
					return bad("truncated sample sizes")
				}
				sizes = make([]uint32, n)
				for i := range sizes {
					if sizes[i] = fixed; fixed == 0 {
						sizes[i] = binary.BigEndian.Uint32(body[12+4*i:])
					}
				}
			case typ == "stts":
				if len(body) < 8 {
					return bad("sample times")
				}
				n := binary.BigEndian.Uint32(body[4:])
				if uint64(len(body)-8) < uint64(n)*8 || n > maxPackets {
					return bad("truncated sample times")
				}
				deltas = make([]packet, n)
				for i := range deltas {
					deltas[i] = packet{size: int(binary.BigEndian.Uint32(body[8+8*i:])), at: time.Duration(binary.BigEndian.Uint32(body[12+8*i:]))}
				}
			}
		}
		return nil
	}
	if err := walk(data, 0); err != nil {
		return 0, nil, err
	}
	if !haveMvhd {
		return 0, nil, bad("no movie header")
	}
	return duration, mp4Packets(sizes, deltas, timescale), nil
}

// mp4Packets lays the samples of a track out in time from its
// time-to-sample runs (count in size, duration in at, in timescale
// units). Without usable tables, no packets: a flat waveform.
func mp4Packets(sizes []uint32, runs []packet, timescale uint32) []packet {
	if timescale == 0 || len(sizes) == 0 {
		return nil
	}
	out := make([]packet, 0, len(sizes))
	var t uint64
	i := 0
	for _, r := range runs {
		for k := 0; k < r.size && i < len(sizes); k++ {
			at := time.Duration(t/uint64(timescale))*time.Second + time.Duration(t%uint64(timescale))*time.Second/time.Duration(timescale)
			out = append(out, packet{at: at, size: int(sizes[i])})
			i++
			t += uint64(r.at)
			if t > uint64(timescale)*86400 {
				return out
			}
		}
	}
	return out
}
