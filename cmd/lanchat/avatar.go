package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lanchat/lanchat/internal/media"
)

// makeAvatar reads a picture and makes the avatar sent to the server: its
// centre square, at most media.AvatarSide pixels, a JPEG under
// media.MaxAvatar bytes.
func makeAvatar(ctx context.Context, name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("avatar: %w", err)
	}
	defer f.Close()
	data, err := media.ReadAll(f, media.DefaultLimits.Bytes)
	if err != nil {
		return nil, fmt.Errorf("avatar %s: %w", name, err)
	}
	av, err := media.Avatar(ctx, data, media.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("avatar %s: %w", name, err)
	}
	return av, nil
}
