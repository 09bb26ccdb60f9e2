package daemon

import (
	"errors"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/api"
)

// A field the server names in an invalid error reaches the local API, so
// that a front end can show the message under that field.
func TestFromServerKeepsField(t *testing.T) {
	err := fromServer(&wire.Error{Code: wire.CodeInvalid, Message: "must be at least 8 characters", Field: "password"})
	var e *api.Error
	if !errors.As(err, &e) {
		t.Fatalf("fromServer gave %T, want *api.Error", err)
	}
	if e.Code != api.CodeInvalid || e.Field != "password" || e.Message != "must be at least 8 characters" {
		t.Fatalf("fromServer gave %+v", e)
	}
}
