package messaging

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"

	"github.com/lanchat/lanchat/peer/api"
)

// Time bounds of one message.
const (
	// sendTimeout bounds one Send call (the daemon gives up its first
	// try after 8s and queues the message).
	sendTimeout = 15 * time.Second
	// arrivalTimeout bounds the wait for one message at the receiver.
	arrivalTimeout = 15 * time.Second
	// slowSend is a Send that took long enough to have waited for a
	// direct dial to time out (the daemon's dial timeout is 3s).
	slowSend = time.Second
)

// round is what one timed round measured.
type round struct {
	lat     []time.Duration // per arrived message: Send called → event read at the receiver
	total   int             // messages sent, warm-up included
	sent    int             // timed Sends that succeeded
	arrived int             // of those, how many reached the receiver
	elapsed time.Duration   // first Send called → last arrival
	sendVia stats.Tally     // how Send said each message went
	recvVia stats.Tally     // how the receiver said each one came
	errs    stats.Tally     // failed Sends, by error code
	slow    int             // Sends that took over slowSend
	// requests is how many server requests each message cost, by
	// operation, counting everything until the round settled (the
	// receiver's acknowledgement and receipt too); nil if not scraped.
	requests map[string]float64
}

func newRound() round {
	return round{sendVia: stats.Tally{}, recvVia: stats.Tally{}, errs: stats.Tally{}}
}

// rate is the messages per second that arrived over the round.
func (r round) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.arrived) / r.elapsed.Seconds()
}

// messageText makes a text of exactly size bytes (at least the label)
// that names its round and sequence number, so a stray one is easy to
// place in a daemon's history.
func messageText(label string, seq, size int) string {
	s := fmt.Sprintf("msgload %s #%d ", label, seq)
	if len(s) >= size {
		return s
	}
	return s + strings.Repeat("x", size-len(s))
}

// errorCode names a failed Send for the stats.Tally: the API's error code, or
// "transport" when the daemon did not answer.
func errorCode(err error) string {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "transport"
}
