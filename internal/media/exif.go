package media

import "encoding/binary"

// maxIFDEntries bounds how many entries of an EXIF directory are looked
// at; real ones have a few dozen.
const maxIFDEntries = 1024

// jpegOrientation returns the EXIF orientation (1–8) of a JPEG, or 1 when
// it has none or its EXIF does not parse.
func jpegOrientation(data []byte) int {
	o := 1
	walkJPEG(data, func(marker byte, seg []byte) bool {
		if marker == 0xe1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			o = exifOrientation(seg[6:])
			return false
		}
		return true
	})
	return o
}

// exifOrientation reads tag 0x0112 from the first directory of a TIFF
// structure (the body of an EXIF segment), or returns 1.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	p := off + 2
	for i := 0; i < n && i < maxIFDEntries; i, p = i+1, p+12 {
		if p+12 > uint64(len(t)) {
			return 1
		}
		e := t[p : p+12]
		if bo.Uint16(e) != 0x0112 {
			continue
		}
		if bo.Uint16(e[2:]) != 3 || bo.Uint32(e[4:]) != 1 { // one SHORT
			return 1
		}
		if v := int(bo.Uint16(e[8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}

// orientationSegment is an APP1 EXIF segment (marker, length and body)
// holding nothing but an orientation tag, so that a picture whose
// metadata is stripped still shows upright.
func orientationSegment(o int) []byte {
	b := []byte{0xff, 0xe1, 0, 34}
	b = append(b, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"...)
	b = append(b, 0, 1)             // one entry
	b = append(b, 0x01, 0x12, 0, 3) // orientation, SHORT
	b = append(b, 0, 0, 0, 1)       // count 1
	b = append(b, 0, byte(o), 0, 0) // value, padded
	return append(b, 0, 0, 0, 0)    // no next directory
}

// walkJPEG calls fn with each marker segment before the first scan (the
// marker byte and the segment's body, after its length) until fn returns
// false. It returns the offset of the start-of-scan marker, or -1 if the
// segments do not parse up to one.
func walkJPEG(data []byte, fn func(marker byte, seg []byte) bool) int {
	if len(data) < 2 || data[0] != 0xff || data[1] != 0xd8 {
		return -1
	}
	p := 2
	for {
		if p >= len(data) || data[p] != 0xff {
			return -1
		}
		for p < len(data) && data[p] == 0xff { // fill bytes
			p++
		}
		if p >= len(data) {
			return -1
		}
		marker := data[p]
		start := p - 1
		p++
		switch {
		case marker == 0xda: // start of scan
			return start
		case marker == 0xd9, marker == 0x00: // end of image before a scan; stuffed zero
			return -1
		case marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7): // no length
			continue
		}
		if p+2 > len(data) {
			return -1
		}
		n := int(binary.BigEndian.Uint16(data[p:]))
		if n < 2 || p+n > len(data) {
			return -1
		}
		if fn != nil && !fn(marker, data[p+2:p+n]) {
			return start
		}
		p += n
	}
}
