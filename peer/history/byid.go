package history

import (
	"context"
	"fmt"
)

// maxByID bounds the messages MessagesByID returns: ids are random 128
// bits, so more than one is a sender reusing another's id.
const maxByID = 8

// MessagesByID returns the messages with id, whoever sent them, in
// arrival order: what a user names by id alone (`lanchat react ID`).
// None if there is no such message.
func (s *Store) MessagesByID(ctx context.Context, id string) ([]Message, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+msgCols+` FROM messages m
		WHERE m.id = ? ORDER BY m.seq LIMIT ?`, id, maxByID)
	if err != nil {
		return nil, fmt.Errorf("messages %s: %w", id, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("messages %s: %w", id, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("messages %s: %w", id, err)
	}
	return out, nil
}
