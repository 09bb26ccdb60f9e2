package rendezvous

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/rendezvous/store"
)

// handlerFunc runs one request. It returns the response body or a protocol
// error.
type handlerFunc func(ctx context.Context, c *conn, body json.RawMessage) (any, *wire.Error)

type route struct {
	fn   handlerFunc
	auth bool // requires a logged-in session
}

// handle adapts a typed handler: it decodes the body strictly and, for
// authenticated routes, passes the caller's username.
func handle[Req any](fn func(ctx context.Context, c *conn, req *Req) (any, *wire.Error)) handlerFunc {
	return func(ctx context.Context, c *conn, body json.RawMessage) (any, *wire.Error) {
		var req Req
		if err := wire.DecodeBody(body, &req); err != nil {
			return nil, wire.Errorf(wire.CodeMalformed, "%v", err)
		}
		return fn(ctx, c, &req)
	}
}

var routes map[string]route

func init() {
	open := func(fn handlerFunc) route { return route{fn: fn} }
	authed := func(fn handlerFunc) route { return route{fn: fn, auth: true} }
	routes = map[string]route{
		wire.OpPing:            open(handle(opPing)),
		wire.OpRegister:        open(handle(opRegister)),
		wire.OpLogin:           open(handle(opLogin)),
		wire.OpResume:          open(handle(opResume)),
		wire.OpLogout:          authed(handle(opLogout)),
		wire.OpPasswd:          authed(handle(opPasswd)),
		wire.OpProfileUpdate:   authed(handle(opProfileUpdate)),
		wire.OpPrekeyRotate:    authed(handle(opPrekeyRotate)),
		wire.OpUsersSearch:     authed(handle(opUsersSearch)),
		wire.OpKeysGet:         authed(handle(opKeysGet)),
		wire.OpFriendRequest:   authed(handle(opFriendRequest)),
		wire.OpFriendAccept:    authed(handle(opFriendAccept)),
		wire.OpFriendReject:    authed(handle(opFriendReject)),
		wire.OpFriendRemove:    authed(handle(opFriendRemove)),
		wire.OpFriendsList:     authed(handle(opFriendsList)),
		wire.OpPresenceSet:     authed(handle(opPresenceSet)),
		wire.OpGroupCreate:     authed(handle(opGroupCreate)),
		wire.OpGroupInvite:     authed(handle(opGroupInvite)),
		wire.OpGroupJoin:       authed(handle(opGroupJoin)),
		wire.OpGroupLeave:      authed(handle(opGroupLeave)),
		wire.OpGroupKick:       authed(handle(opGroupKick)),
		wire.OpGroupRename:     authed(handle(opGroupRename)),
		wire.OpGroupDelete:     authed(handle(opGroupDelete)),
		wire.OpGroupMembers:    authed(handle(opGroupMembers)),
		wire.OpGroupsList:      authed(handle(opGroupsList)),
		wire.OpRelaySend:       authed(opRelaySend),
		wire.OpRelayAck:        authed(handle(opRelayAck)),
		wire.OpRelayDroppedAck: authed(handle(opRelayDroppedAck)),
		wire.OpAvatarGet:       authed(handle(opAvatarGet)),
	}
	for op, fn := range map[string]handlerFunc{
		wire.OpRoomCreate:  handle(opRoomCreate),
		wire.OpRoomsList:   handle(opRoomsList),
		wire.OpRoomJoin:    handle(opRoomJoin),
		wire.OpRoomLeave:   handle(opRoomLeave),
		wire.OpRoomTopic:   handle(opRoomTopic),
		wire.OpRoomAdmin:   handle(opRoomAdmin),
		wire.OpRoomKick:    handle(opRoomKick),
		wire.OpRoomBan:     handle(opRoomBan),
		wire.OpRoomUnban:   handle(opRoomUnban),
		wire.OpRoomPost:    handle(opRoomPost),
		wire.OpUsersOnline: handle(opUsersOnline),
		wire.OpKeysGetMany: handle(opKeysGetMany),
	} {
		routes[op] = authed(fn)
	}
}

// dispatch runs one request frame and queues its response.
func (c *conn) dispatch(f *wire.Frame) {
	start := time.Now()
	r, ok := routes[f.Op]
	var body any
	var werr *wire.Error
	switch {
	case f.Op == wire.OpHello:
		werr = wire.Errorf(wire.CodeConflict, "hello was already exchanged")
	case !ok:
		werr = wire.Errorf(wire.CodeUnknownOp, "unknown operation %q", f.Op)
	case r.auth && c.authedUser() == "":
		werr = wire.Errorf(wire.CodeNotAuthenticated, "log in first")
	default:
		ctx, cancel := context.WithTimeout(c.srv.ctx, requestTimeout)
		body, werr = r.fn(ctx, c, f.Body)
		cancel()
	}
	op := f.Op
	if !ok {
		op = "unknown"
	}
	code := "ok"
	if werr != nil {
		code = werr.Code
	}
	c.srv.cfg.Metrics.ObserveRequest(op, time.Since(start), code)
	c.reply(f.ID, body, werr)
	if fn := c.afterReply; fn != nil {
		c.afterReply = nil
		fn()
	}
}

func opPing(ctx context.Context, c *conn, _ *wire.Empty) (any, *wire.Error) {
	return wire.Empty{}, nil
}

// internal logs a server-side failure and returns the generic error the
// client sees; details stay in the log.
func (c *conn) internal(what string, err error) *wire.Error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if c.srv.ctx.Err() != nil {
			return wire.Errorf(wire.CodeShuttingDown, "server is shutting down")
		}
		return &wire.Error{Code: wire.CodeRateLimited, Message: "server busy, try again", RetryAfterMS: 1000}
	}
	c.logger().Error(what, "user", c.authedUser(), "err", err)
	return wire.Errorf(wire.CodeInternal, "internal error")
}

// notFound maps store.ErrNotFound to a not_found error and anything else to
// an internal one.
func (c *conn) notFound(what string, err error, format string, args ...any) *wire.Error {
	if errors.Is(err, store.ErrNotFound) {
		return wire.Errorf(wire.CodeNotFound, format, args...)
	}
	return c.internal(what, err)
}
