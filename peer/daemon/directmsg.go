package daemon

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
)

// The direct message protocol: on a message stream of a peer connection,
// the sender writes one request frame and the receiver answers with one
// response frame, after its own commit. The connection's TLS handshake
// proved who the sender is, so the frames carry no signature.
const (
	// opMessage carries a DirectMessage.
	opMessage = "message"
	// opReceipt carries a Receipt: the sender of the frame committed the
	// listed messages, which it got through the relay.
	opReceipt = "receipt"

	// maxDirectFrame bounds a direct frame: a 64 KiB text, JSON-escaped,
	// with room to spare.
	maxDirectFrame = 512 << 10
	// exchangeTimeout bounds one request and its answer.
	exchangeTimeout = 10 * time.Second
	// maxReceiptIDs bounds one receipt.
	maxReceiptIDs = 256
)

// DirectMessage is a message sent peer to peer.
type DirectMessage struct {
	ID    string    `json:"id"`
	Group string    `json:"group,omitempty"` // group id, or "" for a direct message
	Sent  time.Time `json:"sent"`
	Kind  string    `json:"kind"`
	Body  string    `json:"body"`
}

// Receipt acknowledges messages that came through the relay.
type Receipt struct {
	IDs []string `json:"ids"`
}

// handleStream serves one stream a peer opened.
func (p *peerSet) handleStream(c *direct.Conn, kind direct.StreamKind, s *direct.Stream) {
	if kind == direct.StreamTransfer {
		p.transfers.serveTransfer(c, s) // the receiver closes the stream
		return
	}
	defer s.Close()
	if kind != direct.StreamMessage {
		s.CancelRead(0)
		return
	}
	s.SetDeadline(time.Now().Add(exchangeTimeout))
	// The frame, and the work on it, hold the contact's budget until the
	// reply is written.
	rd := wire.NewReader(s, maxDirectFrame)
	rd.SetBudget(c.Budget())
	defer rd.Release()
	f, err := rd.ReadFrame()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			p.log.Debug("bad direct frame", "user", c.User(), "err", err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(c.Context(), exchangeTimeout)
	defer cancel()
	werr := p.messages.handleDirect(ctx, c.User(), f)
	var reply *wire.Frame
	if werr != nil {
		reply = &wire.Frame{Kind: wire.KindResponse, ID: f.ID, Error: werr}
	} else {
		reply, _ = wire.NewResponse(f.ID, wire.Empty{})
	}
	if err := wire.WriteFrame(s, reply); err != nil {
		p.log.Debug("write direct reply", "user", c.User(), "err", err)
	}
}

// handleDirect acts on one request from a peer.
func (ms *messages) handleDirect(ctx context.Context, from string, f *wire.Frame) *wire.Error {
	if f.Kind != wire.KindRequest {
		return wire.Errorf(wire.CodeMalformed, "expected a request")
	}
	switch f.Op {
	case opMessage:
		var m DirectMessage
		if err := wire.DecodeBody(f.Body, &m); err != nil {
			return wire.Errorf(wire.CodeMalformed, "%v", err)
		}
		return ms.receive(ctx, incoming{
			ID: m.ID, From: from, Group: m.Group, Sent: m.Sent, Kind: m.Kind, Body: m.Body, Via: history.ViaDirect,
		})
	case opReceipt:
		var r Receipt
		if err := wire.DecodeBody(f.Body, &r); err != nil {
			return wire.Errorf(wire.CodeMalformed, "%v", err)
		}
		return ms.receipt(ctx, from, r.IDs)
	default:
		return wire.Errorf(wire.CodeUnknownOp, "unknown operation %q", f.Op)
	}
}

// exchange sends one request to a peer and waits for its answer.
func (ms *messages) exchange(ctx context.Context, c *direct.Conn, op string, body any) error {
	f, err := wire.NewRequest(1, op, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	reply, err := direct.Exchange(ctx, c, direct.StreamMessage, f, maxDirectFrame)
	if err != nil {
		return err
	}
	if reply.Error != nil {
		return reply.Error
	}
	return nil
}
