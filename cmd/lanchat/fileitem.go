package main

import (
	"fmt"

	"github.com/lanchat/lanchat/peer/api"
)

// fileTag shows a transfer's item in its conversation, like
// "[file q3.pdf 4.2 MB sent]"; false for any other message.
func fileTag(m api.Message) (string, bool) {
	f := m.Transfer
	if m.Kind != "file" || f == nil {
		return "", false
	}
	send := f.Direction == api.DirectionSend
	var state string
	switch f.State {
	case api.TransferDone:
		state = "received"
		if send {
			state = "sent"
		}
	case api.TransferActive:
		state = "receiving"
		if send {
			state = "sending"
		}
		if f.Total > 0 {
			state += fmt.Sprintf(" %d%%", f.Done*100/f.Total)
		}
	case api.TransferQueued, api.TransferWaiting:
		state = "waiting for a direct path"
	case api.TransferRejected:
		state = "declined"
	default:
		state = f.State // offered, failed, cancelled
	}
	return fmt.Sprintf("[file %s %s %s]", oneLine(f.Name), bytesText(f.Size), state), true
}
