package wire

import "fmt"

// Error codes carried in response and connection error frames. Clients
// branch on the code; the message is for people.
const (
	CodeMalformed          = "malformed"           // frame or body could not be decoded
	CodeFrameTooLarge      = "frame_too_large"     // frame over the size limit
	CodeUnsupportedVersion = "unsupported_version" // hello with a version the server does not speak
	CodeHelloRequired      = "hello_required"      // first request was not hello
	CodeUnknownOp          = "unknown_op"          // no such operation
	CodeInvalid            = "invalid"             // a field failed validation; Field names it
	CodeNotAuthenticated   = "not_authenticated"   // operation needs login or resume
	CodeAlreadyAuth        = "already_authenticated"
	CodeBadCredentials     = "bad_credentials"  // wrong username or password
	CodeSessionInvalid     = "session_invalid"  // token unknown, expired or revoked
	CodeAccountDisabled    = "account_disabled" // operator disabled the account
	CodeUsernameTaken      = "username_taken"   // register with an existing name
	CodeNotFound           = "not_found"        // user, group, request or invite does not exist
	CodeNotFriends         = "not_friends"      // relay target is neither friend nor co-member
	CodeForbidden          = "forbidden"        // caller lacks the right (e.g. not group owner)
	CodeConflict           = "conflict"         // state forbids it (already friends, already member...)
	CodeLimit              = "limit"            // a count limit (friends, groups, members) reached
	CodeQuotaExceeded      = "quota_exceeded"   // recipient's relay quota is full
	CodeRateLimited        = "rate_limited"     // back off; RetryAfterMS says how long
	CodeTooManyConnections = "too_many_connections"
	CodeTimeout            = "timeout"       // handshake or idle time-out
	CodeSlowReader         = "slow_reader"   // the client did not read fast enough
	CodeShuttingDown       = "shutting_down" // server is stopping
	CodeInternal           = "internal"      // server-side failure; nothing was changed
)

// Error is the error object of a response or connection error frame.
type Error struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	Field        string `json:"field,omitempty"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid builds a validation error naming the offending field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}
