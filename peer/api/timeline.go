package api

import (
	"context"
	"net/http"
)

// TimelineService is the part of Service for what a conversation shows
// beside its messages (docs/api.md, "Typing").
type TimelineService interface {
	// Typing tells req.To, over a direct connection only, that the user
	// is typing to them. At most one signal per conversation leaves every
	// TypingEvery; calls in between are accepted and fold into it. Nothing
	// is sent, and no error given, when no direct connection exists. A
	// #group is refused (CodeInvalid).
	Typing(ctx context.Context, req TypingRequest) error
}

// TypingRequest is the body of POST /v1/typing.
type TypingRequest struct {
	To string `json:"to"`
}

// FileItem is a transfer as its conversation shows it: the Transfer of a
// Message of kind "file". State is the transfer's (Transfer.State); Done
// and Total follow it while it moves. A send to a #group is one transfer
// per member and one item: ID is the first member's transfer, Transfers
// lists them all, State is the furthest any reached (done once one is
// done), Done and Total add them up.
type FileItem struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Size      int64    `json:"size"`
	Files     int      `json:"files,omitempty"`
	State     string   `json:"state"`
	Done      int64    `json:"done"`
	Total     int64    `json:"total"`
	Direction string   `json:"direction"` // send or receive
	Transfers []string `json:"transfers,omitempty"`
}

func (h *handler) timelineRoutes() {
	h.handle("POST /v1/typing", func(r *http.Request) (any, error) {
		req, err := decode[TypingRequest](r)
		if err != nil {
			return nil, err
		}
		if req.To == "" || len(req.To) > 256 {
			return nil, &Error{Code: CodeInvalid, Message: "typing: \"to\" must name a contact"}
		}
		return nil, h.svc.Typing(r.Context(), req)
	})
}

// Typing tells req.To that the user is typing (POST /v1/typing).
func (c *Client) Typing(ctx context.Context, req TypingRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/typing", req, nil)
}
