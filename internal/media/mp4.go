package media

import (
	"encoding/binary"
	"fmt"
	"time"
)

// mp4Containers lists the boxes whose children readMP4 reads.
var mp4Containers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true,
	"mvex": true, "moof": true, "traf": true}

// readMP4 reads an MP4 (m4a) recording: its duration from the movie
// header (mvhd), and the sizes and durations of the samples of its first
// sound track (stsz, stts) for the waveform. A fragmented file (what a
// browser's recorder writes: an empty sample table, a movie header of
// duration 0, then fragments) gives both from its fragments' track runs
// (trun, with the defaults of tfhd and trex) instead.
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
		trackID   uint32   // the sound track's, for its fragments
		frag      = fragments{limit: len(data)}
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
			case typ == "trex":
				if err := frag.trex(body); err != nil {
					return err
				}
			case typ == "tfhd":
				if err := frag.tfhd(body); err != nil {
					return err
				}
			case typ == "trun":
				if frag.track == trackID && trackID != 0 {
					if err := frag.trun(body); err != nil {
						return err
					}
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
			case typ == "tkhd" && !done:
				if len(body) >= 16 && body[0] == 1 && len(body) >= 24 {
					trackID = binary.BigEndian.Uint32(body[20:])
				} else if len(body) >= 16 {
					trackID = binary.BigEndian.Uint32(body[12:])
				}
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
	if len(sizes) == 0 && len(frag.sizes) > 0 {
		// Fragmented: the runs are the samples.
		sizes, deltas = frag.sizes, frag.runs
		if duration == 0 && timescale != 0 {
			var total uint64
			for _, r := range frag.runs {
				total += uint64(r.at)
			}
			secs := total / uint64(timescale)
			if secs > uint64(24*time.Hour/time.Second) {
				return 0, nil, fmt.Errorf("%w: %d seconds long", ErrTooLarge, secs)
			}
			duration = time.Duration(secs)*time.Second + time.Duration(total%uint64(timescale))*time.Second/time.Duration(timescale)
		}
	}
	return duration, mp4Packets(sizes, deltas, timescale), nil
}

// fragments gathers the samples of one track from a fragmented MP4's
// track runs: sizes, and durations as runs of one sample each (count in
// size, duration in at, as stts runs).
type fragments struct {
	// Defaults from trex (for the file) and tfhd (for the fragment).
	trexTrack, trexDuration, trexSize uint32
	track, duration, size             uint32
	sizes                             []uint32
	runs                              []packet
	// limit is the file's size: every sample has at least a byte in it.
	limit int
}

func (f *fragments) trex(b []byte) error {
	if len(b) < 24 {
		return fmt.Errorf("%w: track extends box", ErrCorrupt)
	}
	f.trexTrack = binary.BigEndian.Uint32(b[4:])
	f.trexDuration = binary.BigEndian.Uint32(b[12:])
	f.trexSize = binary.BigEndian.Uint32(b[16:])
	return nil
}

func (f *fragments) tfhd(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: track fragment header", ErrCorrupt)
	}
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	f.track = binary.BigEndian.Uint32(b[4:])
	f.duration, f.size = 0, 0
	if f.track == f.trexTrack {
		f.duration, f.size = f.trexDuration, f.trexSize
	}
	p := 8
	for _, field := range []struct {
		flag uint32
		n    int
		dst  *uint32
	}{{0x01, 8, nil}, {0x02, 4, nil}, {0x08, 4, &f.duration}, {0x10, 4, &f.size}} {
		if flags&field.flag == 0 {
			continue
		}
		if len(b) < p+field.n {
			return fmt.Errorf("%w: track fragment header", ErrCorrupt)
		}
		if field.dst != nil {
			*field.dst = binary.BigEndian.Uint32(b[p:])
		}
		p += field.n
	}
	return nil
}

func (f *fragments) trun(b []byte) error {
	bad := fmt.Errorf("%w: track run", ErrCorrupt)
	if len(b) < 8 {
		return bad
	}
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	n := binary.BigEndian.Uint32(b[4:])
	p := 8
	if flags&0x01 != 0 {
		p += 4
	}
	if flags&0x04 != 0 {
		p += 4
	}
	per := 0
	for _, bit := range []uint32{0x100, 0x200, 0x400, 0x800} {
		if flags&bit != 0 {
			per += 4
		}
	}
	if len(b) < p || uint64(len(b)-p) < uint64(n)*uint64(per) || uint64(len(f.sizes))+uint64(n) > maxPackets {
		return bad
	}
	if uint64(len(f.sizes))+uint64(n) > uint64(f.limit) {
		return bad // more samples than the file has bytes for them
	}
	for range n {
		d, s := f.duration, f.size
		if flags&0x100 != 0 {
			d = binary.BigEndian.Uint32(b[p:])
			p += 4
		}
		if flags&0x200 != 0 {
			s = binary.BigEndian.Uint32(b[p:])
			p += 4
		}
		if flags&0x400 != 0 {
			p += 4
		}
		if flags&0x800 != 0 {
			p += 4
		}
		f.sizes = append(f.sizes, s)
		f.runs = append(f.runs, packet{size: 1, at: time.Duration(d)})
	}
	return nil
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
