package media

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestCheckAvatar(t *testing.T) {
	ctx := context.Background()
	av, err := Avatar(ctx, encodeJPEG(t, noise(900, 600)), Limits{})
	mustNil(t, err)
	side, err := CheckAvatar(ctx, av)
	if err != nil || side != AvatarSide {
		t.Fatalf("CheckAvatar of an avatar: %d, %v", side, err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"png", encodePNG(t, noise(64, 64)), ErrUnsupported},
		{"not square", encodeJPEG(t, noise(64, 32)), ErrUnsupported},
		{"too wide", encodeJPEG(t, halves(300, 300)), ErrTooLarge},
		{"too many bytes", append(bytes.Clone(av), make([]byte, MaxAvatar)...), ErrTooLarge},
		{"truncated", av[:len(av)/3], ErrCorrupt},
		{"text", []byte("hello"), ErrUnsupported},
	} {
		if _, err := CheckAvatar(ctx, tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// FuzzCheckAvatar feeds arbitrary bytes to CheckAvatar: it must not panic,
// must refuse only with the package's errors, and what it accepts must
// keep to the avatar's bounds.
func FuzzCheckAvatar(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		side, err := CheckAvatar(context.Background(), b)
		if err != nil {
			if !refused(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if side < 1 || side > AvatarSide || len(b) >= MaxAvatar {
			t.Fatalf("accepted a %d px avatar of %d bytes", side, len(b))
		}
	})
}

// TestWriteAvatarSeeds writes FuzzCheckAvatar's seeds with -update-seeds.
func TestWriteAvatarSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	av, err := Avatar(context.Background(), encodeJPEG(t, halves(40, 40)), Limits{})
	mustNil(t, err)
	writeSeeds(t, "FuzzCheckAvatar", map[string][]byte{
		"avatar":     av,
		"not-square": encodeJPEG(t, halves(40, 20)),
		"png":        encodePNG(t, halves(8, 8)),
		"truncated":  av[:len(av)/2],
		"text":       []byte("not a picture"),
	})
}
