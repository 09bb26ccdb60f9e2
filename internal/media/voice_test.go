package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"
)

// opusPacket is a 20 ms CELT fullband Opus packet (TOC 0xf8) of n bytes.
func opusPacket(n int) []byte {
	p := make([]byte, n)
	p[0] = 0xf8
	return p
}

// recording is 30 s of Opus: loud (large packets) for the first half,
// near silence for the second.
func recording() [][]byte {
	var ps [][]byte
	for i := range 1500 {
		if i < 750 {
			ps = append(ps, opusPacket(160))
		} else {
			ps = append(ps, opusPacket(3))
		}
	}
	return ps
}

func opusHead(preSkip uint16) []byte {
	h := []byte("OpusHead\x01\x01")
	h = binary.LittleEndian.AppendUint16(h, preSkip)
	h = binary.LittleEndian.AppendUint32(h, 48000)
	return append(h, 0, 0, 0)
}

// oggPage makes one Ogg page of whole packets.
func oggPage(flags byte, granule int64, seq uint32, packets ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := []byte("OggS\x00")
	h = append(h, flags)
	h = binary.LittleEndian.AppendUint64(h, uint64(granule))
	h = binary.LittleEndian.AppendUint32(h, 0x1234)
	h = binary.LittleEndian.AppendUint32(h, seq)
	h = append(h, 0, 0, 0, 0, byte(len(lacing)))
	return append(append(h, lacing...), body...)
}

