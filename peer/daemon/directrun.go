package daemon

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/daemon/outbox"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
)

// A run of messages on a direct connection: the outbox sends the copies
// waiting for one contact together, in order, in one request, and the
// receiver commits them together (one fsync for the run) before it
// answers. The receiver takes them in order and stops at the first it
// cannot take, so that nothing after a refused message is stored before
// it: the answer says how many it took, and why the next was refused.
const (
	// opMessages carries a directRun; its answer is a directRunResult.
	opMessages = "messages"
	// maxRunMessages bounds the messages of one run.
	maxRunMessages = 64
	// runFrameRoom is what a run's frame keeps free under maxDirectFrame
	// for the frame's own fields.
	runFrameRoom = 4 << 10
)

// directRun is the body of a messages request: several messages to one
// contact, each as envelope.Encode writes it (as in directRequest), in
// the order they were written.
type directRun struct {
	Messages [][]byte `json:"messages"`
}

// directRunResult answers a directRun: the first Taken messages are
// committed by the receiver; Error says why the next one was not (nil
// when all were).
type directRunResult struct {
	Taken int         `json:"taken"`
	Error *wire.Error `json:"error,omitempty"`
}

// receiveRunFrame decodes and takes a run of messages from a peer.
func (ms *messages) receiveRunFrame(ctx context.Context, from string, f *wire.Frame) (any, *wire.Error) {
	msgs, werr := decodeRun(f.Body)
	if werr != nil {
		return nil, werr
	}
	taken, werr := ms.receiveRun(ctx, from, msgs)
	return directRunResult{Taken: taken, Error: werr}, nil
}

// decodeRun decodes the body of a messages request: 1 to
// maxRunMessages messages, each still encoded (receiveRun decodes them
// one by one).
func decodeRun(body json.RawMessage) ([][]byte, *wire.Error) {
	var run directRun
	if err := wire.DecodeBody(body, &run); err != nil {
		return nil, wire.Errorf(wire.CodeMalformed, "%v", err)
	}
	if len(run.Messages) == 0 || len(run.Messages) > maxRunMessages {
		return nil, wire.Invalid("messages", "want 1 to %d messages", maxRunMessages)
	}
	return run.Messages, nil
}

// runTaken reads the answer to a run of n messages: how many the
// receiver took and, when fewer than n, its refusal of the next (nil if
// it gave none). An answer that does not decode, or takes fewer than
// none or more than n, is an error.
func runTaken(body json.RawMessage, n int) (int, *wire.Error, error) {
	var res directRunResult
	if err := wire.DecodeBody(body, &res); err != nil {
		return 0, nil, fmt.Errorf("answer to a run: %w", err)
	}
	if res.Taken < 0 || res.Taken > n {
		return 0, nil, fmt.Errorf("answer to a run of %d: %d taken", n, res.Taken)
	}
	if res.Taken == n {
		return n, nil, nil
	}
	return res.Taken, res.Error, nil
}

// receiveRun takes the encoded messages msgs from the peer from in order,
// as receiveDirect takes each, and returns how many it took, with why the
// next was not taken. Texts that follow each other are committed together
// (history.AddIncomingRun); anything else (another kind, a receipt, a
// message that is not to be taken now) goes through receiveDirect once
// those before it are committed.
func (ms *messages) receiveRun(ctx context.Context, from string, msgs [][]byte) (int, *wire.Error) {
	var (
		taken int
		rows  []history.Message
	)
	flush := func() *wire.Error {
		if len(rows) == 0 {
			return nil
		}
		inserted, n, err := ms.db.AddIncomingRun(ctx, rows)
		var added []history.Message
		for i := range n {
			if inserted[i] {
				added = append(added, rows[i])
			}
		}
		ms.announceRun(ctx, added)
		taken += n
		rows = rows[:0]
		return ms.storeErr(err)
	}
	me := ms.recipient()
	named := map[string]bool{} // group conversations named in this run
	for _, b := range msgs {
		m, err := envelope.Decode(b)
		if err != nil {
			if werr := flush(); werr != nil {
				return taken, werr
			}
			return taken, wire.Errorf(wire.CodeMalformed, "%v", err)
		}
		if m.From == from && m.To == me && m.Kind == history.KindText {
			in := incoming{ID: m.ID, From: m.From, Group: m.Group, Sent: m.Sent, Kind: m.Kind, Body: string(m.Body), Via: history.ViaDirect}
			conv, park, werr := ms.admit(ctx, &in)
			if werr == nil && park == "" {
				if named[conv] {
					in.Group = "" // named once a run: spare incomingRow the write
				}
				named[conv] = true
				rows = append(rows, ms.incomingRow(ctx, in, conv, ""))
				continue
			}
		}
		if werr := flush(); werr != nil {
			return taken, werr
		}
		if werr := ms.receiveDirect(ctx, from, m); werr != nil {
			return taken, werr
		}
		taken++
	}
	return taken, flush()
}

