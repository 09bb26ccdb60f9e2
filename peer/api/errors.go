package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure the user should see: a stable code for scripts and a
// sentence for people. The HTTP layer sends it as {"error":{"code","message"}}
// with the status HTTPStatus gives.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the request field an invalid error is about
	// ("username", "password", "display_name", "email", "phone"), when
	// the server said which.
	Field string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Error codes.
const (
	CodeInvalid     = "invalid"       // bad input: 400
	CodeNotLoggedIn = "not_logged_in" // 401
	CodeAuth        = "auth"          // wrong password: 401
	CodeForbidden   = "forbidden"     // not a friend, not the owner, not invited: 403
	CodeNotFound    = "not_found"     // 404
	CodeConflict    = "conflict"      // username taken, already a member: 409
	CodeHeld        = "held"          // contact's key changed, not trusted: 409
	CodeKeyChanged  = "key_changed"   // the key changed again since the user compared it: 409
	CodeLimit       = "limit"         // quota or limit reached: 429
	CodeRateLimited = "rate_limited"  // 429
	CodeUnavailable = "unavailable"   // server unreachable for an operation that needs it: 503
	CodeInternal    = "internal"      // 500
)

// Errorf makes an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// HTTPStatus is the status an error is sent with.
func HTTPStatus(err error) int {
	var e *Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError
	}
	switch e.Code {
	case CodeInvalid:
		return http.StatusBadRequest
	case CodeNotLoggedIn, CodeAuth:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeConflict, CodeHeld, CodeKeyChanged:
		return http.StatusConflict
	case CodeLimit, CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
