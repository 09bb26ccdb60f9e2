package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Strip returns a copy of a picture without its metadata: EXIF (location,
// camera, time, its embedded thumbnail), XMP, IPTC, comments and text
// chunks. What the picture needs to show the same stays: its pixels, and
// in a JPEG the JFIF and Adobe segments, an ICC colour profile and the
// orientation (rewritten as an EXIF segment holding nothing else); in a
// PNG the palette, transparency and colour chunks; in a GIF the animation
// loop; in a WebP the animation, alpha and ICC chunks. Anything after the
// end of the picture is dropped too. The pixels are copied byte for byte,
// not re-encoded.
func Strip(data []byte) ([]byte, error) {
	switch f := Sniff(data); f {
	case JPEG:
		return stripJPEG(data)
	case PNG:
		return stripPNG(data)
	case GIF:
		return stripGIF(data)
	case WebP:
		return stripWebP(data)
	}
	return nil, fmt.Errorf("strip metadata: %w: not a JPEG, PNG, GIF or WebP image", ErrUnsupported)
}

// keepJPEG reports whether a JPEG segment before the scan stays.
func keepJPEG(marker byte, seg []byte) bool {
	switch {
	case marker == 0xe0: // APP0: JFIF only (JFXX carries a thumbnail)
		return bytes.HasPrefix(seg, []byte("JFIF\x00"))
	case marker == 0xe2:
		return bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00"))
	case marker == 0xee:
		return bytes.HasPrefix(seg, []byte("Adobe"))
	case marker >= 0xe1 && marker <= 0xef, marker == 0xfe: // other APPn, COM
		return false
	}
	return true // tables, frame header, restart interval
}

func stripJPEG(data []byte) ([]byte, error) {
	out := make([]byte, 0, len(data))
	out = append(out, 0xff, 0xd8)
	orientation := 1
	sos := walkJPEG(data, func(marker byte, seg []byte) bool {
		if marker == 0xe1 && orientation == 1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			orientation = exifOrientation(seg[6:])
			if orientation != 1 {
				out = append(out, orientationSegment(orientation)...)
			}
		}
		if keepJPEG(marker, seg) {
			out = append(out, 0xff, marker, byte((len(seg)+2)>>8), byte(len(seg)+2))
			out = append(out, seg...)
		}
		return true
	})
	if sos < 0 {
		return nil, fmt.Errorf("strip jpeg: %w: no scan after the headers", ErrCorrupt)
	}
	rest, err := stripScans(data[sos:])
	if err != nil {
		return nil, err
	}
	return append(out, rest...), nil
}

// stripScans copies a JPEG from its first start-of-scan marker to its end
// of image, dropping the APPn and COM segments a progressive picture may
// have between its scans, and whatever follows the end of the image
// (appended data, the other pictures of a multi-picture file).
func stripScans(data []byte) ([]byte, error) {
	bad := func(why string) error { return fmt.Errorf("strip jpeg: %w: %s", ErrCorrupt, why) }
	out := make([]byte, 0, len(data))
	p := 0
	for {
		for p+1 < len(data) && data[p] == 0xff && data[p+1] == 0xff { // fill bytes
			p++
		}
		if p+2 > len(data) || data[p] != 0xff {
			return nil, bad("no end of image")
		}
		marker := data[p+1]
		if marker == 0xd9 {
			return append(out, 0xff, 0xd9), nil
		}
		if p+4 > len(data) {
			return nil, bad("truncated segment")
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return nil, bad("segment past the end")
		}
		if keepJPEG(marker, data[p+4:p+2+n]) {
			out = append(out, data[p:p+2+n]...)
		}
		p += 2 + n
		if marker != 0xda {
			continue
		}
		// Entropy-coded data: every 0xff in it is followed by 0x00 (a
		// stuffed byte) or a restart marker; anything else is a marker.
		q := p
		for q+1 < len(data) {
			if data[q] != 0xff {
				q++
				continue
			}
			if b := data[q+1]; b == 0x00 || (b >= 0xd0 && b <= 0xd7) {
				q += 2
				continue
			}
			break
		}
		if q+1 >= len(data) {
			return nil, bad("no end of image")
		}
		out = append(out, data[p:q]...)
		p = q
	}
}

// keepPNG lists the chunks that stay: the critical ones, and the
// ancillary ones that change how the picture looks or moves.
var keepPNG = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "sBIT": true, "cICP": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

