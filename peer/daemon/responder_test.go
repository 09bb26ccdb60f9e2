package daemon

import (
	"errors"
	"strings"
	"testing"
)

func TestResponderCheck(t *testing.T) {
	busy := errors.New("listen udp4 0.0.0.0:5353: bind: address already in use")
	for _, tc := range []struct {
		r          responder
		blocked    error
		ok         bool
		detail     string
		fixMention string
	}{
		{responder{name: "mDNSResponder", running: true, detail: "its socket is there"}, nil, true, "shares UDP port 5353", ""},
		{responder{name: "mDNSResponder", running: true}, busy, false, "cannot announce beside it: listen udp4", "restart the lanchat daemon"},
		{responder{name: "Bonjour", detail: "not installed"}, nil, true, "Bonjour does not run (not installed); lanchat answers mDNS itself", ""},
		{responder{name: "Bonjour", detail: "not installed"}, busy, false, "cannot announce", "holds UDP port 5353"},
	} {
		c := responderCheck(tc.r, tc.blocked)
		if c.OK != tc.ok || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fixMention) {
			t.Errorf("%+v, %v: got %+v", tc.r, tc.blocked, c)
		}
	}
}
