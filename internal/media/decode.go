package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"time"

	"golang.org/x/image/webp"
)

// The picture formats Decode reads.
const (
	JPEG = "jpeg"
	PNG  = "png"
	GIF  = "gif"
	WebP = "webp"
)

// Info describes a picture from its header.
type Info struct {
	Format string // JPEG, PNG, GIF or WebP
	Width  int    // as stored, before orientation
	Height int
	// Orientation is the EXIF orientation of a JPEG (1–8; 1 is upright,
	// and what every other picture has).
	Orientation int
}

// MediaType returns the picture's media type, as an image message names
// it: image/jpeg, image/png, image/gif or image/webp.
func (in Info) MediaType() string { return "image/" + in.Format }

// Upright returns the width and height once turned upright.
func (in Info) Upright() (w, h int) {
	if in.Orientation >= 5 {
		return in.Height, in.Width
	}
	return in.Width, in.Height
}

// ReadAll reads r to its end, refusing more than limit bytes with
// ErrTooLarge. It never allocates more than it has read.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// Sniff names the picture format data starts with, or returns "".
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		return JPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return GIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP
	}
	return ""
}

// DecodeInfo reads a picture's header and checks it against lim, without
// decoding its pixels.
func DecodeInfo(data []byte, lim Limits) (Info, error) {
	in, _, err := decodeConfig(data, lim)
	return in, err
}

// decodeConfig reads and checks the header; it also returns the decoder
// for the pixels.
func decodeConfig(data []byte, lim Limits) (Info, func(io.Reader) (image.Image, error), error) {
	var in Info
	if int64(len(data)) > lim.Bytes {
		return in, nil, fmt.Errorf("picture: %w: %d bytes, the most is %d", ErrTooLarge, len(data), lim.Bytes)
	}
	in.Format = Sniff(data)
	var (
		config func(io.Reader) (image.Config, error)
		decode func(io.Reader) (image.Image, error)
	)
	switch in.Format {
	case JPEG:
		config, decode = jpeg.DecodeConfig, jpeg.Decode
	case PNG:
		config, decode = png.DecodeConfig, png.Decode
	case GIF:
		config, decode = gif.DecodeConfig, gif.Decode
	case WebP:
		config, decode = webp.DecodeConfig, webp.Decode
	default:
		return in, nil, fmt.Errorf("picture: %w: not a JPEG, PNG, GIF or WebP image", ErrUnsupported)
	}
	var cfg image.Config
	err := safely(func() (err error) {
		cfg, err = config(bytes.NewReader(data))
		return err
	})
	if err != nil {
		return in, nil, fmt.Errorf("%s header: %w: %v", in.Format, ErrCorrupt, err)
	}
	in.Width, in.Height, in.Orientation = cfg.Width, cfg.Height, 1
	if in.Width <= 0 || in.Height <= 0 {
		return in, nil, fmt.Errorf("%s header: %w: %d×%d pixels", in.Format, ErrCorrupt, in.Width, in.Height)
	}
	if in.Width > lim.Side || in.Height > lim.Side {
		return in, nil, fmt.Errorf("%s: %w: %d×%d pixels, the most is %d on a side", in.Format, ErrTooLarge, in.Width, in.Height, lim.Side)
	}
	px := int64(in.Width) * int64(in.Height)
	if px > lim.Pixels {
		return in, nil, fmt.Errorf("%s: %w: %d×%d is %d pixels, the most is %d", in.Format, ErrTooLarge, in.Width, in.Height, px, lim.Pixels)
	}
	if mem := px * bytesPerPixel(cfg.ColorModel); mem > lim.Memory {
		return in, nil, fmt.Errorf("%s: %w: %d×%d pixels would take %d MiB, the most is %d MiB", in.Format, ErrTooLarge, in.Width, in.Height, mem>>20, lim.Memory>>20)
	}
	if in.Format == JPEG {
		in.Orientation = jpegOrientation(data)
	}
	return in, decode, nil
}

// bytesPerPixel is what a decoder allocates per pixel for a colour model,
// rounded up.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3 // 4:4:4 at worst
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// Decode decodes a picture after checking its header against lim, and
// stops (ErrTimeout) once lim.Time has passed or ctx is done. A GIF gives
// its first frame.
func Decode(ctx context.Context, data []byte, lim Limits) (image.Image, Info, error) {
	in, decode, err := decodeConfig(data, lim)
	if err != nil {
		return nil, in, err
	}
	r := &deadlineReader{r: bytes.NewReader(data), ctx: ctx, deadline: time.Now().Add(lim.Time)}
	var img image.Image
	err = safely(func() (err error) {
		img, err = decode(r)
		return err
	})
	if r.expired {
		return nil, in, fmt.Errorf("%s: %w (more than %v)", in.Format, ErrTimeout, lim.Time)
	}
	if err != nil {
		return nil, in, fmt.Errorf("%s: %w: %v", in.Format, ErrCorrupt, err)
	}
	if b := img.Bounds(); b.Dx() != in.Width || b.Dy() != in.Height {
		return nil, in, fmt.Errorf("%s: %w: decoded %v, header said %d×%d", in.Format, ErrCorrupt, b, in.Width, in.Height)
	}
	return img, in, nil
}

// errExpired is what a deadlineReader returns once its time is up.
var errExpired = errors.New("deadline passed")

// deadlineReader fails every read once its deadline has passed or its
// context is done, so that a decoder reading from it stops at its next
// read.
type deadlineReader struct {
	r        io.Reader
	ctx      context.Context
	deadline time.Time
	expired  bool
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if d.ctx.Err() != nil || time.Now().After(d.deadline) {
		d.expired = true
		return 0, errExpired
	}
	// Small reads, so the deadline is looked at often.
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	return d.r.Read(p)
}

// safely runs fn and turns a panic in a decoder into an error: the
// decoders are not ours, and a malformed picture must never take the
// daemon down.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panic: %v", p)
		}
	}()
	return fn()
}
