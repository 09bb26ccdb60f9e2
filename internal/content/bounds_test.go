package content

import (
	"testing"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/transfer"
)

// TestBoundsAgree checks the bounds this package repeats (to stay a
// leaf) against their sources.
func TestBoundsAgree(t *testing.T) {
	for name, c := range map[string][2]int64{
		"MaxBody":          {MaxBody, envelope.MaxBody},
		"MaxThumb":         {MaxThumb, media.MaxThumb},
		"ThumbSide":        {ThumbSide, media.ThumbSide},
		"MaxImageSize":     {MaxImageSize, media.DefaultLimits.Bytes},
		"MaxImageSide":     {MaxImageSide, int64(media.DefaultLimits.Side)},
		"MaxVoiceSize":     {MaxVoiceSize, media.MaxVoiceBytes},
		"MaxVoiceDuration": {MaxVoiceDuration, media.MaxVoiceDuration.Milliseconds()},
		"WaveformLen":      {WaveformLen, media.WaveformLen},
		"ShareChunkSize":   {ShareChunkSize, transfer.ChunkSize},
		"MaxFileSize":      {MaxFileSize, transfer.MaxTotalSize},
	} {
		if c[0] != c[1] {
			t.Errorf("%s is %d here, %d at its source", name, c[0], c[1])
		}
	}
}
