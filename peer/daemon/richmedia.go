package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/internal/media"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/rich"
	"github.com/lanchat/lanchat/peer/history"
)

// apiMedia is the API view of a stored picture or recording.
func apiMedia(s rich.Stored) *api.Media {
	if s.Kind == content.KindImage {
		im := s.Image
		return &api.Media{Name: im.Name, Type: im.Type, Size: im.Size, Width: im.Width, Height: im.Height, Thumb: im.Thumb}
	}
	v := s.Voice
	return &api.Media{Name: v.Name, Type: v.Type, Size: v.Size, DurationMS: v.Duration, Waveform: v.Waveform}
}

// SendMedia sends a picture (with its thumbnail, metadata stripped
// unless kept) or a voice recording (with its duration and waveform),
// inline in the message: content.MaxInline bytes at most for now.
func (ms *messages) SendMedia(ctx context.Context, req api.SendMediaRequest) (api.SendResult, error) {
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
	var it content.Item
	if req.Kind == content.KindImage {
		p, err := media.Prepare(ctx, data, media.Options{KeepMetadata: req.KeepMetadata})
		if err != nil {
			return api.SendResult{}, api.Errorf(api.CodeInvalid, "%s is not a picture lanchat can send: %v", name, err)
		}
		w, h := p.Info.Upright()
		sum := sha256.Sum256(p.Full)
		it = content.Image{Name: name, Type: p.Info.MediaType(), Size: int64(len(p.Full)), SHA256: hex.EncodeToString(sum[:]),
			Width: w, Height: h, Thumb: p.Thumb, ThumbWidth: p.ThumbWidth, ThumbHeight: p.ThumbHeight,
			Caption: req.Caption, Data: p.Full}
		data = p.Full
	} else {
		v, err := media.ReadVoice(data)
		if err != nil {
			return api.SendResult{}, api.Errorf(api.CodeInvalid, "%s is not a voice recording lanchat can send: %v", name, err)
		}
		sum := sha256.Sum256(data)
		it = content.Voice{Name: name, Type: v.Type, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
			Duration: v.Duration.Milliseconds(), Waveform: v.Waveform, Data: data}
	}
	if len(data) > content.MaxInline {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "%s is %d bytes once prepared; for now a picture or recording travels inline, at most %d bytes: send it with lanchat send-file",
			name, len(data), content.MaxInline)
	}
	kind, meta, err := rich.Encode(it)
	if err != nil {
		return api.SendResult{}, api.Errorf(api.CodeInvalid, "%v", err)
	}
	text := name
	if req.Caption != "" {
		text = req.Caption
	}
	conv, to, err := ms.recipients(ctx, me, req.Target)
	if err != nil {
		return api.SendResult{}, err
	}
	id, err := newMessageID()
	if err != nil {
		return api.SendResult{}, err
	}
	m := history.Message{ID: id, Conversation: conv, From: me, Kind: kind, Body: text, Meta: meta, Sent: time.Now()}
	if _, err := ms.db.AddOutgoing(ctx, m, to); err != nil {
		return api.SendResult{}, fmt.Errorf("store %s: %w", kind, err)
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
func (d *Daemon) OpenMedia(ctx context.Context, id string) (api.OpenResult, error) {
	me, err := d.session.requireLogin()
	if err != nil {
		return api.OpenResult{}, err
	}
	m, err := d.messages.findMessage(ctx, me, id)
	if err != nil {
		return api.OpenResult{}, err
	}
	s, ok := rich.ParseMedia(m.Kind, m.Meta)
	if !ok {
		return api.OpenResult{}, api.Errorf(api.CodeInvalid, "message %s has no picture or recording", id)
	}
	name, data, ok := s.Data()
	if !ok {
		return api.OpenResult{}, api.Errorf(api.CodeNotFound, "the picture of %s came as a transfer: see lanchat transfers", id)
	}
	dir := d.transfers.downloads()
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
		_, werr := f.Write(data)
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
