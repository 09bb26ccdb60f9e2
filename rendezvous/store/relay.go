package store

import (
	"context"
	"errors"
	"fmt"
)

// putRelayOne is PutRelay for both stores: a batch of one through
// putRelays, its quota refusal returned as the error.
func putRelayOne(ctx context.Context, putRelays func(context.Context, []RelayMessage, Quota) ([]RelayPut, error), m RelayMessage, q Quota) (bool, error) {
	puts, err := putRelays(ctx, []RelayMessage{m}, q)
	if err != nil {
		return false, err
	}
	if puts[0].Err != nil {
		return false, fmt.Errorf("relay %s from %s to %s: %w", m.ID, m.Sender, m.Recipient, puts[0].Err)
	}
	return puts[0].Inserted, nil
}

// putRelayBatch is the body of PutRelays for both stores, inside the
// transaction: each envelope in order through put, a quota refusal
// answered in out and the batch going on, any other error failing it.
func putRelayBatch(ms []RelayMessage, out []RelayPut, put func(m RelayMessage) (bool, error)) error {
	for i, m := range ms {
		inserted, err := put(m)
		if errors.Is(err, ErrQuota) || errors.Is(err, ErrSenderQuota) {
			out[i] = RelayPut{Err: err}
			continue
		}
		if err != nil {
			return fmt.Errorf("relay %s from %s to %s: %w", m.ID, m.Sender, m.Recipient, err)
		}
		out[i] = RelayPut{Inserted: inserted}
	}
	return nil
}

// tally is what waits for a recipient (or from one sender for them).
type tally struct{ count, bytes int64 }

// over reports whether one more envelope of size bytes takes c above
// maxCount or maxBytes (zero or less: no limit).
func (c *tally) over(size int64, maxCount int, maxBytes int64) bool {
	return maxCount > 0 && c.count+1 > int64(maxCount) || maxBytes > 0 && c.bytes+size > maxBytes
}
