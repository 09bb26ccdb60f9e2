package media

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// noise makes a w×h picture of random colours: the hardest to compress,
// so that fitting a byte budget needs lower qualities and sizes.
func noise(w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	return img
}

// halves makes a w×h picture, red on its left half and blue on its right.
func halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// secret is what metadata in the test pictures holds; no sent copy may
// contain it.
const secret = "GPS 48.8584N 2.2945E Canon EOS"

// exifSegment is an APP1 EXIF segment with an orientation tag and, in a
// second tag, the secret.
func exifSegment(orientation int) []byte {
	t := []byte("II\x2a\x00\x08\x00\x00\x00")
	t = binary.LittleEndian.AppendUint16(t, 2)
	t = append(t, 0x12, 0x01, 3, 0, 1, 0, 0, 0, byte(orientation), 0, 0, 0)
	off := 8 + 2 + 24 + 4
	t = append(t, 0x0f, 0x01, 2, 0) // Make, ASCII
	t = binary.LittleEndian.AppendUint32(t, uint32(len(secret)+1))
	t = binary.LittleEndian.AppendUint32(t, uint32(off))
	t = append(t, 0, 0, 0, 0)
	t = append(t, secret+"\x00"...)
	body := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xff, 0xe1, byte((len(body) + 2) >> 8), byte(len(body) + 2)}
	return append(seg, body...)
}

// withSegments inserts segments right after a JPEG's SOI marker.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

func comment(s string) []byte {
	return append([]byte{0xff, 0xfe, byte((len(s) + 2) >> 8), byte(len(s) + 2)}, s...)
}

func TestPrepareJPEGStripsMetadataAndKeepsOrientation(t *testing.T) {
	src := withSegments(encodeJPEG(t, halves(1000, 600)), exifSegment(6), comment(secret))
	p, err := Prepare(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Info.Format != JPEG || p.Info.Width != 1000 || p.Info.Height != 600 || p.Info.Orientation != 6 {
		t.Fatalf("info %+v", p.Info)
	}
	if w, h := p.Info.Upright(); w != 600 || h != 1000 || p.Info.MediaType() != "image/jpeg" {
		t.Fatalf("upright %d×%d, type %s", w, h, p.Info.MediaType())
	}
	if bytes.Contains(p.Full, []byte(secret)) {
		t.Fatal("the full picture still holds the metadata")
	}
	if !bytes.Contains(src, []byte(secret)) {
		t.Fatal("test picture lacks its metadata")
	}
	if o := jpegOrientation(p.Full); o != 6 {
		t.Fatalf("stripped picture has orientation %d, want 6", o)
	}
	full, err := jpeg.Decode(bytes.NewReader(p.Full))
	if err != nil || full.Bounds().Dx() != 1000 {
		t.Fatalf("stripped picture: %v %v", err, full)
	}
	// Upright, the 1000×600 picture is 600×1000: the thumbnail 192×320,
	// red on top (the stored left half) and blue below.
	if p.ThumbWidth != 192 || p.ThumbHeight != 320 || len(p.Thumb) >= MaxThumb {
		t.Fatalf("thumbnail %d×%d, %d bytes", p.ThumbWidth, p.ThumbHeight, len(p.Thumb))
	}
	th, err := jpeg.Decode(bytes.NewReader(p.Thumb))
	if err != nil {
		t.Fatal(err)
	}
	if b := th.Bounds(); b.Dx() != 192 || b.Dy() != 320 {
		t.Fatalf("thumbnail decodes as %v", b)
	}
	if bytes.Contains(p.Thumb, []byte(secret)) || bytes.Contains(p.Thumb, []byte("Exif")) {
		t.Fatal("thumbnail carries metadata")
	}
	top, bottom := th.At(96, 20), th.At(96, 300)
	if r, _, b, _ := top.RGBA(); r < 0xc000 || b > 0x4000 {
		t.Fatalf("top of the upright thumbnail is %v, want red", top)
	}
	if r, _, b, _ := bottom.RGBA(); b < 0xc000 || r > 0x4000 {
		t.Fatalf("bottom of the upright thumbnail is %v, want blue", bottom)
	}

	kept, err := Prepare(context.Background(), src, Options{KeepMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept.Full, src) {
		t.Fatal("KeepMetadata changed the picture")
	}
}

func TestThumbnailFitsBudget(t *testing.T) {
	// Noise makes a 320×240 JPEG well over 48 KiB at the first quality
	// tried.
	src := encodeJPEG(t, noise(1000, 750))
	p, err := Prepare(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Thumb) >= MaxThumb || max(p.ThumbWidth, p.ThumbHeight) > ThumbSide {
		t.Fatalf("thumbnail %d×%d, %d bytes", p.ThumbWidth, p.ThumbHeight, len(p.Thumb))
	}
	var first bytes.Buffer
	jpeg.Encode(&first, noise(320, 240), &jpeg.Options{Quality: qualities[0]})
	if first.Len() <= MaxThumb {
		t.Fatalf("the test picture fits at the first quality (%d bytes); it tests nothing", first.Len())
	}
	// A small picture is never scaled up.
	small, err := Prepare(context.Background(), encodePNG(t, halves(40, 30)), Options{})
	if err != nil || small.ThumbWidth != 40 || small.ThumbHeight != 30 {
		t.Fatalf("small picture: %v, %d×%d", err, small.ThumbWidth, small.ThumbHeight)
	}
}

func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

func TestStripPNGAndGIFAndWebP(t *testing.T) {
	p := encodePNG(t, halves(20, 10))
	// tEXt after IHDR (8 + 25 bytes), and junk after IEND.
	withText := append(append(append([]byte(nil), p[:33]...), pngChunk("tEXt", []byte("Author\x00"+secret))...), p[33:]...)
	withText = append(withText, secret...)

	var g bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	if err := gif.Encode(&g, pal, nil); err != nil {
		t.Fatal(err)
	}
	gb := g.Bytes()
	// A comment extension before the image (after header, screen
	// descriptor and the 2-colour table).
	commentExt := append([]byte{0x21, 0xfe, byte(len(secret))}, secret+"\x00"...)
	withComment := append(append(append([]byte(nil), gb[:13+6]...), commentExt...), gb[13+6:]...)

	for name, src := range map[string][]byte{"png": withText, "gif": withComment, "webp": webpWithEXIF()} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := Decode(context.Background(), src, DefaultLimits); err != nil {
				t.Fatalf("test picture does not decode: %v", err)
			}
			out, err := Strip(src)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out, []byte(secret)) {
				t.Fatal("metadata survived")
			}
			img, _, err := Decode(context.Background(), out, DefaultLimits)
			if err != nil {
				t.Fatalf("stripped picture does not decode: %v", err)
			}
			if want, _, _ := Decode(context.Background(), src, DefaultLimits); img.Bounds() != want.Bounds() ||
				img.At(0, 0) != want.At(0, 0) {
				t.Fatal("stripped picture differs")
			}
		})
	}
}

