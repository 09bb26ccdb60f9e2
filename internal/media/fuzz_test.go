package media

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the seed corpora in testdata/fuzz")

// fuzzLimits keep each fuzz run small.
var fuzzLimits = Limits{Bytes: 1 << 20, Pixels: 1 << 18, Side: 2048, Memory: 4 << 20, Time: 2 * time.Second}

// refused reports whether err wraps one of the package's sentinels.
func refused(err error) bool {
	for _, want := range []error{ErrUnsupported, ErrTooLarge, ErrCorrupt, ErrTimeout} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

// FuzzPrepare feeds arbitrary bytes to Prepare and Avatar: they must not
// panic, must refuse only with the package's errors, and what they accept
// must keep to the documented bounds.
func FuzzPrepare(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Prepare(context.Background(), b, Options{Limits: fuzzLimits})
		if err != nil {
			if !refused(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(p.Thumb) >= MaxThumb || p.ThumbWidth > ThumbSide || p.ThumbHeight > ThumbSide {
			t.Fatalf("thumbnail %d×%d, %d bytes", p.ThumbWidth, p.ThumbHeight, len(p.Thumb))
		}
		if Sniff(p.Thumb) != JPEG {
			t.Fatal("thumbnail is not a JPEG")
		}
		a, err := Avatar(context.Background(), b, fuzzLimits)
		if err != nil || len(a) >= MaxAvatar {
			t.Fatalf("avatar of a picture Prepare took: %v, %d bytes", err, len(a))
		}
	})
}

// FuzzStrip feeds arbitrary bytes to Strip: it must not panic, must refuse
// only with the package's errors, and what it makes of a picture that
// decodes must decode to the same size.
func FuzzStrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Strip(b)
		if err != nil {
			if !refused(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(out) > len(b)+64 {
			t.Fatalf("stripped copy grew from %d to %d bytes", len(b), len(out))
		}
		want, _, err := Decode(context.Background(), b, fuzzLimits)
		if err != nil {
			return
		}
		got, _, err := Decode(context.Background(), out, fuzzLimits)
		if err != nil {
			t.Fatalf("the picture decodes but its stripped copy does not: %v", err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("stripped copy is %v, the picture %v", got.Bounds(), want.Bounds())
		}
	})
}

// FuzzExifOrientation feeds arbitrary TIFF structures to the orientation
// reader: it must not panic and must answer 1–8.
func FuzzExifOrientation(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := exifOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

// FuzzReadVoice feeds arbitrary bytes to ReadVoice: it must not panic,
// must refuse only with the package's errors, and what it accepts must
// keep to its bounds.
func FuzzReadVoice(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ReadVoice(b)
		if err != nil {
			if !refused(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if v.Duration <= 0 || v.Duration > MaxVoiceDuration || len(v.Waveform) > WaveformLen {
			t.Fatalf("accepted %s of %v with %d levels", v.Format, v.Duration, len(v.Waveform))
		}
	})
}

// TestWriteSeeds writes the seed corpora with -update-seeds.
func TestWriteSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	jpg := withSegments(encodeJPEG(t, halves(40, 30)), exifSegment(6), comment(secret))
	png := encodePNG(t, halves(8, 8))
	pictures := map[string][]byte{
		"jpeg-exif":  jpg,
		"png":        png,
		"webp":       []byte(tinyWebP),
		"webp-exif":  webpWithEXIF(),
		"bomb":       bombPNG(t, 3000),
		"truncated":  jpg[:len(jpg)/2],
		"text":       []byte("not a picture"),
		"png-header": png[:33],
	}
	writeSeeds(t, "FuzzPrepare", pictures)
	writeSeeds(t, "FuzzStrip", pictures)
	short := recording()[740:760]
	writeSeeds(t, "FuzzReadVoice", map[string][]byte{
		"ogg":      oggOpus(short, 312),
		"webm":     webmOpus(short, false),
		"webm-dur": webmOpus(short, true),
		"m4a":      m4a(),
		"m4a-frag": fragmentedM4A(12),
		"text":     []byte("not a recording"),
		"ogg-cut":  oggOpus(short, 312)[:60],
		"webm-cut": webmOpus(short, false)[:90],
	})
	seg := exifSegment(8)
	writeSeeds(t, "FuzzExifOrientation", map[string][]byte{
		"little-endian": seg[10:],
		"big-endian":    orientationSegment(6)[10:],
		"empty":         {},
		"loop":          []byte("MM\x00\x2a\x00\x00\x00\x08\xff\xff"),
	})
}

func writeSeeds(t *testing.T, fuzz string, seeds map[string][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", fuzz)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
