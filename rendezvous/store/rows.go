package store

import "database/sql"

// scanner is one row to read: *sql.Row, *sql.Rows, pgx.Row, pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// rowIter is a query's result, as both stores' drivers give it
// (*sql.Rows, pgx.Rows); the caller closes it.
type rowIter interface {
	scanner
	Next() bool
	Err() error
}

// scanAll reads every row of rows with scan, in order: nil if there are
// none, or the first error of a scan or of the result.
func scanAll[T any](rows rowIter, scan func(sc scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// The row readers below serve both stores: times are stored as Unix
// nanoseconds or NULL, which both drivers scan into sql.NullInt64.

// scanGroup reads groupCols plus any extra destinations.
func scanGroup(sc scanner, extra ...any) (Group, error) {
	var (
		g       Group
		created sql.NullInt64
	)
	if err := sc.Scan(append([]any{&g.ID, &g.Name, &g.Owner, &created, &g.Members, &g.Room}, extra...)...); err != nil {
		return Group{}, err
	}
	g.Created = timeOf(created)
	return g, nil
}

// scanGroupOnly reads one row of groupCols.
func scanGroupOnly(sc scanner) (Group, error) { return scanGroup(sc) }

// scanRoom reads one row of roomCols.
func scanRoom(sc scanner) (Room, error) {
	var r Room
	g, err := scanGroup(sc, &r.Topic, &r.Lobby)
	if err != nil {
		return Room{}, err
	}
	r.Group = g
	return r, nil
}

// scanInvite reads groupCols, then the invitee, the inviter and when.
func scanInvite(sc scanner) (Invite, error) {
	var (
		inv Invite
		at  sql.NullInt64
		err error
	)
	if inv.Group, err = scanGroup(sc, &inv.User, &inv.By, &at); err != nil {
		return Invite{}, err
	}
	inv.At = timeOf(at)
	return inv, nil
}

// scanMember reads a member's name and when they joined.
func scanMember(sc scanner) (Member, error) {
	var (
		m      Member
		joined sql.NullInt64
	)
	if err := sc.Scan(&m.User, &joined); err != nil {
		return Member{}, err
	}
	m.Joined = timeOf(joined)
	return m, nil
}

// scanFriendRequest reads from, to and when.
func scanFriendRequest(sc scanner) (FriendRequest, error) {
	var (
		r  FriendRequest
		at sql.NullInt64
	)
	if err := sc.Scan(&r.From, &r.To, &at); err != nil {
		return FriendRequest{}, err
	}
	r.At = timeOf(at)
	return r, nil
}

// scanRelayMessage reads seq, recipient, msg_id, sender, envelope,
// created.
func scanRelayMessage(sc scanner) (RelayMessage, error) {
	var (
		m       RelayMessage
		created sql.NullInt64
	)
	if err := sc.Scan(&m.Seq, &m.Recipient, &m.ID, &m.Sender, &m.Envelope, &created); err != nil {
		return RelayMessage{}, err
	}
	m.Created = timeOf(created)
	return m, nil
}

// scanRelayDrop reads sender, recipient, msg_id, reason, at.
func scanRelayDrop(sc scanner) (RelayDrop, error) {
	var (
		d  RelayDrop
		at sql.NullInt64
	)
	if err := sc.Scan(&d.Sender, &d.Recipient, &d.ID, &d.Reason, &at); err != nil {
		return RelayDrop{}, err
	}
	d.At = timeOf(at)
	return d, nil
}
