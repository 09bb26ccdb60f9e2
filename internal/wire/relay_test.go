package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDecodeRelaySendBounds(t *testing.T) {
	env := func(n int) string {
		return fmt.Sprintf(`{"to":"bob","id":"%032x","envelope":"%s"}`, n, strings.Repeat("AAAA", n))
	}
	batch := func(sizes ...int) string {
		parts := make([]string, len(sizes))
		for i, n := range sizes {
			parts[i] = env(n)
		}
		return `{"envelopes":[` + strings.Join(parts, ",") + `]}`
	}
	many := make([]int, MaxRelayBatch+1)
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"one", batch(1), true},
		{"at the byte bound", batch(30, 30), true}, // 3 bytes per "AAAA": 180
		{"over the byte bound", batch(30, 31), false},
		{"at the count bound", batch(many[1:]...), true},
		{"over the count bound", batch(many...), false},
		{"none", `{"envelopes":[]}`, false},
		{"no field", `{}`, false},
		{"unknown field", `{"envelopes":[` + env(1) + `],"more":1}`, false},
		{"unknown envelope field", `{"envelopes":[{"to":"bob","x":1}]}`, false},
		{"not a list", `{"envelopes":{"to":"bob"}}`, false},
		{"bad base64", `{"envelopes":[{"to":"bob","id":"x","envelope":"!!"}]}`, false},
		{"trailing", batch(1) + `]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeRelaySend(json.RawMessage(tc.body), 180)
			if tc.ok && err != nil {
				t.Fatalf("DecodeRelaySend: %v", err)
			}
			if !tc.ok && (err == nil || !errors.Is(err, ErrMalformed)) {
				t.Fatalf("DecodeRelaySend: %v (%d envelopes), want a malformed error", err, len(req.Envelopes))
			}
		})
	}
}

// FuzzDecodeRelaySend: decoding never panics; a batch it accepts is
// within the bounds and encodes back to an equal batch.
func FuzzDecodeRelaySend(f *testing.F) {
	const maxBytes = 4096
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRelaySend(body, maxBytes)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if n := len(req.Envelopes); n < 1 || n > MaxRelayBatch {
			t.Fatalf("accepted %d envelopes", n)
		}
		total := 0
		for _, e := range req.Envelopes {
			total += len(e.Envelope)
		}
		if total > maxBytes {
			t.Fatalf("accepted %d envelope bytes, bound %d", total, maxBytes)
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		req2, err := DecodeRelaySend(again, maxBytes)
		if err != nil {
			t.Fatalf("re-encoded batch refused: %v", err)
		}
		if b, _ := json.Marshal(req2); string(b) != string(again) {
			t.Fatalf("round trip changed the batch:\n%s\n%s", again, b)
		}
	})
}