// oggOpus makes an Ogg/Opus file of packets, 50 to a page.
func oggOpus(packets [][]byte, preSkip uint16) []byte {
	out := oggPage(0x02, 0, 0, opusHead(preSkip))
	out = append(out, oggPage(0, 0, 1, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"))...)
	var samples int64
	seq := uint32(2)
	for i := 0; i < len(packets); i += 50 {
		page := packets[i:min(i+50, len(packets))]
		samples += int64(len(page)) * 960
		flags := byte(0)
		if i+50 >= len(packets) {
			flags = 0x04
		}
		out = append(out, oggPage(flags, samples+int64(preSkip), seq, page...)...)
		seq++
	}
	return out
}

// ebml makes a Matroska element with an 8-byte size, or an unknown size
// with size < 0.
func ebml(id uint32, body []byte, size ...int) []byte {
	var b []byte
	switch {
	case id > 0xffffff:
		b = binary.BigEndian.AppendUint32(b, id)
	case id > 0xffff:
		b = append(b, byte(id>>16), byte(id>>8), byte(id))
	case id > 0xff:
		b = binary.BigEndian.AppendUint16(b, uint16(id))
	default:
		b = append(b, byte(id))
	}
	if len(size) > 0 && size[0] < 0 {
		b = append(b, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	} else {
		b = append(b, 0x01) // an 8-byte size: the marker, then 7 bytes
		for i := 6; i >= 0; i-- {
			b = append(b, byte(len(body)>>(8*i)))
		}
	}
	return append(b, body...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// webmOpus makes a WebM file as a browser's recorder does: segment and
// clusters of unknown size, no duration, one cluster a second.
func webmOpus(packets [][]byte, withDuration bool) []byte {
	info := ebml(idTimecodeScale, []byte{0x0f, 0x42, 0x40})
	if withDuration {
		info = cat(info, ebml(idDuration, binary.BigEndian.AppendUint64(nil, math.Float64bits(float64(len(packets)*20)))))
	}
	track := ebml(idTrackEntry, cat(
		ebml(idTrackNumber, []byte{1}),
		ebml(idTrackType, []byte{2}),
		ebml(idCodecID, []byte("A_OPUS")),
		ebml(0x63a2, opusHead(312)),
	))
	out := cat(
		ebml(idEBML, ebml(idDocType, []byte("webm"))),
		ebml(idSegment, nil, -1),
		ebml(idInfo, info),
		ebml(idTracks, track),
	)
	for i := 0; i < len(packets); i += 50 {
		var blocks []byte
		for j, p := range packets[i:min(i+50, len(packets))] {
			block := []byte{0x81, byte(j * 20 >> 8), byte(j * 20), 0x80}
			blocks = append(blocks, ebml(idSimpleBlock, append(block, p...))...)
		}
		cluster := ebml(idTimecode, binary.BigEndian.AppendUint32(nil, uint32(i*20)))
		out = cat(out, ebml(idCluster, nil, -1), cluster, blocks)
	}
	return out
}

func box(typ string, body ...[]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(cat(body...))))
	return append(append(b, typ...), cat(body...)...)
}

// m4a makes an MP4 audio file of 30 s: 1407 AAC frames of 1024 samples
// at 48 kHz, loud then quiet.
func m4a() []byte {
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], 30_000)
	mdhd := make([]byte, 24)
	binary.BigEndian.PutUint32(mdhd[12:], 48000)
	hdlr := append(make([]byte, 8), "soun"...)
	hdlr = append(hdlr, make([]byte, 13)...)
	n := 1407
	stsz := binary.BigEndian.AppendUint32(make([]byte, 8), uint32(n))
	for i := range n {
		size := uint32(400)
		if i >= n/2 {
			size = 10
		}
		stsz = binary.BigEndian.AppendUint32(stsz, size)
	}
	stts := binary.BigEndian.AppendUint32(make([]byte, 4), 1)
	stts = binary.BigEndian.AppendUint32(stts, uint32(n))
	stts = binary.BigEndian.AppendUint32(stts, 1024)
	return cat(
		box("ftyp", []byte("M4A \x00\x00\x00\x00isom")),
		box("moov",
			box("mvhd", mvhd),
			box("trak", box("mdia", box("mdhd", mdhd), box("hdlr", hdlr),
				box("minf", box("stbl", box("stsz", stsz), box("stts", stts)))))),
		box("mdat", make([]byte, 64)),
	)
}

// fragmentedM4A makes a fragmented MP4 of n samples (1407 make 30 s) as a browser's recorder
// writes it: an empty sample table, a movie header of duration 0, and
// fragments whose track runs give each sample's size (durations from the
// track's defaults).
func fragmentedM4A(n int) []byte {
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	tkhd := make([]byte, 84)
	binary.BigEndian.PutUint32(tkhd[12:], 1)
	mdhd := make([]byte, 24)
	binary.BigEndian.PutUint32(mdhd[12:], 48000)
	hdlr := append(make([]byte, 8), "soun"...)
	hdlr = append(hdlr, make([]byte, 13)...)
	trex := make([]byte, 24)
	binary.BigEndian.PutUint32(trex[4:], 1)
	binary.BigEndian.PutUint32(trex[12:], 1024)
	out := cat(
		box("ftyp", []byte("iso5\x00\x00\x02\x00iso6mp41")),
		box("moov",
			box("mvhd", mvhd),
			box("trak", box("tkhd", tkhd), box("mdia", box("mdhd", mdhd), box("hdlr", hdlr),
				box("minf", box("stbl", box("stsz", make([]byte, 12)), box("stts", make([]byte, 8)))))),
			box("mvex", box("trex", trex))),
	)
	for start := 0; start < n; start += 500 {
		count := min(500, n-start)
		trun := binary.BigEndian.AppendUint32(nil, 0x200)
		trun = binary.BigEndian.AppendUint32(trun, uint32(count))
		total := 0
		for i := start; i < start+count; i++ {
			size := 400
			if i >= n/2 {
				size = 10
			}
			trun = binary.BigEndian.AppendUint32(trun, uint32(size))
			total += size
		}
		tfhd := binary.BigEndian.AppendUint32(nil, 0)
		tfhd = binary.BigEndian.AppendUint32(tfhd, 1)
		out = cat(out, box("moof", box("traf", box("tfhd", tfhd), box("trun", trun))), box("mdat", make([]byte, total)))
	}
	return out
}

// loudThenQuiet checks a waveform of a recording loud for its first half
// and quiet for its second.
func loudThenQuiet(t *testing.T, w []uint8) {
	t.Helper()
	if len(w) != WaveformLen {
		t.Fatalf("waveform of %d levels", len(w))
	}
	for i, l := range w {
		switch {
		case i < WaveformLen/2-1 && l < 200:
			t.Fatalf("level %d of the loud half is %d: %v", i, l, w)
		case i > WaveformLen/2 && l > 20:
			t.Fatalf("level %d of the quiet half is %d: %v", i, l, w)
		}
	}
}

func TestReadVoice(t *testing.T) {
	for name, tc := range map[string]struct {
		data   []byte
		format string
		want   time.Duration
	}{
		"ogg":           {oggOpus(recording(), 312), Ogg, 30 * time.Second},
		"webm":          {webmOpus(recording(), false), WebM, 30 * time.Second},
		"webm duration": {webmOpus(recording(), true), WebM, 30 * time.Second},
		"m4a":           {m4a(), MP4, 30 * time.Second},
		"m4a fragments": {fragmentedM4A(1407), MP4, 30*time.Second + 16*time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := ReadVoice(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if v.Format != tc.format || v.Duration != tc.want {
				t.Fatalf("got %s of %v, want %s of %v", v.Format, v.Duration, tc.format, tc.want)
			}
			loudThenQuiet(t, v.Waveform)
		})
	}
}

func TestReadVoiceRefuses(t *testing.T) {
	ogg := oggOpus(recording(), 312)
	long := oggOpus(recording(), 0)
	// The last page claims a granule position of 16 minutes.
	last := bytes.LastIndex(long, []byte("OggS"))
	binary.LittleEndian.PutUint64(long[last+6:], 16*60*48000)
	vorbis := bytes.Replace(webmOpus(recording()[:10], false), []byte("A_OPUS"), []byte("A_VORB"), 1)
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{
		"text":        {[]byte("this is not a recording"), ErrUnsupported},
		"empty":       {nil, ErrUnsupported},
		"truncated":   {ogg[:len(ogg)-100], ErrCorrupt},
		"vorbis":      {vorbis, ErrUnsupported},
		"not opus":    {bytes.Replace(ogg, []byte("OpusHead"), []byte("OpusHeaX"), 1), ErrUnsupported},
		"too long":    {long, ErrTooLarge},
		"too large":   {make([]byte, MaxVoiceBytes+1), ErrTooLarge},
		"mp4 no mvhd": {cat(box("ftyp", []byte("M4A ")), box("moov")), ErrCorrupt},
		"mp4 box":     {cat(box("ftyp", []byte("M4A ")), []byte{0xff, 0xff, 0xff, 0xff, 'm', 'o', 'o', 'v'}), ErrCorrupt},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadVoice(tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestOpusSamples(t *testing.T) {
	for _, tc := range []struct {
		p    []byte
		want int
	}{
		{[]byte{0x00}, 480},        // SILK NB 10 ms
		{[]byte{0x18}, 2880},       // SILK NB 60 ms
		{[]byte{0x78}, 960},        // hybrid FB 20 ms
		{[]byte{0x80}, 120},        // CELT NB 2.5 ms
		{[]byte{0xf9}, 1920},       // CELT FB 20 ms, two frames
		{[]byte{0xfb, 0x03}, 2880}, // CELT FB 20 ms, three frames
		{nil, 0},
	} {
		got, err := opusSamples(tc.p)
		if err != nil || got != tc.want {
			t.Errorf("opusSamples(%x) = %d, %v; want %d", tc.p, got, err, tc.want)
		}
	}
	for _, p := range [][]byte{{0xfb}, {0xfb, 0x00}, {0xfb, 0x07}} { // no count, zero frames, 140 ms
		if _, err := opusSamples(p); !errors.Is(err, ErrCorrupt) {
			t.Errorf("opusSamples(%x): %v", p, err)
		}
	}
}
