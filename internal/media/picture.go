package media

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"time"

	"golang.org/x/image/draw"
)

// Bounds of what Prepare and Avatar make.
const (
	// ThumbSide is the longest side of a thumbnail, in pixels.
	ThumbSide = 320
	// MaxThumb bounds a thumbnail: it is under MaxThumb bytes.
	MaxThumb = 48 << 10
	// AvatarSide is the side of an avatar, in pixels (smaller if the
	// picture is).
	AvatarSide = 256
	// MaxAvatar bounds an avatar: it is under MaxAvatar bytes.
	MaxAvatar = 64 << 10
)

// qualities are the JPEG qualities tried, best first, until a picture
// fits its byte budget; then it is made smaller and they are tried again.
var qualities = []int{85, 75, 65, 55, 45, 35}

// minSide is the smallest side fitting a budget may shrink a picture to.
const minSide = 16

// ThumbLimits bound decoding a received thumbnail, which must be a JPEG
// within the thumbnail's bounds.
var ThumbLimits = Limits{Bytes: MaxThumb, Pixels: ThumbSide * ThumbSide, Side: ThumbSide, Memory: 4 * ThumbSide * ThumbSide, Time: 2 * time.Second}

// CheckThumb checks that a received thumbnail is a JPEG of at most
// ThumbSide pixels a side and MaxThumb bytes that decodes, and returns
// its size. The receiver of an image message calls it before showing
// the thumbnail.
func CheckThumb(ctx context.Context, data []byte) (w, h int, err error) {
	if Sniff(data) != JPEG {
		return 0, 0, fmt.Errorf("thumbnail: %w: not a JPEG", ErrUnsupported)
	}
	img, _, err := Decode(ctx, data, ThumbLimits)
	if err != nil {
		return 0, 0, fmt.Errorf("thumbnail: %w", err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy(), nil
}

// Picture is a picture ready to be sent.
type Picture struct {
	Info Info
	// Thumb is a JPEG of at most ThumbSide pixels on its long side and
	// under MaxThumb bytes, upright, without metadata.
	Thumb       []byte
	ThumbWidth  int
	ThumbHeight int
	// Full is the picture itself, without metadata unless asked to keep
	// it (see Strip).
	Full []byte
}

// Options tune Prepare.
type Options struct {
	// KeepMetadata sends the picture as it is, EXIF and all.
	KeepMetadata bool
	// Limits bound decoding; zero means DefaultLimits.
	Limits Limits
}

// Prepare checks that data is a picture that decodes within the limits
// and makes its thumbnail and (unless opt.KeepMetadata) its stripped copy.
func Prepare(ctx context.Context, data []byte, opt Options) (Picture, error) {
	lim := opt.Limits
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	img, in, err := Decode(ctx, data, lim)
	if err != nil {
		return Picture{}, err
	}
	p := Picture{Info: in, Full: data}
	w, h := fit(in.Width, in.Height, ThumbSide)
	p.Thumb, p.ThumbWidth, p.ThumbHeight, err = encodeUnder(img, in.Orientation, w, h, MaxThumb)
	if err != nil {
		return Picture{}, fmt.Errorf("thumbnail: %w", err)
	}
	if !opt.KeepMetadata {
		if p.Full, err = Strip(data); err != nil {
			return Picture{}, err
		}
	}
	return p, nil
}

// Avatar makes an avatar of a picture: its centre square, upright, at most
// AvatarSide pixels, a JPEG under MaxAvatar bytes without metadata.
func Avatar(ctx context.Context, data []byte, lim Limits) ([]byte, error) {
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	img, in, err := Decode(ctx, data, lim)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2
	sq := subImage(img, image.Rect(x0, y0, x0+side, y0+side))
	n := min(side, AvatarSide)
	out, _, _, err := encodeUnder(sq, in.Orientation, n, n, MaxAvatar)
	if err != nil {
		return nil, fmt.Errorf("avatar: %w", err)
	}
	return out, nil
}

// subImage crops img to r, sharing its pixels where the type allows.
func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	return dst
}

// fit scales w×h down (never up) so that its long side is at most side.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}

// encodeUnder scales img to w×h (stored orientation), turns it upright,
// and encodes it as a JPEG of less than budget bytes, lowering the quality
// and then the size until it fits. It returns the JPEG and its upright
// size.
func encodeUnder(img image.Image, orientation, w, h, budget int) ([]byte, int, int, error) {
	img = reduce(img, w, h)
	for w >= minSide || h >= minSide {
		small := image.NewRGBA(image.Rect(0, 0, w, h))
		// JPEG has no alpha: what is transparent shows white.
		draw.Draw(small, small.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.CatmullRom.Scale(small, small.Bounds(), img, img.Bounds(), draw.Over, nil)
		up := orient(small, orientation)
		var buf bytes.Buffer
		for _, q := range qualities {
			buf.Reset()
			if err := jpeg.Encode(&buf, up, &jpeg.Options{Quality: q}); err != nil {
				return nil, 0, 0, fmt.Errorf("encode jpeg: %w", err)
			}
			if buf.Len() < budget {
				b := up.Bounds()
				return bytes.Clone(buf.Bytes()), b.Dx(), b.Dy(), nil
			}
		}
		w, h = max(1, w*3/4), max(1, h*3/4)
	}
	return nil, 0, 0, fmt.Errorf("%w: no JPEG of this picture fits in %d bytes", ErrTooLarge, budget)
}

// reduce halves img (bilinear, which at half size averages each 2×2
// block) until it is at most twice w×h, so that the slow but good
// Catmull-Rom kernel that makes the final size reads few pixels: scaling
// 12 megapixels straight to 320 with it takes seconds.
func reduce(img image.Image, w, h int) image.Image {
	for {
		b := img.Bounds()
		if b.Dx() <= 2*w || b.Dy() <= 2*h {
			return img
		}
		nw, nh := max(b.Dx()/2, 2*w), max(b.Dy()/2, 2*h)
		half := image.NewRGBA(image.Rect(0, 0, nw, nh))
		draw.ApproxBiLinear.Scale(half, half.Bounds(), img, b, draw.Src, nil)
		img = half
	}
}

// orient turns a picture stored with an EXIF orientation upright.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			dst.SetRGBA(x, y, src.RGBAAt(sx, sy))
		}
	}
	return dst
}
