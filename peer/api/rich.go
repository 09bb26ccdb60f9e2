package api

import (
	"context"
	"net/http"
)

// RichService is the part of Service for what is done to messages once
// they are sent (docs/api.md, "Replies, reactions, edits and recall")
// and for the user's settings.
type RichService interface {
	// React adds (req.On) or takes back the user's reaction to message id.
	React(ctx context.Context, id string, req ReactRequest) (Message, error)
	// Edit replaces the text of the user's own message id (within 24 h).
	Edit(ctx context.Context, id string, req EditRequest) (Message, error)
	// Recall recalls the user's own message id (within 24 h). The
	// receivers keep the text unless they hide recalled messages.
	Recall(ctx context.Context, id string) (Message, error)
	// Settings returns the user's settings; SetSetting sets one.
	Settings(ctx context.Context) (Settings, error)
	SetSetting(ctx context.Context, name string, req SettingRequest) (Settings, error)
	// Mute mutes or unmutes the conversation with target: no desktop
	// notifications but for mentions; unread still counts.
	Mute(ctx context.Context, target string, muted bool) error
	// Mentions lists the messages that mention the user, oldest first.
	Mentions(ctx context.Context, limit int) ([]Message, error)
	// SendMedia sends a picture or voice recording (media.go);
	// OpenMedia writes one received to the downloads folder.
	SendMedia(ctx context.Context, req SendMediaRequest) (SendResult, error)
	OpenMedia(ctx context.Context, id string) (OpenResult, error)
}

// ReactRequest is the body of POST /v1/messages/{id}/react.
type ReactRequest struct {
	Emoji string `json:"emoji"`
	// On adds the reaction, false takes it back; absent toggles it.
	On *bool `json:"on,omitempty"`
}

// EditRequest is the body of POST /v1/messages/{id}/edit.
type EditRequest struct {
	Text string `json:"text"`
}

// SettingRequest is the body of PUT /v1/settings/{name}.
type SettingRequest struct {
	Value string `json:"value"`
}

// Settings are the user's settings (GET /v1/settings).
type Settings struct {
	// HideRecalled hides the text of messages their sender recalled; by
	// default it stays readable, marked recalled (anti-recall).
	HideRecalled bool `json:"hide-recalled"`
	// SendReadReceipts tells senders when their messages were read.
	SendReadReceipts bool `json:"send-read-receipts"`
	ShareKeep        bool `json:"share-keep"`
}

// Quote is the message a reply answers, as the reply carries it.
type Quote struct {
	From    string `json:"from"`
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Excerpt string `json:"excerpt,omitempty"`
}

// Reaction is one emoji on a message and who reacted with it.
type Reaction struct {
	Emoji string   `json:"emoji"`
	Count int      `json:"count"`
	Users []string `json:"users"`
}

func (h *handler) richRoutes() {
	h.mediaRoutes()
	h.handle("POST /v1/messages/{id}/react", func(r *http.Request) (any, error) {
		req, err := decode[ReactRequest](r)
		if err != nil {
			return nil, err
		}
		return h.rich.React(r.Context(), r.PathValue("id"), req)
	})
	h.handle("POST /v1/messages/{id}/edit", func(r *http.Request) (any, error) {
		req, err := decode[EditRequest](r)
		if err != nil {
			return nil, err
		}
		return h.rich.Edit(r.Context(), r.PathValue("id"), req)
	})
	h.handle("POST /v1/messages/{id}/recall", func(r *http.Request) (any, error) {
		return h.rich.Recall(r.Context(), r.PathValue("id"))
	})
	h.handle("POST /v1/conversations/{target}/mute", func(r *http.Request) (any, error) {
		return nil, h.rich.Mute(r.Context(), r.PathValue("target"), true)
	})
	h.handle("POST /v1/conversations/{target}/unmute", func(r *http.Request) (any, error) {
		return nil, h.rich.Mute(r.Context(), r.PathValue("target"), false)
	})
	h.handle("GET /v1/mentions", func(r *http.Request) (any, error) {
		limit, err := limitParam(r)
		if err != nil {
			return nil, err
		}
		return orEmpty(h.rich.Mentions(r.Context(), limit))
	})
	h.handle("GET /v1/settings", func(r *http.Request) (any, error) {
		return h.rich.Settings(r.Context())
	})
	h.handle("PUT /v1/settings/{name}", func(r *http.Request) (any, error) {
		req, err := decode[SettingRequest](r)
		if err != nil {
			return nil, err
		}
		return h.rich.SetSetting(r.Context(), r.PathValue("name"), req)
	})
}

// React adds or takes back a reaction to message id.
func (c *Client) React(ctx context.Context, id string, req ReactRequest) (Message, error) {
	p, err := path("/v1/messages/{}/react", id)
	if err != nil {
		return Message{}, err
	}
	return call[Message](ctx, c, http.MethodPost, p, req)
}

// Edit replaces the text of one's own message id.
func (c *Client) Edit(ctx context.Context, id string, req EditRequest) (Message, error) {
	p, err := path("/v1/messages/{}/edit", id)
	if err != nil {
		return Message{}, err
	}
	return call[Message](ctx, c, http.MethodPost, p, req)
}

// Recall recalls one's own message id.
func (c *Client) Recall(ctx context.Context, id string) (Message, error) {
	p, err := path("/v1/messages/{}/recall", id)
	if err != nil {
		return Message{}, err
	}
	return call[Message](ctx, c, http.MethodPost, p, nil)
}

// Mute mutes (or unmutes) the conversation with target.
func (c *Client) Mute(ctx context.Context, target string, muted bool) error {
	action := "unmute"
	if muted {
		action = "mute"
	}
	p, err := path("/v1/conversations/{}/{}", target, action)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, p, nil, nil)
}

// Mentions lists the messages that mention the user.
func (c *Client) Mentions(ctx context.Context, limit int) ([]Message, error) {
	return call[[]Message](ctx, c, http.MethodGet, "/v1/mentions"+queryString("limit", limitString(limit)), nil)
}

// Settings returns the user's settings.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	return call[Settings](ctx, c, http.MethodGet, "/v1/settings", nil)
}

// SetSetting sets one setting.
func (c *Client) SetSetting(ctx context.Context, name, value string) (Settings, error) {
	p, err := path("/v1/settings/{}", name)
	if err != nil {
		return Settings{}, err
	}
	return call[Settings](ctx, c, http.MethodPut, p, SettingRequest{Value: value})
}