// DeliverRun sends the copies in msgs to their recipient, in order, over
// its direct connection: as many as one request carries. It returns how
// many (a prefix of msgs) the recipient committed and, when it refused
// the next, why (outbox.ErrRefused, with the recipient's *wire.Error);
// n < len(msgs) with a nil error means the rest was not tried.
func (p directPath) DeliverRun(ctx context.Context, to string, msgs []history.Message) (int, error) {
	c := p.ms.peers.connect(ctx, to, false)
	if c == nil {
		return 0, errors.New("no direct connection")
	}
	run, err := p.run(to, msgs)
	if err != nil {
		return 0, err
	}
	f, err := wire.NewRequest(1, opMessages, run)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	reply, err := direct.Exchange(ctx, c, direct.StreamMessage, f, maxDirectFrame)
	if err == nil && reply.Error != nil {
		return 0, fmt.Errorf("%w: %w", outbox.ErrRefused, reply.Error)
	}
	if err != nil {
		// Not a refusal but a broken path: drop the connection so the
		// next try dials afresh instead of waiting on it again.
		p.ms.peers.drop(to, c)
		return 0, err
	}
	n := len(run.Messages)
	taken, refusal, err := runTaken(reply.Body, n)
	switch {
	case err != nil:
		p.ms.peers.drop(to, c)
		return 0, err
	case taken < n && refusal != nil:
		return taken, fmt.Errorf("%w: %w", outbox.ErrRefused, refusal)
	case taken < n:
		return taken, fmt.Errorf("%w: the recipient took %d of %d messages", outbox.ErrRefused, taken, n)
	}
	return n, nil
}

// run is the longest prefix of msgs, at most maxRunMessages, that one
// frame carries, encoded for to; never less than one message, which a
// frame always carries.
func (p directPath) run(to string, msgs []history.Message) (directRun, error) {
	var run directRun
	size := 0
	for _, m := range msgs[:min(len(msgs), maxRunMessages)] {
		b, err := envelope.Encode(p.ms.outgoing(to, m))
		if err != nil && len(run.Messages) > 0 {
			break // the run goes without it; the next one starts with it
		}
		if err != nil {
			return run, fmt.Errorf("%w: direct message %s: %w", outbox.ErrRefused, m.ID, err)
		}
		n := base64.StdEncoding.EncodedLen(len(b)) + 3 // quoted, and a comma
		if len(run.Messages) > 0 && size+n > maxDirectFrame-runFrameRoom {
			break
		}
		size += n
		run.Messages = append(run.Messages, b)
	}
	return run, nil
}

// announceRun is announce for messages just stored together: one look at
// the settings for all.
func (ms *messages) announceRun(ctx context.Context, msgs []history.Message) {
	if len(msgs) == 0 {
		return
	}
	mentioned := make(map[string]bool, len(msgs))
	for i := range msgs {
		msgs[i].State = history.StateReceived
		mentioned[msgs[i].ID] = ms.markMention(ctx, msgs[i]) // rich.go
	}
	for _, am := range ms.newMessages(ctx, msgs) {
		am.Mentioned = mentioned[am.ID]
		ms.notify(api.Event{Type: api.EventMessage, Message: &am})
	}
}
