package api

import (
	"context"
	"net/http"
	"time"
)

// LibraryService is the part of Service for the shared file libraries
// of groups and rooms (docs/api.md, "Shared files").
type LibraryService interface {
	// ShareAdd publishes files, and the files of folders, to the
	// library of req.Target ("#group" or "#room").
	ShareAdd(ctx context.Context, req ShareAddRequest) (ShareList, error)
	// Shares lists a library.
	Shares(ctx context.Context, target string) (ShareList, error)
	// ShareGet downloads a library item from the members holding it and
	// returns once it is verified and in place.
	ShareGet(ctx context.Context, req ShareGetRequest) (ShareGetResult, error)
	// ShareRemove withdraws an item: its sharer, or an owner or admin.
	ShareRemove(ctx context.Context, target, id string) error
	// ShareKeep sets whether fetched files stay available to others.
	ShareKeep(ctx context.Context, req ShareKeepRequest) error
}

// Bounds of the library requests.
const (
	// MaxSharePaths bounds the paths of one ShareAddRequest, and
	// MaxSharedFiles the files they may hold together.
	MaxSharePaths  = 256
	MaxSharedFiles = 1000
)

// ShareAddRequest is the body of POST /v1/library/{target}.
type ShareAddRequest struct {
	Target string   `json:"target,omitempty"`
	Paths  []string `json:"paths"`
}

// Share is one item of a library.
type Share struct {
	ID     string    `json:"id"`
	Path   string    `json:"path"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	Sharer string    `json:"sharer"`
	Shared time.Time `json:"shared"`
	// Holders counts the members serving it (the sharer included), and
	// Online those of them online now whose copy did not fail a check.
	Holders int `json:"holders"`
	Online  int `json:"online"`
	// Available: this user holds it, or a holder is online now.
	Available bool `json:"available"`
	// Held: this user serves a copy of it.
	Held bool `json:"held,omitempty"`
	// Refused are the holders whose copy failed this user's hash check:
	// it is not available from them until they hold it anew.
	Refused []string `json:"refused,omitempty"`
}

// ShareList is the reply to GET /v1/library/{target}, newest first.
type ShareList struct {
	Target string  `json:"target"`
	Shares []Share `json:"shares"`
}

// ShareGetRequest is the body of POST /v1/library/{target}/{id}/get.
// Dir is where the file goes (default: the downloads folder).
type ShareGetRequest struct {
	Target string `json:"target,omitempty"`
	ID     string `json:"id,omitempty"`
	Dir    string `json:"dir,omitempty"`
}

// ShareGetResult is a completed download.
type ShareGetResult struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	// Bytes came in this download, Resumed were kept from an earlier
	// one; From counts the bytes by holder.
	Bytes   int64            `json:"bytes"`
	Resumed int64            `json:"resumed,omitempty"`
	From    map[string]int64 `json:"from,omitempty"`
}

// ShareKeepRequest is the body of PUT /v1/library/keep.
type ShareKeepRequest struct {
	On bool `json:"on"`
}

func (h *handler) libraryRoutes() {
	h.handle("PUT /v1/library/keep", func(r *http.Request) (any, error) {
		req, err := decode[ShareKeepRequest](r)
		if err != nil {
			return nil, err
		}
		return nil, h.lib.ShareKeep(r.Context(), req)
	})
	h.handle("POST /v1/library/{target}", func(r *http.Request) (any, error) {
		req, err := decode[ShareAddRequest](r)
		if err != nil {
			return nil, err
		}
		if req.Target != "" && req.Target != r.PathValue("target") {
			return nil, Errorf(CodeInvalid, "the body's target differs from the path's")
		}
		req.Target = r.PathValue("target")
		if len(req.Paths) == 0 || len(req.Paths) > MaxSharePaths {
			return nil, Errorf(CodeInvalid, "give 1 to %d paths", MaxSharePaths)
		}
		l, err := h.lib.ShareAdd(r.Context(), req)
		l.Shares = nonNil(l.Shares)
		return l, err
	})
	h.handle("GET /v1/library/{target}", func(r *http.Request) (any, error) {
		l, err := h.lib.Shares(r.Context(), r.PathValue("target"))
		l.Shares = nonNil(l.Shares)
		return l, err
	})
	h.handle("POST /v1/library/{target}/{id}/get", func(r *http.Request) (any, error) {
		req, err := decode[ShareGetRequest](r)
		if err != nil {
			return nil, err
		}
		req.Target, req.ID = r.PathValue("target"), r.PathValue("id")
		return h.lib.ShareGet(r.Context(), req)
	})
	h.handle("DELETE /v1/library/{target}/{id}", func(r *http.Request) (any, error) {
		return nil, h.lib.ShareRemove(r.Context(), r.PathValue("target"), r.PathValue("id"))
	})
}

// ShareAdd publishes files and folders to a library.
func (c *Client) ShareAdd(ctx context.Context, req ShareAddRequest) (ShareList, error) {
	p, err := path("/v1/library/{}", req.Target)
	if err != nil {
		return ShareList{}, err
	}
	return call[ShareList](ctx, c, http.MethodPost, p, req)
}

// Shares lists a library.
func (c *Client) Shares(ctx context.Context, target string) (ShareList, error) {
	p, err := path("/v1/library/{}", target)
	if err != nil {
		return ShareList{}, err
	}
	return call[ShareList](ctx, c, http.MethodGet, p, nil)
}

// ShareGet downloads a library item.
func (c *Client) ShareGet(ctx context.Context, req ShareGetRequest) (ShareGetResult, error) {
	p, err := path("/v1/library/{}/{}/get", req.Target, req.ID)
	if err != nil {
		return ShareGetResult{}, err
	}
	return call[ShareGetResult](ctx, c, http.MethodPost, p, ShareGetRequest{Dir: req.Dir})
}

// ShareRemove withdraws a library item.
func (c *Client) ShareRemove(ctx context.Context, target, id string) error {
	p, err := path("/v1/library/{}/{}", target, id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, p, nil, nil)
}

// ShareKeep sets whether fetched files stay available to others.
func (c *Client) ShareKeep(ctx context.Context, on bool) error {
	return c.do(ctx, http.MethodPut, "/v1/library/keep", ShareKeepRequest{On: on}, nil)
}
