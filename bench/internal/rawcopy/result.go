package rawcopy

import (
	"encoding/json"
	"io"
	"time"
)

// Result is the one JSON line each end prints when a copy is done; the
// benchmark reads it.
type Result struct {
	Role    string  `json:"role"` // "send" or "receive"
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"` // first byte to last, synced (receiver) or acknowledged (sender)
	Sink    string  `json:"sink,omitempty"`
	Cipher  string  `json:"cipher,omitempty"`
	// Details are transport facts worth checking: socket buffer sizes,
	// GSO, flow-control windows.
	Details map[string]any `json:"details,omitempty"`
}

// Print writes r as one line of JSON.
func (r *Result) Print(w io.Writer, elapsed time.Duration) error {
	r.Seconds = elapsed.Seconds()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
