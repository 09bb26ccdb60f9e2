package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lanchat/lanchat/internal/envelope"
	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/peer/history"
)

// The direct message protocol (docs/protocol.md, "Direct messages"): on
// a message stream of a peer connection, the sender writes one request
// frame carrying one message, the same value the relay carries sealed
// (envelope.Message, in its encoding envelope.Encode), and the receiver
// answers with one response frame, after its own commit. The connection's
// TLS handshake proved who the sender is, so the message is neither
// signed nor sealed; the receiver takes it only if it names the
// connection's user as its sender and the receiver as its recipient.
const (
	// opMessage carries a directRequest.
	opMessage = "message"

	// maxDirectFrame bounds a direct frame: the largest message
	// (envelope.MaxBody and the longest names), base64 in JSON, with
	// room to spare.
	maxDirectFrame = 512 << 10
	// exchangeTimeout bounds one request and its answer.
	exchangeTimeout = 10 * time.Second
	// maxReceiptIDs bounds one receipt.
	maxReceiptIDs = 256
)

// directRequest is the body of a message request.
type directRequest struct {
	// Message is the message as envelope.Encode writes it (standard
	// base64 in the JSON frame).
	Message []byte `json:"message"`
}

// Receipt is the body of a message of kind receipt: its sender committed
// the listed messages, which it got through the relay.
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
	body, werr := p.messages.handleDirect(ctx, c.User(), f)
	var reply *wire.Frame
	if werr != nil {
		reply = &wire.Frame{Kind: wire.KindResponse, ID: f.ID, Error: werr}
	} else {
		reply, _ = wire.NewResponse(f.ID, body)
	}
	if err := wire.WriteFrame(s, reply); err != nil {
		p.log.Debug("write direct reply", "user", c.User(), "err", err)
	}
}

// handleDirect acts on one request from the peer whose key the connection
// proved, the user from, and returns the body of its answer.
func (ms *messages) handleDirect(ctx context.Context, from string, f *wire.Frame) (any, *wire.Error) {
	if f.Kind != wire.KindRequest {
		return nil, wire.Errorf(wire.CodeMalformed, "expected a request")
	}
	switch f.Op {
	case opMessage:
	case opMessages:
		return ms.receiveRunFrame(ctx, from, f) // directrun.go
	case opTyping:
		return wire.Empty{}, ms.receiveTyping(ctx, from, f.Body) // typing.go
	default:
		return nil, wire.Errorf(wire.CodeUnknownOp, "unknown operation %q", f.Op)
	}
	var req directRequest
	if err := wire.DecodeBody(f.Body, &req); err != nil {
		return nil, wire.Errorf(wire.CodeMalformed, "%v", err)
	}
	m, err := envelope.Decode(req.Message)
	if err != nil {
		return nil, wire.Errorf(wire.CodeMalformed, "%v", err)
	}
	if werr := ms.roomBudget.take(ms.roster, m.Group, from, time.Now()); werr != nil {
		return nil, werr
	}
	return wire.Empty{}, ms.receiveDirect(ctx, from, m)
}

// receiveDirect takes a message that came over a direct connection with
// the user from: it answers at once, so what receive would park is
// refused for now, and the sender keeps it.
func (ms *messages) receiveDirect(ctx context.Context, from string, m envelope.Message) *wire.Error {
	park, werr := ms.receive(ctx, arrival{Message: m, Sender: from, Me: ms.recipient(), Via: history.ViaDirect})
	switch park {
	case "":
		return werr
	case history.ParkHeld:
		// Nothing from a contact whose key changed is taken until the
		// user trusts the new key; the sender keeps it meanwhile.
		return wire.Errorf(wire.CodeForbidden, "your identity key changed; waiting for the recipient to trust it")
	case history.ParkGroup:
		return wire.Errorf(wire.CodeForbidden, "not a member of that group")
	case history.ParkContact:
		if !ms.roster.HasSynced() {
			return wire.Errorf(wire.CodeForbidden, "the recipient has not reached the server yet; try again later")
		}
		return wire.Errorf(wire.CodeNotFriends, "you are not a contact of the recipient")
	}
	return wire.Errorf(wire.CodeInternal, "internal error")
}

// sendDirect sends m over c and returns once the receiver has committed
// it. A message that does not encode gives an error wrapping
// envelope.ErrInvalid or envelope.ErrTooLarge, a refusal a *wire.Error.
func (ms *messages) sendDirect(ctx context.Context, c *direct.Conn, m envelope.Message) error {
	b, err := envelope.Encode(m)
	if err != nil {
		return fmt.Errorf("direct message: %w", err)
	}
	return ms.exchange(ctx, c, opMessage, directRequest{Message: b})
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