// tinyWebP is a 1×1 lossless WebP.
const tinyWebP = "RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"

// webpWithEXIF wraps tinyWebP in the extended format with an EXIF chunk.
func webpWithEXIF() []byte {
	vp8x := []byte("VP8X\x0a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	exif := []byte("EXIF")
	exif = binary.LittleEndian.AppendUint32(exif, uint32(len(secret)))
	exif = append(exif, secret...)
	if len(secret)%2 == 1 {
		exif = append(exif, 0)
	}
	body := append(append(append([]byte("WEBP"), vp8x...), tinyWebP[12:]...), exif...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func TestRefusesWhatIsNotAPicture(t *testing.T) {
	jpg := encodeJPEG(t, halves(64, 64))
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{
		"text":           {[]byte("hello, this is not a picture"), ErrUnsupported},
		"empty":          {nil, ErrUnsupported},
		"svg":            {[]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ErrUnsupported},
		"truncated jpeg": {jpg[:len(jpg)/2], ErrCorrupt},
		"png header":     {[]byte("\x89PNG\r\n\x1a\n"), ErrCorrupt},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Prepare(context.Background(), tc.data, Options{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// bombPNG is a 1-bit grey PNG of side×side pixels, all black: about
// side²/8 bytes of zeros compress to a few kilobytes, which a decoder
// would expand to side² bytes.
func bombPNG(t testing.TB, side int) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(side))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(side))
	ihdr = append(ihdr, 1, 0, 0, 0, 0) // 1 bit, grey
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+(side+7)/8)
	for range side {
		zw.Write(row)
	}
	zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

func TestDecompressionBombRefusedWithBoundedMemory(t *testing.T) {
	for _, side := range []int{20000, 12000} { // over the side limit; within it but over the pixel limit
		bomb := bombPNG(t, side)
		if len(bomb) > 100<<10 {
			t.Fatalf("bomb is %d bytes", len(bomb))
		}
		refuseBomb(t, bomb, side)
	}

	// Within the side and pixel limits but over the memory limit: 16-bit
	// RGBA at 6000×6000 would take 288 MB.
	deep := make([]byte, 0, 64)
	deep = append(deep, "\x89PNG\r\n\x1a\n"...)
	ihdr := binary.BigEndian.AppendUint32(nil, 6000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 6000)
	deep = append(deep, pngChunk("IHDR", append(ihdr, 16, 6, 0, 0, 0))...)
	if _, err := DecodeInfo(deep, DefaultLimits); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("16-bit 6000×6000: got %v, want ErrTooLarge", err)
	}
}

func refuseBomb(t *testing.T, bomb []byte, side int) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Prepare(context.Background(), bomb, Options{})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte bomb claiming %d×%d refused in %v, %d bytes allocated: %v", len(bomb), side, side, took, alloc, err)
	if alloc > 1<<20 {
		t.Fatalf("refusing the bomb allocated %d bytes", alloc)
	}
}

func TestCheckThumb(t *testing.T) {
	p, err := Prepare(context.Background(), encodeJPEG(t, halves(800, 600)), Options{})
	mustNil(t, err)
	w, h, err := CheckThumb(context.Background(), p.Thumb)
	if err != nil || w != p.ThumbWidth || h != p.ThumbHeight {
		t.Fatalf("own thumbnail: %d×%d, %v", w, h, err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want error
	}{
		"png":       {encodePNG(t, halves(10, 10)), ErrUnsupported},
		"too big":   {encodeJPEG(t, halves(321, 10)), ErrTooLarge},
		"truncated": {p.Thumb[:len(p.Thumb)/2], ErrCorrupt},
	} {
		if _, _, err := CheckThumb(context.Background(), tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDecodeStopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Decode(ctx, encodePNG(t, halves(100, 100)), DefaultLimits)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
}

func TestAvatar(t *testing.T) {
	src := withSegments(encodeJPEG(t, noise(1200, 600)), exifSegment(1))
	a, err := Avatar(context.Background(), src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() > AvatarSide || len(a) >= MaxAvatar {
		t.Fatalf("avatar %v, %d bytes", b, len(a))
	}
	if bytes.Contains(a, []byte(secret)) {
		t.Fatal("avatar carries metadata")
	}
	// The centre square of a 1200×600 picture half red, half blue is
	// half red, half blue too.
	a, err = Avatar(context.Background(), encodePNG(t, halves(1200, 600)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	img, _ = jpeg.Decode(bytes.NewReader(a))
	if b := img.Bounds(); b.Dx() != AvatarSide {
		t.Fatalf("avatar of 1200×600 is %v", b)
	}
	if r, _, _, _ := img.At(10, 128).RGBA(); r < 0xc000 {
		t.Fatal("left of the avatar is not red")
	}
	if _, _, b, _ := img.At(245, 128).RGBA(); b < 0xc000 {
		t.Fatal("right of the avatar is not blue")
	}
	if _, err := Avatar(context.Background(), []byte("nope"), Limits{}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("avatar of text: %v", err)
	}
}

func TestOrient(t *testing.T) {
	// A 2×1 picture: red at (0,0), blue at (1,0).
	src := image.NewRGBA(image.Rect(0, 0, 2, 1))
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	src.SetRGBA(0, 0, red)
	src.SetRGBA(1, 0, blue)
	for o, want := range map[int][]color.RGBA{
		1: {red, blue}, 2: {blue, red}, 3: {blue, red}, 4: {red, blue}, // 2×1
		5: {red, blue}, 6: {red, blue}, 7: {blue, red}, 8: {blue, red}, // 1×2, top then bottom
	} {
		dst := orient(src, o)
		var got []color.RGBA
		if o >= 5 {
			got = []color.RGBA{dst.RGBAAt(0, 0), dst.RGBAAt(0, 1)}
		} else {
			got = []color.RGBA{dst.RGBAAt(0, 0), dst.RGBAAt(1, 0)}
		}
		if got[0] != want[0] || got[1] != want[1] {
			t.Errorf("orientation %d: got %v, want %v", o, got, want)
		}
	}
}
