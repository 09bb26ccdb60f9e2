package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzEventStream feeds arbitrary bytes to the client's event-stream
// parser. It must never panic or hang, and every event it yields must
// survive being written by the server and parsed again.
func FuzzEventStream(f *testing.F) {
	f.Add([]byte("event: presence\ndata: {\"type\":\"presence\",\"presence\":{\"user\":\"bob\",\"presence\":{\"status\":\"online\"}}}\n\n"))
	f.Add([]byte(": heartbeat\n\n"))
	f.Add([]byte("data: {}\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		rd := newSSEReader(bytes.NewReader(in))
		for range 1000 {
			ev, err := rd.nextEvent()
			if err != nil {
				return
			}
			if !utf8.ValidString(ev.Type) {
				t.Fatalf("event type %q is not UTF-8", ev.Type)
			}
			chunk, err := formatEvent(ev)
			if err != nil {
				// Only an event type that cannot be an SSE name fails.
				if validEventName(ev.Type) {
					t.Fatalf("formatEvent(%+v): %v", ev, err)
				}
				continue
			}
			again, err := newSSEReader(bytes.NewReader(chunk)).nextEvent()
			if err != nil {
				t.Fatalf("reparse %q: %v", chunk, err)
			}
			a, _ := json.Marshal(ev)
			b, _ := json.Marshal(again)
			if !bytes.Equal(a, b) {
				t.Fatalf("round trip changed the event:\n%s\n%s", a, b)
			}
		}
	})
}

// FuzzErrorReply feeds arbitrary failed replies to the client. It must
// always return an error, and an *Error only with a code.
func FuzzErrorReply(f *testing.F) {
	f.Add(400, []byte(`{"error":{"code":"invalid","message":"bad"}}`))
	f.Add(500, []byte(`internal`))
	f.Add(404, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		err := decodeErrorReply(status, body)
		if err == nil {
			t.Fatal("no error")
		}
		var e *Error
		if errors.As(err, &e) && e.Code == "" {
			t.Fatalf("*Error without a code: %#v", e)
		}
		_ = err.Error()
	})
}

// FuzzDecodeRequest feeds arbitrary bodies to the handler's strict
// decoder: it must never panic, and whatever it accepts must encode and
// decode again to the same value.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"target":"#team","text":"hi"}`))
	f.Add([]byte(`{"target":"bob","text":"x","extra":1}`))
	f.Add([]byte(`{"display_name":null,"email":""}`))
	f.Add([]byte(`{"name":"#coffee","topic":"beans","user":"bob"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []any{&SendRequest{}, &ProfileRequest{}, &GroupRequest{}, &KeyRequest{}, &RoomRequest{}} {
			req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			var err error
			switch v := v.(type) {
			case *SendRequest:
				*v, err = decode[SendRequest](req)
			case *ProfileRequest:
				*v, err = decode[ProfileRequest](req)
			case *GroupRequest:
				*v, err = decode[GroupRequest](req)
			case *KeyRequest:
				*v, err = decodeKeyRequest(req)
			case *RoomRequest:
				*v, err = decode[RoomRequest](req)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalid {
					t.Fatalf("decode error %v is not an invalid *Error", err)
				}
				continue
			}
			enc, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			again := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := decodeJSON(enc, again); err != nil {
				t.Fatalf("re-decode %s: %v", enc, err)
			}
			if !reflect.DeepEqual(v, again) {
				t.Fatalf("round trip changed %#v to %#v", v, again)
			}
		}
	})
}
