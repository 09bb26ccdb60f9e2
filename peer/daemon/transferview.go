package daemon

import (
	"sync"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
)

// rates remembers the last speed reported for each active transfer.
type rates struct {
	mu sync.Mutex
	m  map[string]float64
}

func (tr *transfers) rate(id string) float64 {
	tr.rates.mu.Lock()
	defer tr.rates.mu.Unlock()
	return tr.rates.m[id]
}

func (tr *transfers) setRate(id string, r float64) {
	tr.rates.mu.Lock()
	defer tr.rates.mu.Unlock()
	if tr.rates.m == nil {
		tr.rates.m = make(map[string]float64)
	}
	if r == 0 {
		delete(tr.rates.m, id)
	} else {
		tr.rates.m[id] = r
	}
}

// transferEvent tells local clients where a transfer stands.
func (tr *transfers) transferEvent(rec history.Transfer, rate float64) {
	if rec.State != history.TransferActive {
		rate = 0
	}
	tr.setRate(rec.ID, rate)
	tr.fileItemState(rec) // fileitems.go
	t := tr.apiTransfer(rec, rate)
	tr.notify(api.Event{Type: api.EventTransfer, Transfer: &t})
}

// apiTransfer shows a transfer record to local clients.
func (tr *transfers) apiTransfer(rec history.Transfer, rate float64) api.Transfer {
	t := api.Transfer{
		ID: rec.ID, Direction: api.DirectionReceive, Peer: rec.Peer, State: string(rec.State),
		Name: rec.Name, Files: rec.Files, Total: rec.Total, Done: rec.Done, Rate: rate,
		Dir: rec.Dir, Error: rec.Error, Created: rec.Created, Updated: rec.Updated,
	}
	if rec.Outgoing {
		t.Direction = api.DirectionSend
	}
	if rec.Group != "" {
		if g, ok := tr.roster.GroupByID(rec.Group); ok {
			t.Group = "#" + g.Name
		}
	}
	return t
}
