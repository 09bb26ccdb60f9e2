package api

import (
	"context"
	"net/http"
	"time"
)

// SendFileRequest offers files and folders to a user or a #group.
type SendFileRequest struct {
	Target string `json:"target"`
	// Paths are absolute paths on the daemon's machine.
	Paths []string `json:"paths"`
}

// SendFileResult lists the transfers made: one per recipient.
type SendFileResult struct {
	Transfers []Transfer `json:"transfers"`
	// Skipped lists what the folders held that is not sent (symbolic
	// links are not followed, devices and sockets are not files).
	Skipped []SkippedPath `json:"skipped,omitempty"`
}

// SkippedPath is one path left out of an offer, and why.
type SkippedPath struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// AcceptRequest accepts an offered transfer into Dir ("" for the
// downloads directory).
type AcceptRequest struct {
	Dir string `json:"dir,omitempty"`
}

// Transfer is one file transfer, sent or received.
type Transfer struct {
	ID string `json:"id"`
	// Direction is "send" or "receive".
	Direction string `json:"direction"`
	Peer      string `json:"peer"`
	// Group is the #group it was sent to, if any.
	Group string `json:"group,omitempty"`
	// State is queued, offered, active, waiting, done, failed, cancelled
	// or rejected.
	State string `json:"state"`
	// Name summarises what is sent ("report.pdf", "photos/ and 2 more").
	Name  string `json:"name"`
	Files int    `json:"files"`
	Total int64  `json:"total"`
	Done  int64  `json:"done"`
	// Rate is the current speed in bytes per second, while active.
	Rate float64 `json:"rate,omitempty"`
	// Dir is where a received transfer goes.
	Dir     string    `json:"dir,omitempty"`
	Error   string    `json:"error,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Transfer directions and states.
const (
	DirectionSend    = "send"
	DirectionReceive = "receive"

	TransferQueued    = "queued"
	TransferOffered   = "offered"
	TransferActive    = "active"
	TransferWaiting   = "waiting"
	TransferDone      = "done"
	TransferFailed    = "failed"
	TransferCancelled = "cancelled"
	TransferRejected  = "rejected"
)

// Final reports whether the transfer has ended for good.
func (t Transfer) Final() bool {
	switch t.State {
	case TransferDone, TransferFailed, TransferCancelled, TransferRejected:
		return true
	}
	return false
}

// SendFile offers files and folders to a user or #group.
func (c *Client) SendFile(ctx context.Context, req SendFileRequest) (SendFileResult, error) {
	return call[SendFileResult](ctx, c, http.MethodPost, "/v1/transfers", req)
}

// Transfers lists transfers, newest first.
func (c *Client) Transfers(ctx context.Context) ([]Transfer, error) {
	return call[[]Transfer](ctx, c, http.MethodGet, "/v1/transfers", nil)
}

// TransferAction runs accept, reject or cancel on transfer id.
func (c *Client) TransferAction(ctx context.Context, id, action string, req AcceptRequest) (Transfer, error) {
	p, err := path("/v1/transfers/{}/"+action, id)
	if err != nil {
		return Transfer{}, err
	}
	return call[Transfer](ctx, c, http.MethodPost, p, req)
}

// Transfer actions.
const (
	TransferAccept = "accept"
	TransferReject = "reject"
	TransferCancel = "cancel"
)
