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

func (d *Daemon) rate(id string) float64 {
	d.rates.mu.Lock()
	defer d.rates.mu.Unlock()
	return d.rates.m[id]
}

func (d *Daemon) setRate(id string, r float64) {
	d.rates.mu.Lock()
	defer d.rates.mu.Unlock()
	if d.rates.m == nil {
		d.rates.m = make(map[string]float64)
	}
	if r == 0 {
		delete(d.rates.m, id)
	} else {
		d.rates.m[id] = r
	}
}

// transferEvent tells local clients where a transfer stands.
func (d *Daemon) transferEvent(rec history.Transfer, rate float64) {
	if rec.State != history.TransferActive {
		rate = 0
	}
	d.setRate(rec.ID, rate)
	t := d.apiTransfer(rec, rate)
	d.notify(api.Event{Type: api.EventTransfer, Transfer: &t})
}

// apiTransfer shows a transfer record to local clients.
func (d *Daemon) apiTransfer(rec history.Transfer, rate float64) api.Transfer {
	t := api.Transfer{
		ID: rec.ID, Direction: api.DirectionReceive, Peer: rec.Peer, State: string(rec.State),
		Name: rec.Name, Files: rec.Files, Total: rec.Total, Done: rec.Done, Rate: rate,
		Dir: rec.Dir, Error: rec.Error, Created: rec.Created, Updated: rec.Updated,
	}
	if rec.Outgoing {
		t.Direction = api.DirectionSend
	}
	if rec.Group != "" {
		if g, ok := d.roster.GroupByID(rec.Group); ok {
			t.Group = "#" + g.Name
		}
	}
	return t
}
