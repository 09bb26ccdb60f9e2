package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// AddIncomingRun stores messages received in one run (a batch from one
// peer), in order, in one durable transaction shared with concurrent
// writes: the run costs one fsync, not one per message. It stops at the
// first message it cannot store, so that nothing after it is stored
// before it: it returns how many of ms (a prefix) are now durably in
// history, new or redelivered, with inserted[i] true for each new one,
// and, when n < len(ms), why ms[n] was not stored (ErrConflict, or an
// invalid message; a failed commit fails the whole run with n == 0).
// Each message is checked as AddIncoming checks it.
func (s *Store) AddIncomingRun(ctx context.Context, ms []Message) (inserted []bool, n int, err error) {
	checked := make([]Message, 0, len(ms))
	var stop error
	for _, m := range ms {
		m.Outgoing, m.State = false, StateReceived
		if err := m.check(); err != nil {
			stop = fmt.Errorf("add message %s: %w", m.ID, err)
			break
		}
		if kind, _, _ := parseConversation(m.Conversation); kind == 'u' && m.Conversation != Direct(m.From) {
			stop = fmt.Errorf("add message %s: %w", m.ID, invalid("direct message from %s in %s", m.From, m.Conversation))
			break
		}
		checked = append(checked, m)
	}
	if len(checked) == 0 {
		return nil, 0, stop
	}
	var (
		ins    []bool
		failed error
	)
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ins, failed = make([]bool, 0, len(checked)), nil
		q := ptx{tx, s.stmts}
		for _, m := range checked {
			added := false
			err := s.stmts.isolate(ctx, tx, func(*sql.Tx) error {
				dup, err := duplicate(ctx, q, m)
				if err != nil || dup {
					return err
				}
				if _, err := q.ExecContext(ctx, sqlConvIn, m.Conversation, m.Received.UnixNano()); err != nil {
					return err
				}
				if _, err := insertMessage(ctx, q, m); err != nil {
					return err
				}
				added = true
				return nil
			})
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrExists) || errors.Is(err, ErrInvalid) {
				failed = fmt.Errorf("add message %s: %w", m.ID, err)
				return nil // what came before commits; nothing after
			}
			if err != nil {
				return err
			}
			ins = append(ins, added)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("add %d messages: %w", len(checked), err)
	}
	if failed == nil && len(ins) == len(checked) {
		failed = stop
	}
	return ins, len(ins), failed
}

// DeliveredRun is Delivered for several of this user's messages to one
// recipient (a receipt), in one durable transaction: it returns one
// outcome per id, ErrNotFound for an id with no such copy.
func (s *Store) DeliveredRun(ctx context.Context, ids []string, to string) []error {
	errs := make([]error, len(ids))
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		q := ptx{tx, s.stmts}
		for i, id := range ids {
			errs[i] = s.stmts.isolate(ctx, tx, func(*sql.Tx) error {
				return advanceTx(ctx, q, id, to, StateDelivered, ViaNone, "")
			})
			if errs[i] != nil && !errors.Is(errs[i], ErrNotFound) {
				return errs[i]
			}
		}
		return nil
	})
	for i := range errs {
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("delivered %s to %s: %w", ids[i], to, err)
		case errs[i] != nil:
			errs[i] = fmt.Errorf("delivered %s to %s: %w", ids[i], to, errs[i])
		}
	}
	return errs
}
