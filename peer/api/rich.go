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
	h.handle("POST /v1/messages/{id}/react", func(r *http.Request) (any, error) {
		req, err := decode[ReactRequest](r)
		if err != nil {
			return nil, err
		}
		return h.svc.React(r.Context(), r.PathValue("id"), req)
	})
	h.handle("POST /v1/messages/{id}/edit", func(r *http.Request) (any, error) {
		req, err := decode[EditRequest](r)
		if err != nil {
			return nil, err
		}
		return h.svc.Edit(r.Context(), r.PathValue("id"), req)
	})
	h.handle("POST /v1/messages/{id}/recall", func(r *http.Request) (any, error) {
		return h.svc.Recall(r.Context(), r.PathValue("id"))
	})
	h.handle("GET /v1/settings", func(r *http.Request) (any, error) {
		return h.svc.Settings(r.Context())
	})
	h.handle("PUT /v1/settings/{name}", func(r *http.Request) (any, error) {
		req, err := decode[SettingRequest](r)
		if err != nil {
			return nil, err
		}
		return h.svc.SetSetting(r.Context(), r.PathValue("name"), req)
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
