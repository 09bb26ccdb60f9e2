package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/rich"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// apiMedia is the API view of a stored picture or recording. Full says
// whether its bytes are here (inline, or in the media store); an
// incoming one that follows as a transfer names it.
func (ms *messages) apiMedia(m history.Message, s rich.Stored) *api.Media {
	var out *api.Media
	if s.Kind == content.KindImage {
		im := s.Image
		out = &api.Media{Name: im.Name, Type: im.Type, Size: im.Size, Width: im.Width, Height: im.Height, Thumb: im.Thumb}
	} else {
		v := s.Voice
		out = &api.Media{Name: v.Name, Type: v.Type, Size: v.Size, DurationMS: v.Duration, Waveform: v.Waveform}
	}
	x, _, sha, size := s.Follow()
	switch {
	case x == "":
		out.Full = true
	default:
		out.Full = hasMedia(ms.home, sha, size)
		if !m.Outgoing {
			out.Transfer = rich.MediaTransferID(x, ms.session.self())
		}
	}
	return out
}

// SendMedia sends a picture (with its thumbnail, metadata stripped
// unless kept) or a voice recording (with its duration and waveform).
// Up to content.MaxInline bytes it travels inside the message; a larger
// one is kept in the media store and follows as a transfer to each
// recipient (mediatransfer.go), the message carrying its thumbnail, size
// and SHA-256.
func (ms *messages) SendMedia(ctx context.Context, req api.SendMediaRequest, tr *transfers) (api.SendResult, error) {
	me, err := ms.session.requireLogin()
	if err != nil {
		return api.SendResult{}, err
	}
	limit := int64(content.MaxImageSize)
	if req.Kind == content.KindVoice {
		limit = content.MaxVoiceSize
	} else if req.Kind != content.KindImage {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "kind is image or voice, not %q", req.Kind)
	}
	f, err := os.Open(req.Path)
	if err != nil {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	data, err := media.ReadAll(f, limit)
	f.Close()
	if err != nil {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "%s: %v", req.Path, err)
	}
	name := filepath.Base(req.Path)
	if req.Kind == content.KindImage {
		p, err := media.Prepare(ctx, data, media.Options{KeepMetadata: req.KeepMetadata})
		if err != nil {
			return api.SendResult{}, api.Errorf(api.CodeInvalid, "%s is not a picture lanchat can send: %v", name, err)
		}
		data = p.Full
		w, h := p.Info.Upright()
		sum := sha256.Sum256(data)
		im := content.Image{Name: name, Type: p.Info.MediaType(), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
			Width: w, Height: h, Thumb: p.Thumb, ThumbWidth: p.ThumbWidth, ThumbHeight: p.ThumbHeight,
			Caption: req.Caption}
		return ms.sendMedia(ctx, me, req.Target, rich.Stored{Kind: content.KindImage, Image: im}, data, tr)
	}
	v, err := media.ReadVoice(data)
	if err != nil {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "%s is not a voice recording lanchat can send: %v", name, err)
	}
	sum := sha256.Sum256(data)
	vo := content.Voice{Name: name, Type: v.Type, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		Duration: v.Duration.Milliseconds(), Waveform: v.Waveform}
	return ms.sendMedia(ctx, me, req.Target, rich.Stored{Kind: content.KindVoice, Voice: vo}, data, tr)
}

