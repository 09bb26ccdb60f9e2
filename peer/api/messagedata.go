package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MessageDataService is the part of Service that reads what a message
// holds beyond its listing: the bytes of its picture or recording, and
// every version of an edited text.
type MessageDataService interface {
	// MediaData returns the picture or recording of message id, a
	// message in the user's history.
	MediaData(ctx context.Context, id string) (MediaData, error)
	// Versions returns every version of message id's text, oldest
	// first; none for a message never edited.
	Versions(ctx context.Context, id string) ([]Version, error)
}

// MediaData is the picture or recording of an image or voice message.
type MediaData struct {
	Name string
	// Type is its media type: image/jpeg, image/png, image/gif,
	// image/webp, audio/ogg, audio/webm or audio/mp4.
	Type string
	// Content is the bytes (inline in the message, or a file of the
	// media store); whoever asked for it closes it.
	Content io.ReadSeekCloser
	// Sent is when the message was written, for Last-Modified.
	Sent time.Time
}

// Bytes makes a MediaData's Content of bytes held in memory.
func Bytes(b []byte) io.ReadSeekCloser { return nopCloser{bytes.NewReader(b)} }

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

// Version is one version of an edited message's text.
type Version struct {
	Text string    `json:"text"`
	Sent time.Time `json:"sent"`
	// Received is when this daemon took it.
	Received time.Time `json:"received"`
	// Edit is the id of the edit that wrote it; absent for the original.
	Edit string `json:"edit,omitempty"`
}

// mediaTypes are the only Content-Types GET /v1/messages/{id}/media
// sends; the message format allows no other.
var mediaTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
	"audio/ogg": true, "audio/webm": true, "audio/mp4": true,
}

// maxMediaReply bounds a picture or recording the client reads: the
// largest picture a message may describe.
const maxMediaReply = 32 << 20

func (h *handler) messageDataRoutes() {
	h.mux.HandleFunc("GET /v1/messages/{id}/media", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := h.serveMedia(w, r)
		h.log.Debug("request", "route", r.Pattern, "status", status, "took", time.Since(start))
	})
	h.handle("GET /v1/messages/{id}/versions", func(r *http.Request) (any, error) {
		return orEmpty(h.rich.Versions(r.Context(), r.PathValue("id")))
	})
}

// serveMedia sends the picture or recording itself, not JSON, so that
// the web app can name it in an img or audio element; ranges are served,
// for seeking in a recording.
func (h *handler) serveMedia(w http.ResponseWriter, r *http.Request) int {
	md, err := h.rich.MediaData(r.Context(), r.PathValue("id"))
	if err != nil {
		return h.fail(w, r, err)
	}
	defer md.Content.Close()
	typ := md.Type
	if !mediaTypes[typ] {
		typ = "application/octet-stream"
	}
	hdr := w.Header()
	hdr.Set("Content-Type", typ)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "private, max-age=3600")
	// Opened as a page of its own, it runs nothing.
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	http.ServeContent(sw, r, "", md.Sent, md.Content)
	return sw.status
}

// statusWriter remembers the status sent, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Media fetches the picture or recording of message id: its media type
// and bytes.
func (c *Client) Media(ctx context.Context, id string) (typ string, data []byte, err error) {
	p, err := path("/v1/messages/{}/media", id)
	if err != nil {
		return "", nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+p, nil)
	if err != nil {
		return "", nil, fmt.Errorf("make request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", nil, c.transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorReply))
		return "", nil, decodeErrorReply(resp.StatusCode, b)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMediaReply+1))
	if err != nil {
		return "", nil, fmt.Errorf("read media of %s: %w", id, err)
	}
	if len(b) > maxMediaReply {
		return "", nil, fmt.Errorf("media of %s: more than %d bytes", id, maxMediaReply)
	}
	return resp.Header.Get("Content-Type"), b, nil
}

// Versions lists every version of message id's text.
func (c *Client) Versions(ctx context.Context, id string) ([]Version, error) {
	p, err := path("/v1/messages/{}/versions", id)
	if err != nil {
		return nil, err
	}
	return call[[]Version](ctx, c, http.MethodGet, p, nil)
}
