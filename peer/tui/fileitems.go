package tui

import (
	"fmt"

	"github.com/lanchat/lanchat/peer/api"
)

// Files in the timeline: a transfer's item (a message of kind file)
// shows as the transfer itself, live from the transfer events when the
// chat knows it; the transfer is then not shown a second time.

// itemTransfers lists the transfers that the file items of items show.
func itemTransfers(items []item) map[string]bool {
	covered := map[string]bool{}
	for _, it := range items {
		if it.msg == nil || it.msg.Transfer == nil {
			continue
		}
		covered[it.msg.Transfer.ID] = true
		for _, id := range it.msg.Transfer.Transfers {
			covered[id] = true
		}
	}
	return covered
}

// renderFile shows a file item: its transfer as the chat knows it, or as
// the item last recorded it.
func (m *model) renderFile(msg api.Message, w int) string {
	f := msg.Transfer
	if t, ok := m.transfers[f.ID]; ok && len(f.Transfers) == 0 {
		return m.st.faint.Render(stamp(msg.Sent)+" ") + m.renderTransfer(t, w)
	}
	dir := "→"
	if f.Direction == api.DirectionReceive {
		dir = "←"
	}
	line := fmt.Sprintf("%s file %s (%s) %s", dir, cleanLine(f.Name), size(f.Size), f.State)
	if len(f.Transfers) > 1 {
		line += fmt.Sprintf(" to %d members", len(f.Transfers))
	}
	return m.st.faint.Render(stamp(msg.Sent)+" ") + line
}
