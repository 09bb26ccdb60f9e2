package daemon

import (
	"context"
	"errors"
	"strings"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/link"
)

// fromServer turns an error from a server call into one the local API
// shows: the server's own message under the matching code, or
// "unavailable" when the server could not be reached.
func fromServer(err error) error {
	var werr *wire.Error
	switch {
	case errors.As(err, &werr):
		return fromWire(werr)
	case errors.Is(err, link.ErrNotConfirmed):
		return api.Errorf(api.CodeConflict, "%v", err)
	case errors.Is(err, link.ErrFingerprintMismatch):
		var detail string
		if _, after, ok := strings.Cut(err.Error(), link.ErrFingerprintMismatch.Error()+": "); ok {
			detail = " (" + after + ")"
		}
		return api.Errorf(api.CodeUnavailable, "the server's certificate does not match the fingerprint%s: check it with the server's admin (rendezvous fingerprint --data DIR)", detail)
	case errors.Is(err, link.ErrOffline):
		return api.Errorf(api.CodeUnavailable, "the server is unreachable; try again when it is back")
	case errors.Is(err, context.DeadlineExceeded):
		return api.Errorf(api.CodeUnavailable, "the server did not answer in time")
	default:
		return api.Errorf(api.CodeUnavailable, "server: %v", err)
	}
}

// fromWire maps a protocol error code to the local API's.
func fromWire(werr *wire.Error) error {
	code := api.CodeInternal
	switch werr.Code {
	case wire.CodeInvalid:
		code = api.CodeInvalid
	case wire.CodeBadCredentials, wire.CodeSessionInvalid, wire.CodeAccountDisabled:
		code = api.CodeAuth
	case wire.CodeNotAuthenticated:
		code = api.CodeNotLoggedIn
	case wire.CodeUsernameTaken, wire.CodeConflict, wire.CodeAlreadyAuth:
		code = api.CodeConflict
	case wire.CodeNotFound:
		code = api.CodeNotFound
	case wire.CodeNotFriends, wire.CodeForbidden:
		code = api.CodeForbidden
	case wire.CodeLimit, wire.CodeQuotaExceeded:
		code = api.CodeLimit
	case wire.CodeRateLimited:
		code = api.CodeRateLimited
	case wire.CodeShuttingDown, wire.CodeTimeout, wire.CodeTooManyConnections:
		code = api.CodeUnavailable
	}
	return &api.Error{Code: code, Message: werr.Message, Field: werr.Field}
}
