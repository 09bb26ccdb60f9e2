package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxAvatarReply bounds an avatar the client reads: avatars are under
// 64 KiB.
const maxAvatarReply = 64 << 10

// avatarRoutes serves GET /v1/avatars/{user}: the JPEG itself, not JSON,
// so that the web app can name it in an img element. Its ETag is the
// avatar's id; a client revalidates (no-cache) and gets 304 while it is
// unchanged.
func (h *handler) avatarRoutes() {
	h.mux.HandleFunc("GET /v1/avatars/{user}", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := h.serveAvatar(w, r)
		h.log.Debug("request", "route", r.Pattern, "status", status, "took", time.Since(start))
	})
}

func (h *handler) serveAvatar(w http.ResponseWriter, r *http.Request) int {
	av, err := h.svc.Avatar(r.Context(), r.PathValue("user"))
	if err != nil {
		return h.fail(w, r, err)
	}
	etag := strconv.Quote(av.ID)
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", "private, no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	hdr.Set("Content-Type", "image/jpeg")
	hdr.Set("Content-Length", strconv.Itoa(len(av.Data)))
	w.WriteHeader(http.StatusOK)
	w.Write(av.Data)
	return http.StatusOK
}

// Avatar fetches user's avatar (the JPEG bytes); an *Error with
// CodeNotFound if the daemon keeps none.
func (c *Client) Avatar(ctx context.Context, user string) ([]byte, error) {
	p, err := path("/v1/avatars/{}", user)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+p, nil)
	if err != nil {
		return nil, fmt.Errorf("make request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorReply))
		return nil, decodeErrorReply(resp.StatusCode, b)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAvatarReply+1))
	if err != nil {
		return nil, fmt.Errorf("read avatar: %w", err)
	}
	if len(b) > maxAvatarReply {
		return nil, fmt.Errorf("avatar of %s: more than %d bytes", user, maxAvatarReply)
	}
	return b, nil
}
