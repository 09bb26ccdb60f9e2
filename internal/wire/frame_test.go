package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// frameBytes encodes a raw payload with its length prefix.
func frameBytes(payload string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	return append(b, payload...)
}

func TestFrameRoundTrip(t *testing.T) {
	req, err := NewRequest(7, OpFriendRequest, UserRequest{Username: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewResponse(7, FriendRequestResponse{Status: "pending"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvent(EvPresence, Presence{Username: "bob", Status: StatusOnline, Endpoints: []string{"[::1]:9000"}})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := NewResponse(8, nil)
	if err != nil {
		t.Fatal(err)
	}
	frames := []*Frame{
		req,
		res,
		ev,
		empty,
		{Kind: KindResponse, ID: 9, Error: &Error{Code: CodeNotFound, Message: "no user zed", Field: "username"}},
		{Kind: KindResponse, ID: 10, Error: &Error{Code: CodeRateLimited, Message: "slow down", RetryAfterMS: 1500}},
		{Kind: KindError, Error: Errorf(CodeFrameTooLarge, "too big")},
		{Kind: KindRequest, ID: 1<<64 - 1, Op: strings.Repeat("o", maxOpLen), Body: json.RawMessage(`{"big":"` + strings.Repeat("x", 10000) + `"}`)},
		{Kind: KindEvent, Op: EvShutdown, Body: json.RawMessage(`{"message":"héllo, 世界 \u2028"}`)},
	}
	var stream bytes.Buffer
	for _, f := range frames {
		if err := WriteFrame(&stream, f); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&stream, DefaultMaxFrame)
	var got []*Frame
	for {
		f, err := r.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(got), err)
		}
		got = append(got, f)
	}
	if len(got) != len(frames) {
		t.Fatalf("read %d frames, want %d", len(got), len(frames))
	}
	for i := range frames {
		if !framesEqual(got[i], frames[i]) {
			t.Errorf("frame %d:\n got %+v\nwant %+v", i, got[i], frames[i])
		}
	}
}

// framesEqual compares frames with their bodies in canonical JSON form,
// since encoding compacts a body and may escape characters in it.
func framesEqual(a, b *Frame) bool {
	a2, b2 := *a, *b
	a2.Body, b2.Body = canonicalBody(a.Body), canonicalBody(b.Body)
	return reflect.DeepEqual(a2, b2)
}

func canonicalBody(body json.RawMessage) json.RawMessage {
	if len(body) == 0 {
		return nil
	}
	out, err := json.Marshal(body)
	if err != nil {
		return body
	}
	return out
}

func TestReadFrameBodyNotAliased(t *testing.T) {
	var stream bytes.Buffer
	stream.Write(frameBytes(`{"t":"event","op":"a","body":{"n":1}}`))
	stream.Write(frameBytes(`{"t":"event","op":"b","body":{"n":2}}`))
	r := NewReader(&stream, 0)
	f1, err := r.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	if string(f1.Body) != `{"n":1}` || f1.Op != "a" {
		t.Fatalf("first frame changed by the second read: %s %s", f1.Op, f1.Body)
	}
}

// headerOnly yields a length prefix and fails the test if anything reads
// past it.
type headerOnly struct {
	t   *testing.T
	hdr []byte
}

func (h *headerOnly) Read(p []byte) (int, error) {
	if len(h.hdr) == 0 {
		h.t.Error("payload read after an oversized length prefix")
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, h.hdr)
	h.hdr = h.hdr[n:]
	return n, nil
}

func TestReadFrameTooLarge(t *testing.T) {
	for _, tt := range []struct {
		max int
		n   uint32
	}{
		{MinMaxFrame, MinMaxFrame + 1},
		{DefaultMaxFrame, DefaultMaxFrame + 1},
		{DefaultMaxFrame, 1<<32 - 1},
		{0, DefaultMaxFrame + 1}, // 0 means the default
	} {
		r := NewReader(&headerOnly{t: t, hdr: binary.BigEndian.AppendUint32(nil, tt.n)}, tt.max)
		_, err := r.ReadFrame()
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Errorf("max %d, length %d: err = %v, want ErrFrameTooLarge", tt.max, tt.n, err)
		}
	}

	// Exactly at the limit is fine.
	payload := `{"t":"event","op":"x","body":"` + strings.Repeat("a", MinMaxFrame-32) + `"}`
	if len(payload) != MinMaxFrame {
		t.Fatalf("test payload is %d bytes", len(payload))
	}
	if _, err := NewReader(bytes.NewReader(frameBytes(payload)), MinMaxFrame).ReadFrame(); err != nil {
		t.Errorf("frame at the limit: %v", err)
	}
}

func TestReadFrameShortInput(t *testing.T) {
	full := frameBytes(`{"t":"event","op":"x"}`)
	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty stream", nil, io.EOF},
		{"partial header", full[:2], io.ErrUnexpectedEOF},
		{"header only", full[:4], io.ErrUnexpectedEOF},
		{"truncated payload", full[:len(full)-1], io.ErrUnexpectedEOF},
	} {
		_, err := NewReader(bytes.NewReader(tt.in), 0).ReadFrame()
		if err != tt.want {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestReadFrameMalformed(t *testing.T) {
	for _, tt := range []struct {
		name    string
		payload string
	}{
		{"zero length", ""},
		{"invalid UTF-8", "{\"t\":\"event\",\"op\":\"\xff\"}"},
		{"invalid UTF-8 in body", "{\"t\":\"event\",\"op\":\"x\",\"body\":\"\xc3\x28\"}"},
		{"not JSON", "hello"},
		{"JSON array", `[1,2]`},
		{"JSON null", `null`},
		{"trailing data", `{"t":"event","op":"x"} {}`},
		{"missing kind", `{"id":1,"op":"ping"}`},
		{"unknown kind", `{"t":"request","id":1,"op":"ping"}`},
		{"kind not a string", `{"t":1,"id":1,"op":"ping"}`},
		{"request without id", `{"t":"req","op":"ping"}`},
		{"request with id 0", `{"t":"req","id":0,"op":"ping"}`},
		{"request without op", `{"t":"req","id":1}`},
		{"negative id", `{"t":"req","id":-1,"op":"ping"}`},
		{"fractional id", `{"t":"req","id":1.5,"op":"ping"}`},
		{"id overflow", `{"t":"req","id":18446744073709551616,"op":"ping"}`},
		{"response without id", `{"t":"res","body":{}}`},
		{"event without op", `{"t":"event","body":{}}`},
		{"error without error", `{"t":"error"}`},
		{"error null", `{"t":"error","error":null}`},
		{"error not an object", `{"t":"error","error":"bad"}`},
		{"op too long", `{"t":"event","op":"` + strings.Repeat("o", maxOpLen+1) + `"}`},
	} {
		_, err := NewReader(bytes.NewReader(frameBytes(tt.payload)), 0).ReadFrame()
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tt.name, err)
		}
	}
}

func TestDecodeFrameValid(t *testing.T) {
	for _, payload := range []string{
		`{"t":"req","id":1,"op":"hello","body":{"version":1}}`,
		`{"t":"res","id":1}`,
		`{"t":"res","id":2,"error":{"code":"not_found","message":"no"}}`,
		`{"t":"event","op":"presence","body":{"username":"bob"}}`,
		`{"t":"error","error":{"code":"timeout","message":"idle"}}`,
		` {"t" : "res" , "id" : 3 } `,
	} {
		if _, err := DecodeFrame([]byte(payload)); err != nil {
			t.Errorf("DecodeFrame(%s): %v", payload, err)
		}
	}
}

func TestDecodeBody(t *testing.T) {
	for _, tt := range []struct {
		body string
		ok   bool
		want UserRequest
	}{
		{`{"username":"bob"}`, true, UserRequest{Username: "bob"}},
		{``, true, UserRequest{}},
		{`{}`, true, UserRequest{}},
		{` {"username":"bob"} `, true, UserRequest{Username: "bob"}},
		{`{"username":"bob","admin":true}`, false, UserRequest{}},
		{`{"user":"bob"}`, false, UserRequest{}},
		{`{"username":1}`, false, UserRequest{}},
		{`{"username":"bob"}{}`, false, UserRequest{}},
		{`{"username":"bob"}}`, false, UserRequest{}},
		{`{"username":"bob"}]`, false, UserRequest{}},
		{`{"username":"bob"} x`, false, UserRequest{}},
		{`{"username":"bob"`, false, UserRequest{}},
		{`[]`, false, UserRequest{}},
		{`"bob"`, false, UserRequest{}},
	} {
		var got UserRequest
		err := DecodeBody(json.RawMessage(tt.body), &got)
		if tt.ok != (err == nil) {
			t.Errorf("DecodeBody(%s): err = %v, want ok=%v", tt.body, err, tt.ok)
			continue
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeBody(%s): err = %v, want ErrMalformed", tt.body, err)
		}
		if tt.ok && got != tt.want {
			t.Errorf("DecodeBody(%s) = %+v, want %+v", tt.body, got, tt.want)
		}
	}

	// Nested unknown fields are refused too.
	var reg RegisterRequest
	err := DecodeBody(json.RawMessage(`{"username":"bob","prekey":{"public":"","extra":1}}`), &reg)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("nested unknown field: err = %v", err)
	}
}