// sendMedia sends the image or voice message s, whose picture or
// recording is data: inline if it fits, else by a transfer to each
// recipient.
func (ms *messages) sendMedia(ctx context.Context, me, target string, s rich.Stored, data []byte, tr *transfers) (api.SendResult, error) {
	conv, to, err := ms.recipients(ctx, me, target)
	if err != nil {
		return api.SendResult{}, err
	}
	inline := len(data) <= content.MaxInline
	var path string
	if inline {
		s.Image.Data, s.Voice.Data = data, data
	} else {
		x := transfer.NewID()
		s.Image.Transfer, s.Voice.Transfer = x, x
		_, _, sha, _ := s.Follow()
		if path, err = keepMedia(ms.home, sha, data); err != nil {
			return api.SendResult{}, err
		}
	}
	var it content.Item = s.Image
	text := s.Image.Name
	if s.Kind == content.KindVoice {
		it, text = s.Voice, s.Voice.Name
	} else if s.Image.Caption != "" {
		text = s.Image.Caption
	}
	kind, meta, err := rich.Encode(it)
	if err != nil {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	id, err := newMessageID()
	if err != nil {
		return api.SendResult{}, err
	}
	var follow []string
	if !inline {
		if follow, err = tr.followMedia(ctx, me, id, conv, to, s, path); err != nil {
			return api.SendResult{}, err
		}
	}
	m := history.Message{ID: id, Conversation: conv, From: me, Kind: kind, Body: text, Meta: meta, Sent: time.Now()}
	if _, err := ms.db.AddOutgoing(ctx, m, to); err != nil {
		tr.endMedia(follow, "its message could not be stored")
		return api.SendResult{}, fmt.Errorf("store %s: %w", kind, err)
	}
	if !inline {
		tr.kickTransfers()
	}
	if stored, err := ms.db.Message(ctx, me, id); err == nil {
		if out := ms.richMessages(ctx, []history.Message{stored}); len(out) == 1 {
			ms.notify(api.Event{Type: api.EventMessage, Message: &out[0]})
		}
	}
	ms.outbox.Kick()
	return api.SendResult{ID: id, Via: api.ViaQueued}, nil
}

// OpenMedia writes the picture or recording of a message to the
// downloads folder (a free name) and returns where.
func (r *richOps) OpenMedia(ctx context.Context, id string) (api.OpenResult, error) {
	me, err := r.session.requireLogin()
	if err != nil {
		return api.OpenResult{}, err
	}
	m, err := r.messages.findMessage(ctx, me, id)
	if err != nil {
		return api.OpenResult{}, err
	}
	s, ok := rich.ParseMedia(m.Kind, m.Meta)
	if !ok {
		return api.OpenResult{}, api.Errorf(api.CodeInvalid, "message %s has no picture or recording", id)
	}
	name, data, ok := s.Data()
	var src *os.File
	if !ok {
		x, _, sha, size := s.Follow()
		what := "picture"
		if s.Kind == content.KindVoice {
			what = "recording"
		}
		if !hasMedia(r.home, sha, size) {
			if m.Outgoing {
				return api.OpenResult{}, api.Errorf(api.CodeNotFound, "the %s of %s is no longer in your media store", what, id)
			}
			return api.OpenResult{}, api.Errorf(api.CodeNotFound,
				"only the thumbnail of %s is here so far: the full %s follows as transfer %s once you and %s are both online with a direct path (lanchat transfers)",
				id, what, rich.MediaTransferID(x, me), m.From)
		}
		if src, err = os.Open(mediaPath(r.home, sha)); err != nil {
			return api.OpenResult{}, fmt.Errorf("read the %s of %s: %w", what, id, err)
		}
		defer src.Close()
	}
	dir := r.transfers.downloads()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return api.OpenResult{}, fmt.Errorf("downloads folder: %w", err)
	}
	ext := filepath.Ext(name)
	base := name[:len(name)-len(ext)]
	for i := 0; i < 1000; i++ {
		p := filepath.Join(dir, name)
		if i > 0 {
			p = filepath.Join(dir, fmt.Sprintf("%s (%d)%s", base, i, ext))
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return api.OpenResult{}, fmt.Errorf("write %s: %w", p, err)
		}
		var werr error
		if src != nil {
			_, werr = io.Copy(f, src)
		} else {
			_, werr = f.Write(data)
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(p)
			return api.OpenResult{}, fmt.Errorf("write %s: %w", p, werr)
		}
		return api.OpenResult{Path: p}, nil
	}
	return api.OpenResult{}, fmt.Errorf("no free name for %s in %s", name, dir)
}
