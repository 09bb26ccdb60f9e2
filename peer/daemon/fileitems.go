package daemon

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// Files in the timeline: every transfer, both ways, is an item of its
// conversation (history.KindFile), written by this side when the
// transfer is offered: by the sender for its send-file (one item for the
// transfers to a group's members), by the receiver when the offer comes.
// The item keeps the transfer as it stood at its last state change;
// progress in between reaches clients as transfer events, and the API
// view of an item that still moves reads the transfer record.

// fileMeta is a file item's Meta.
type fileMeta struct {
	Transfers []string `json:"transfers"`
	Name      string   `json:"name"`
	Size      int64    `json:"size"`
	Files     int      `json:"files"`
	State     string   `json:"state"`
	Done      int64    `json:"done"`
	Total     int64    `json:"total"`
	Outgoing  bool     `json:"outgoing"`
}

// fileStates remembers the state each transfer's item last recorded, so
// that progress ticks do not touch the item; mu also serialises the
// updates of one item from its several transfers.
type fileStates struct {
	mu   sync.Mutex
	last map[string]history.TransferState
}

// summarise is the item of recs, the transfers of one send (one, or one
// per member of a group). Its state is the most advanced of those still
// moving (active, waiting, offered, queued); once all ended, done if one
// is, else failed, cancelled or rejected.
func summarise(recs []history.Transfer) fileMeta {
	f := fileMeta{}
	rank := map[history.TransferState]int{
		history.TransferActive: 8, history.TransferWaiting: 7, history.TransferOffered: 6, history.TransferQueued: 5,
		history.TransferDone: 4, history.TransferFailed: 3, history.TransferCancelled: 2, history.TransferRejected: 1,
	}
	moving := slices.ContainsFunc(recs, func(r history.Transfer) bool { return !r.State.Final() })
	best := 0
	for i, r := range recs {
		if i == 0 {
			f.Name, f.Size, f.Files, f.Outgoing = r.Name, r.Total, r.Files, r.Outgoing
		}
		f.Transfers = append(f.Transfers, r.ID)
		f.Done += r.Done
		f.Total += r.Total
		if r.State.Final() != moving && rank[r.State] > best {
			best, f.State = rank[r.State], string(r.State)
		}
	}
	return f
}

// addFileItem puts recs, the transfers of one send or one offer, in
// conv's timeline and tells local clients, unless they have an item.
func (tr *transfers) addFileItem(ctx context.Context, conv string, recs []history.Transfer) {
	if len(recs) == 0 {
		return
	}
	id, err := newMessageID()
	if err != nil {
		return
	}
	meta, err := json.Marshal(summarise(recs))
	if err != nil {
		return
	}
	first := recs[0]
	from := first.Peer
	if first.Outgoing {
		from = tr.session.self()
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	now := time.Now()
	m := history.Message{ID: id, Conversation: conv, From: from, Body: first.Name, Sent: now, Received: now,
		Outgoing: first.Outgoing, Meta: string(meta)}
	item, inserted, err := tr.db.AddFile(ctx, m, ids)
	if err != nil {
		tr.log.Warn("add the transfer to its conversation", "transfer", first.ID, "err", err)
		return
	}
	if inserted {
		tr.noteFileState(recs)
		if out := tr.messages.richMessages(ctx, []history.Message{item}); len(out) == 1 {
			tr.notify(api.Event{Type: api.EventMessage, Message: &out[0]})
		}
	}
}

// noteFileState records the states recs' item shows.
func (tr *transfers) noteFileState(recs []history.Transfer) {
	tr.files.mu.Lock()
	defer tr.files.mu.Unlock()
	if tr.files.last == nil {
		tr.files.last = make(map[string]history.TransferState)
	}
	for _, r := range recs {
		tr.files.last[r.ID] = r.State
	}
}

// fileItemState brings rec's item up to date when rec's state changed
// since the item last recorded it, and tells local clients.
func (tr *transfers) fileItemState(rec history.Transfer) {
	tr.files.mu.Lock()
	defer tr.files.mu.Unlock()
	if st, ok := tr.files.last[rec.ID]; ok && st == rec.State {
		return
	}
	if tr.files.last == nil {
		tr.files.last = make(map[string]history.TransferState)
	}
	if rec.State.Final() {
		delete(tr.files.last, rec.ID)
	} else {
		tr.files.last[rec.ID] = rec.State
	}
	ctx := context.WithoutCancel(tr.ctx)
	item, ids, err := tr.db.FileItem(ctx, rec.ID)
	if err != nil {
		return // a transfer without an item (a library fetch, an older one)
	}
	recs := make([]history.Transfer, 0, len(ids))
	for _, id := range ids {
		if id == rec.ID {
			recs = append(recs, rec)
		} else if r, err := tr.db.Transfer(ctx, id); err == nil {
			recs = append(recs, r)
		}
	}
	meta, err := json.Marshal(summarise(recs))
	if err != nil {
		return
	}
	if err := tr.db.SetFileMeta(ctx, item.From, item.ID, string(meta)); err != nil {
		tr.log.Warn("update the transfer in its conversation", "transfer", rec.ID, "err", err)
		return
	}
	item.Meta = string(meta)
	if out := tr.messages.richMessages(ctx, []history.Message{item}); len(out) == 1 {
		tr.notify(api.Event{Type: api.EventMessageChanged, Message: &out[0]})
	}
}

// fileView is the API view of a file item: as last recorded, with the
// progress of transfers still moving read from their records.
func (ms *messages) fileView(ctx context.Context, m history.Message) *api.FileItem {
	var f fileMeta
	if json.Unmarshal([]byte(m.Meta), &f) != nil || len(f.Transfers) == 0 {
		return nil
	}
	if !history.TransferState(f.State).Final() {
		recs := make([]history.Transfer, 0, len(f.Transfers))
		for _, id := range f.Transfers {
			if r, err := ms.db.Transfer(ctx, id); err == nil {
				recs = append(recs, r)
			}
		}
		if len(recs) == len(f.Transfers) {
			f = summarise(recs)
		}
	}
	v := &api.FileItem{ID: f.Transfers[0], Name: f.Name, Size: f.Size, Files: f.Files, State: f.State,
		Done: f.Done, Total: f.Total, Direction: api.DirectionReceive}
	if f.Outgoing {
		v.Direction = api.DirectionSend
	}
	if len(f.Transfers) > 1 {
		v.Transfers = f.Transfers
	}
	return v
}
