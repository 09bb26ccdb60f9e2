package api_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

func TestEventsInOrder(t *testing.T) {
	svc := &apitest.Service{}
	d := startDaemon(t, svc)
	ctx := testContext(t)
	st, err := d.client.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := svc.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers once Events returned, want 1", n)
	}

	want := []api.Event{
		{Type: api.EventMessage, At: t0, Message: &api.Message{ID: "1", Conversation: "bob", From: "bob", Text: "line one\nline two\r\n\n: not a comment", Sent: t0, State: "received"}},
		{Type: api.EventPresence, At: t0, Presence: &api.PeerStatus{User: "bob", Presence: api.Presence{Status: api.Away}}},
		{Type: api.EventFriendRequest, At: t0, Friend: &api.FriendNote{User: "carol"}},
		{Type: api.EventGroup, At: t0, Group: &api.GroupNote{Change: "renamed", Group: api.Group{ID: "g", Name: "new"}, OldName: "old"}},
		{Type: api.EventKeyChanged, At: t0, KeyChange: &api.KeyChange{User: "bob", Fingerprint: "ff"}},
		{Type: api.EventServer, At: t0, Connection: &api.Connection{Up: true, Addr: "srv:7443"}},
		{Type: api.EventSignedOut, At: t0, Text: "signed in elsewhere"},
	}
	for i := range 50 {
		want = append(want, api.Event{Type: api.EventMessageState, At: t0, Message: &api.Message{ID: string(rune('a' + i%26)), State: "delivered"}})
	}
	for _, ev := range want {
		svc.Publish(ev)
	}
	for i, w := range want {
		got, err := st.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, show(got), show(w))
		}
	}
}

func TestEventsEndWithContext(t *testing.T) {
	svc := &apitest.Service{}
	d := startDaemon(t, svc)
	ctx, cancel := context.WithCancel(testContext(t))
	st, err := d.client.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		for {
			if _, err := st.Next(); err != nil {
				got <- err
				return
			}
		}
	}()
	svc.Publish(api.Event{Type: api.EventPresence})
	cancel()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Next after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after the context was cancelled")
	}
	// The daemon side lets the subscription go.
	deadline := time.Now().Add(5 * time.Second)
	for svc.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the subscription outlived the client")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsEndWhenServiceCloses(t *testing.T) {
	svc := &apitest.Service{}
	d := startDaemon(t, svc)
	st, err := d.client.Events(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	svc.Publish(api.Event{Type: api.EventPeer, Connection: &api.Connection{Peer: "bob", Up: true}})
	svc.CloseSubscriptions()
	if ev, err := st.Next(); err != nil || ev.Type != api.EventPeer {
		t.Fatalf("first event: %v, %v", ev, err)
	}
	if _, err := st.Next(); err != io.EOF {
		t.Fatalf("after the service closed: %v, want io.EOF", err)
	}
}

func TestEventsEndWhenDaemonStops(t *testing.T) {
	svc := &apitest.Service{}
	d := startDaemon(t, svc)
	st, err := d.client.Events(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	d.stop()
	if _, err := st.Next(); err == nil {
		t.Fatal("Next succeeded after the daemon stopped")
	}
}
