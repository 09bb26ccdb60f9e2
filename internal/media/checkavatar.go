package media

import (
	"context"
	"fmt"
	"time"
)

// AvatarLimits bound decoding a received avatar, which must be a JPEG
// within the avatar's bounds.
var AvatarLimits = Limits{Bytes: MaxAvatar - 1, Pixels: AvatarSide * AvatarSide, Side: AvatarSide, Memory: 4 * AvatarSide * AvatarSide, Time: 2 * time.Second}

// CheckAvatar checks that a received avatar is what Avatar makes: a square
// JPEG of at most AvatarSide pixels a side, under MaxAvatar bytes, that
// decodes. It returns the side. The rendezvous server calls it before it
// keeps an avatar; a daemon calls it again before it keeps one it fetched.
func CheckAvatar(ctx context.Context, data []byte) (side int, err error) {
	if len(data) >= MaxAvatar {
		return 0, fmt.Errorf("avatar: %w: %d bytes, it must be under %d", ErrTooLarge, len(data), MaxAvatar)
	}
	if Sniff(data) != JPEG {
		return 0, fmt.Errorf("avatar: %w: not a JPEG", ErrUnsupported)
	}
	img, _, err := Decode(ctx, data, AvatarLimits)
	if err != nil {
		return 0, fmt.Errorf("avatar: %w", err)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if w != h {
		return 0, fmt.Errorf("avatar: %w: %d×%d pixels, it must be square", ErrUnsupported, w, h)
	}
	return w, nil
}
