package wire

import (
	"encoding/json"
	"fmt"
)

// MaxRelayBatch bounds the envelopes of one relay.send request and of one
// relay event.
const MaxRelayBatch = 256

// DecodeRelaySend decodes a relay.send body and checks the batch's bounds:
// 1 to MaxRelayBatch envelopes, their bytes together at most maxBytes. It
// checks no envelope's fields; those are checked one by one, each with its
// own result. Any error wraps ErrMalformed: such a batch is the client's
// fault, not one envelope's.
func DecodeRelaySend(body json.RawMessage, maxBytes int) (*RelaySendRequest, error) {
	var req RelaySendRequest
	if err := DecodeBody(body, &req); err != nil {
		return nil, err
	}
	if n := len(req.Envelopes); n == 0 || n > MaxRelayBatch {
		return nil, fmt.Errorf("%w: relay.send carries %d envelopes; 1 to %d may go in one request", ErrMalformed, n, MaxRelayBatch)
	}
	total := 0
	for _, e := range req.Envelopes {
		total += len(e.Envelope)
	}
	if total > maxBytes {
		return nil, fmt.Errorf("%w: relay.send carries %d envelope bytes; at most %d may go in one request", ErrMalformed, total, maxBytes)
	}
	return &req, nil
}
