package pgbus

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lanchat/lanchat/rendezvous"
)

func TestDecode(t *testing.T) {
	ev := rendezvous.ClusterEvent{Node: "n1", Kind: rendezvous.EvPush, User: "bob", Op: "presence", Body: json.RawMessage(`{"username":"alice"}`)}
	p, _ := json.Marshal(ev)
	got, err := decode(string(p))
	if err != nil || got.Node != "n1" || got.User != "bob" || string(got.Body) != string(ev.Body) {
		t.Fatalf("decode = %+v, %v", got, err)
	}
	for _, bad := range []string{
		"", "null", "[]", `{"n":"x"}`, `{"n":"x","k":"push"}`, `{"k":"push","u":"bob"}`,
		`{"n":"x","k":"push","u":"bob","b":}`, `{"n":"x","k":"push","u":"bob","b":"` + strings.Repeat("a", maxPayload) + `"}`,
	} {
		if _, err := decode(bad); err == nil {
			t.Errorf("decode(%.40q) accepted", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"n":"a1","k":"push","u":"bob","op":"presence","b":{"username":"alice"}}`)
	f.Add(`{"n":"a1","k":"attach","u":"bob"}`)
	f.Add(`{"n":"a1","k":"presence","u":"bob","b":{"username":"bob","status":"online"}}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, payload string) {
		ev, err := decode(payload)
		if err != nil {
			return
		}
		if ev.Node == "" || ev.Kind == "" || ev.User == "" {
			t.Fatalf("accepted an event without node, kind or user: %+v", ev)
		}
		// What decode accepts, Publish could have sent.
		if p, err := json.Marshal(ev); err != nil || len(p) > maxPayload+len(payload) {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
