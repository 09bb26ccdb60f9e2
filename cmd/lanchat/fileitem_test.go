package main

import (
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

func TestFileTag(t *testing.T) {
	item := func(dir, state string, done int64) api.Message {
		return api.Message{From: "alice", Kind: "file", Text: "q3.pdf", Sent: time.Now(),
			Transfer: &api.FileItem{Name: "q3.pdf", Size: 4_200_000, State: state, Done: done, Total: 4_200_000, Direction: dir}}
	}
	for _, c := range []struct {
		m    api.Message
		want string
	}{
		{item(api.DirectionSend, api.TransferDone, 4_200_000), "[file q3.pdf 4.2 MB sent]"},
		{item(api.DirectionReceive, api.TransferDone, 4_200_000), "[file q3.pdf 4.2 MB received]"},
		{item(api.DirectionReceive, api.TransferActive, 2_100_000), "[file q3.pdf 4.2 MB receiving 50%]"},
		{item(api.DirectionSend, api.TransferQueued, 0), "[file q3.pdf 4.2 MB waiting for a direct path]"},
		{item(api.DirectionReceive, api.TransferRejected, 0), "[file q3.pdf 4.2 MB declined]"},
	} {
		if got := messageLine(c.m, time.Now(), false); !strings.HasSuffix(got, "alice: "+c.want) {
			t.Errorf("line %q, want it to end in %q", got, c.want)
		}
	}
	if _, ok := fileTag(api.Message{Kind: "text", Text: "hi"}); ok {
		t.Error("a text message shown as a file")
	}
}
