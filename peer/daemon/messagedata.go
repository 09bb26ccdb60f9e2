package daemon

import (
	"context"
	"fmt"
	"os"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/rich"
)

// The API's MessageDataService: what a message of the user's history
// holds beyond its listing.

// MediaData returns the picture or recording of a message in the user's
// history: inline in the message, or from the media store once it is
// there (sent from here, or arrived as its transfer).
func (r *richOps) MediaData(ctx context.Context, id string) (api.MediaData, error) {
	me, err := r.session.requireLogin()
	if err != nil {
		return api.MediaData{}, err
	}
	m, err := r.messages.findMessage(ctx, me, id)
	if err != nil {
		return api.MediaData{}, err
	}
	s, ok := rich.ParseMedia(m.Kind, m.Meta)
	if !ok {
		return api.MediaData{}, api.Errorf(api.CodeNotFound, "message %s has no picture or recording", id)
	}
	typ := s.Voice.Type
	if s.Kind == content.KindImage {
		typ = s.Image.Type
	}
	name, data, ok := s.Data()
	if ok {
		return api.MediaData{Name: name, Type: typ, Content: api.Bytes(data), Sent: m.Sent}, nil
	}
	_, name, sha, size := s.Follow()
	if !hasMedia(r.home, sha, size) {
		return api.MediaData{}, api.Errorf(api.CodeNotFound, "only the thumbnail of %s is here so far: the rest follows as a transfer", id)
	}
	f, err := os.Open(mediaPath(r.home, sha))
	if err != nil {
		return api.MediaData{}, fmt.Errorf("read the media of %s: %w", id, err)
	}
	return api.MediaData{Name: name, Type: typ, Content: f, Sent: m.Sent}, nil
}

// Versions returns every version of a message's text, oldest first; none
// for a message never edited. A recalled message the user hides shows no
// version's text either.
func (r *richOps) Versions(ctx context.Context, id string) ([]api.Version, error) {
	me, err := r.session.requireLogin()
	if err != nil {
		return nil, err
	}
	m, err := r.messages.findMessage(ctx, me, id)
	if err != nil {
		return nil, err
	}
	vs, err := r.messages.db.Versions(ctx, m.From, m.ID)
	if err != nil {
		return nil, fmt.Errorf("versions: %w", err)
	}
	hide := false
	if !m.Recalled.IsZero() {
		set, err := r.messages.db.Settings(ctx)
		if err != nil {
			return nil, fmt.Errorf("versions: %w", err)
		}
		hide = set.HideRecalled
	}
	out := make([]api.Version, 0, len(vs))
	for _, v := range vs {
		text := v.Body
		if hide {
			text = ""
		}
		out = append(out, api.Version{Text: text, Sent: v.Sent, Received: v.Received, Edit: v.Edit})
	}
	return out, nil
}
