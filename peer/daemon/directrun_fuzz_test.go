package daemon

import (
	"testing"

	"github.com/lanchat/lanchat/internal/envelope"
)

// FuzzRunBodies feeds arbitrary bytes to the decoders of a run of direct
// messages, the request's body (and each message in it) and the answer's,
// which come from a peer: they must never panic, and what they accept
// stays within its bounds.
func FuzzRunBodies(f *testing.F) {
	f.Add([]byte(`{"messages":["AbzfpyGnPiaMRyGtHsBMu6kFYWxpY2UDYm9iABjtWrtsNg8iBHRleHQAAAAJaGVsbG8gYm9i"]}`), 1)
	f.Add([]byte(`{"taken":1,"error":{"code":"conflict","message":"message id already used"}}`), 2)
	f.Add([]byte(`{"taken":3}`), 3)
	f.Add([]byte(`{"messages":[]}`), 0)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if msgs, werr := decodeRun(body); werr == nil {
			if len(msgs) == 0 || len(msgs) > maxRunMessages {
				t.Fatalf("decodeRun took %d messages", len(msgs))
			}
			for _, b := range msgs {
				envelope.Decode(b)
			}
		}
		n = min(max(n, 0), maxRunMessages)
		if taken, _, err := runTaken(body, n); err == nil && (taken < 0 || taken > n) {
			t.Fatalf("runTaken = %d of %d", taken, n)
		}
	})
}