func TestAppendFrame(t *testing.T) {
	prefix := []byte("keep")
	buf, err := AppendFrame(prefix, &Frame{Kind: KindResponse, ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf, prefix) {
		t.Fatal("AppendFrame overwrote the buffer")
	}
	want := frameBytes(`{"t":"res","id":1}`)
	if !bytes.Equal(buf[len(prefix):], want) {
		t.Errorf("AppendFrame = %q, want %q", buf[len(prefix):], want)
	}

	// An unencodable body leaves the buffer as it was.
	buf, err = AppendFrame(prefix, &Frame{Kind: KindResponse, ID: 1, Body: json.RawMessage(`{bad`)})
	if err == nil || string(buf) != "keep" {
		t.Errorf("AppendFrame with a bad body = %q, %v", buf, err)
	}
	if _, err := NewRequest(1, "x", func() {}); err == nil {
		t.Error("NewRequest with an unencodable body succeeded")
	}
}

func TestErrorString(t *testing.T) {
	for _, tt := range []struct {
		err  *Error
		want string
	}{
		{Errorf(CodeNotFound, "no user %q", "zed"), `not_found: no user "zed"`},
		{Invalid("username", "must be %d to %d characters", 3, 32), "invalid: must be 3 to 32 characters (username)"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestAppendMessage: AppendMessage writes what AppendFrame writes for the
// same frame made by NewRequest, NewResponse or NewEvent, and nothing
// when the body cannot be encoded.
func TestAppendMessage(t *testing.T) {
	relay := RelayBatchEvent{Envelopes: []RelayEvent{{ID: "0123456789abcdef0123456789abcdef", From: "alice", Envelope: []byte("sealed\x00<&>")}}}
	for _, tt := range []struct {
		kind, op string
		id       uint64
		body     any
	}{
		{KindEvent, EvRelay, 0, relay},
		{KindRequest, "op\"with\\odd<chars>&\u00e9\n", 1<<64 - 1, map[string]any{"a": []any{1, 2, "x"}}},
		{KindResponse, "", 7, nil},
		{KindResponse, "", 8, Empty{}},
	} {
		var f *Frame
		var err error
		switch tt.kind {
		case KindEvent:
			f, err = NewEvent(tt.op, tt.body)
		case KindRequest:
			f, err = NewRequest(tt.id, tt.op, tt.body)
		default:
			f, err = NewResponse(tt.id, tt.body)
		}
		if err != nil {
			t.Fatal(err)
		}
		want, err := AppendFrame([]byte("prefix"), f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendMessage([]byte("prefix"), tt.kind, tt.id, tt.op, tt.body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("AppendMessage wrote %q, want %q", got, want)
		}
	}
	if buf, err := AppendMessage([]byte("keep"), KindEvent, 0, "x", func() {}); err == nil || string(buf) != "keep" {
		t.Errorf("AppendMessage with an unencodable body = %q, %v", buf, err)
	}
}