func stripPNG(data []byte) ([]byte, error) {
	out := make([]byte, 0, len(data))
	out = append(out, data[:8]...)
	p := 8
	for {
		if p+12 > len(data) {
			return nil, fmt.Errorf("strip png: %w: truncated chunk", ErrCorrupt)
		}
		n := int64(binary.BigEndian.Uint32(data[p:]))
		if n > int64(len(data)-p-12) {
			return nil, fmt.Errorf("strip png: %w: chunk of %d bytes past the end", ErrCorrupt, n)
		}
		typ := string(data[p+4 : p+8])
		end := p + 12 + int(n)
		if crc32.ChecksumIEEE(data[p+4:end-4]) != binary.BigEndian.Uint32(data[end-4:]) {
			return nil, fmt.Errorf("strip png: %w: bad checksum in chunk %q", ErrCorrupt, typ)
		}
		if keepPNG[typ] {
			out = append(out, data[p:end]...)
		}
		p = end
		if typ == "IEND" {
			return out, nil
		}
	}
}

func stripGIF(data []byte) ([]byte, error) {
	bad := func(why string) error { return fmt.Errorf("strip gif: %w: %s", ErrCorrupt, why) }
	if len(data) < 13 {
		return nil, bad("truncated header")
	}
	p := 13
	if data[10]&0x80 != 0 {
		p += 3 << (data[10]&7 + 1)
	}
	if p > len(data) {
		return nil, bad("truncated colour table")
	}
	out := make([]byte, 0, len(data))
	out = append(out, data[:p]...)
	// subBlocks returns the end of the sub-blocks starting at q.
	subBlocks := func(q int) int {
		for q < len(data) {
			n := int(data[q])
			q += 1 + n
			if n == 0 {
				return q
			}
		}
		return -1
	}
	for p < len(data) {
		switch data[p] {
		case 0x3b: // trailer
			return append(out, 0x3b), nil
		case 0x2c: // image: descriptor, local colour table, code size, data
			q := p + 10
			if q > len(data) {
				return nil, bad("truncated image descriptor")
			}
			if data[p+9]&0x80 != 0 {
				q += 3 << (data[p+9]&7 + 1)
			}
			end := subBlocks(q + 1)
			if q+1 > len(data) || end < 0 {
				return nil, bad("truncated image data")
			}
			out = append(out, data[p:end]...)
			p = end
		case 0x21: // extension
			if p+2 > len(data) {
				return nil, bad("truncated extension")
			}
			end := subBlocks(p + 2)
			if end < 0 {
				return nil, bad("truncated extension")
			}
			label, body := data[p+1], data[p+2:end]
			keep := label == 0xf9 || label == 0x01 || // graphic control, plain text
				(label == 0xff && bytes.HasPrefix(body, []byte("\x0bNETSCAPE2.0")))
			if keep {
				out = append(out, data[p:end]...)
			}
			p = end
		default:
			return nil, bad(fmt.Sprintf("unknown block 0x%02x", data[p]))
		}
	}
	return nil, bad("no trailer")
}

// keepWebP lists the RIFF chunks that stay: the picture, its alpha, its
// animation and its colour profile. EXIF, XMP and unknown chunks go.
var keepWebP = map[string]bool{"VP8X": true, "VP8 ": true, "VP8L": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true}

func stripWebP(data []byte) ([]byte, error) {
	bad := func(why string) error { return fmt.Errorf("strip webp: %w: %s", ErrCorrupt, why) }
	size := int64(binary.LittleEndian.Uint32(data[4:]))
	if size < 4 || size > int64(len(data)-8) {
		return nil, bad("riff size")
	}
	body := data[12 : 8+size]
	out := make([]byte, 12, len(data))
	copy(out, data[:12])
	for p := 0; p < len(body); {
		if p+8 > len(body) {
			return nil, bad("truncated chunk")
		}
		fourcc := string(body[p : p+4])
		n := int64(binary.LittleEndian.Uint32(body[p+4:]))
		end := int64(p) + 8 + n + n&1
		if end > int64(len(body)) {
			return nil, bad(fmt.Sprintf("chunk %q past the end", fourcc))
		}
		if keepWebP[fourcc] {
			start := len(out)
			out = append(out, body[p:end]...)
			if fourcc == "VP8X" && n >= 1 {
				out[start+8] &^= 0x08 | 0x04 // the EXIF and XMP flags
			}
		}
		p = int(end)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}
