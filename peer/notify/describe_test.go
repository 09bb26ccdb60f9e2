package notify

import (
	"testing"

	"github.com/lanchat/lanchat/peer/api"
)

// A transfer's item in a conversation notifies nothing: its offer does,
// as a transfer.
func TestFileItemNotifiesNothing(t *testing.T) {
	item := api.Event{Type: api.EventMessage, Message: &api.Message{From: "alice", Conversation: "alice", Kind: "file", Text: "q3.pdf",
		Transfer: &api.FileItem{Name: "q3.pdf", State: api.TransferOffered, Direction: api.DirectionReceive}}}
	if _, _, _, ok := describe(item); ok {
		t.Error("a file item notified")
	}
	offer := api.Event{Type: api.EventTransfer, Transfer: &api.Transfer{Peer: "alice", Name: "q3.pdf", State: api.TransferOffered, Direction: api.DirectionReceive}}
	if _, _, _, ok := describe(offer); !ok {
		t.Error("the offer did not notify")
	}
	text := api.Event{Type: api.EventMessage, Message: &api.Message{From: "alice", Conversation: "alice", Text: "hi"}}
	if _, _, _, ok := describe(text); !ok {
		t.Error("a text did not notify")
	}
}
