package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// fuzzMaxFrame keeps the fuzzer's frames small enough that oversized
// length prefixes are easy to reach.
const fuzzMaxFrame = 1 << 16

// FuzzDecodeFrame feeds arbitrary bytes to a Reader. Reading must never
// panic, must fail only with the documented errors, and every frame it
// returns must encode and decode back to an equal frame.
func FuzzDecodeFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), fuzzMaxFrame)
		for {
			fr, err := r.ReadFrame()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			checkReencode(t, fr)
		}
	})
}

func checkReencode(t *testing.T, fr *Frame) {
	t.Helper()
	buf, err := AppendFrame(nil, fr)
	if err != nil {
		t.Fatalf("re-encode %+v: %v", fr, err)
	}
	// Encoding may grow a frame (escaping "<" in a body, say), so read it
	// back without the fuzzing limit.
	again, err := NewReader(bytes.NewReader(buf), len(buf)).ReadFrame()
	if err != nil {
		t.Fatalf("decode re-encoded frame %q: %v", buf, err)
	}
	if !framesEqual(fr, again) {
		t.Fatalf("round trip changed the frame:\n got %+v\nwant %+v", again, fr)
	}
}

// FuzzDecodeBody decodes arbitrary bytes into every request body type. It
// must never panic, fail only with ErrMalformed, accept only valid JSON,
// and whatever it accepts must encode to a body it accepts again.
func FuzzDecodeBody(f *testing.F) {
	bodies := []func() any{
		func() any { return new(HelloRequest) },
		func() any { return new(RegisterRequest) },
		func() any { return new(LoginRequest) },
		func() any { return new(ResumeRequest) },
		func() any { return new(PasswdRequest) },
		func() any { return new(ProfileUpdateRequest) },
		func() any { return new(PrekeyRotateRequest) },
		func() any { return new(UsersSearchRequest) },
		func() any { return new(UserRequest) },
		func() any { return new(PresenceSetRequest) },
		func() any { return new(GroupRequest) },
		func() any { return new(GroupUserRequest) },
		func() any { return new(GroupRenameRequest) },
		func() any { return new(RelaySendRequest) },
		func() any { return new(RelayAckRequest) },
		func() any { return new(Empty) },
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, newBody := range bodies {
			v := newBody()
			err := DecodeBody(json.RawMessage(data), v)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("%T: unexpected error %v", v, err)
				}
				continue
			}
			if len(data) > 0 && !json.Valid(data) {
				t.Fatalf("%T: accepted invalid JSON %q", v, data)
			}
			enc, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T: re-encode %+v: %v", v, v, err)
			}
			if err := DecodeBody(enc, newBody()); err != nil {
				t.Fatalf("%T: decode re-encoded %s: %v", v, enc, err)
			}
		}
	})
}
