package api

import (
	"context"
	"net/http"
)

// SendMediaRequest is the body of POST /v1/media: a picture or a voice
// recording, read by the daemon from Path.
type SendMediaRequest struct {
	Target string `json:"target"`
	Path   string `json:"path"`
	// Kind is "image" or "voice".
	Kind string `json:"kind"`
	// KeepMetadata sends a picture with its EXIF and other metadata.
	KeepMetadata bool   `json:"keep_metadata,omitempty"`
	Caption      string `json:"caption,omitempty"`
}

// Media describes the picture or recording of an image or voice message.
type Media struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	// Duration and Waveform are a recording's.
	DurationMS int64   `json:"duration_ms,omitempty"`
	Waveform   []uint8 `json:"waveform,omitempty"`
	// Thumb is a picture's thumbnail, a JPEG (base64 in JSON).
	Thumb []byte `json:"thumb,omitempty"`
	// Full says the full picture or recording is here (lanchat open
	// writes it out); false while only the thumbnail is, as the full
	// one follows as a transfer.
	Full bool `json:"full"`
	// Transfer is, for an incoming picture or recording that follows as
	// a transfer, that transfer's id (lanchat transfers shows it).
	Transfer string `json:"transfer,omitempty"`
}

// OpenResult is the reply to POST /v1/messages/{id}/open: where the
// picture or recording was written.
type OpenResult struct {
	Path string `json:"path"`
}

func (h *handler) mediaRoutes() {
	h.handle("POST /v1/media", func(r *http.Request) (any, error) {
		req, err := decode[SendMediaRequest](r)
		if err != nil {
			return nil, err
		}
		return h.rich.SendMedia(r.Context(), req)
	})
	h.handle("POST /v1/messages/{id}/open", func(r *http.Request) (any, error) {
		return h.rich.OpenMedia(r.Context(), r.PathValue("id"))
	})
}

// SendMedia sends a picture or a voice recording.
func (c *Client) SendMedia(ctx context.Context, req SendMediaRequest) (SendResult, error) {
	return call[SendResult](ctx, c, http.MethodPost, "/v1/media", req)
}

// OpenMedia writes the picture or recording of message id to the
// downloads folder and returns its path.
func (c *Client) OpenMedia(ctx context.Context, id string) (OpenResult, error) {
	p, err := path("/v1/messages/{}/open", id)
	if err != nil {
		return OpenResult{}, err
	}
	return call[OpenResult](ctx, c, http.MethodPost, p, nil)
}
