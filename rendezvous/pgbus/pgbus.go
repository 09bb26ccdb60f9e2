// Package pgbus is the rendezvous.Bus of nodes sharing one PostgreSQL
// database: events go out with NOTIFY on one channel and come in on a
// dedicated LISTEN connection per node (github.com/jackc/pgxlisten).
// PostgreSQL delivers a notification to every listener once the
// statement that sent it commits, in commit order; a listener that was
// disconnected misses what was sent meanwhile, which is why nothing that
// must survive (relayed messages, requests, invitations) travels only as
// an event: events only tell a node to look at the store or to push
// something live.
package pgbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
	"github.com/lanchat/lanchat/rendezvous"
)

// Channel is the notification channel all nodes listen on.
const Channel = "lanchat_events"

// appPrefix marks a node's listening connection in pg_stat_activity,
// followed by the node's id; LiveNodes reads it back.
const appPrefix = "lanchat-node-"

// maxPayload is what PostgreSQL takes in one notification (8000 bytes
// by default), less a margin.
const maxPayload = 7900

// DB is what the bus needs of the store: a connection of its own to
// listen on, and a way to send a notification.
type DB interface {
	ConnectListener(ctx context.Context) (*pgx.Conn, error)
	Notify(ctx context.Context, channel, payload string) error
	LiveApplications(ctx context.Context, prefix string) ([]string, error)
}

// Bus is a rendezvous.Bus over PostgreSQL.
type Bus struct {
	db  DB
	log *slog.Logger
}

var _ rendezvous.Bus = (*Bus)(nil)

// New returns a bus over db.
func New(db DB, log *slog.Logger) *Bus {
	return &Bus{db: db, log: log}
}

// Publish sends ev to every node.
func (b *Bus) Publish(ctx context.Context, ev rendezvous.ClusterEvent) error {
	p, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if len(p) > maxPayload {
		return fmt.Errorf("event %s for %s is %d bytes, more than a notification holds", ev.Kind, ev.User, len(p))
	}
	return b.db.Notify(ctx, Channel, string(p))
}

// Listen passes every event to handle until ctx is done, reconnecting a
// second after a lost connection.
func (b *Bus) Listen(ctx context.Context, node string, handle func(rendezvous.ClusterEvent)) error {
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			conn, err := b.db.ConnectListener(ctx)
			if err != nil {
				return nil, err
			}
			if _, err := conn.Exec(ctx, `SELECT set_config('application_name', $1, false)`, appPrefix+node); err != nil {
				conn.Close(ctx)
				return nil, fmt.Errorf("name the listening connection: %w", err)
			}
			return conn, nil
		},
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				b.log.Warn("cluster: listening for events", "err", err)
			}
		},
		ReconnectDelay: time.Second,
	}
	l.Handle(Channel, pgxlisten.HandlerFunc(func(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
		ev, err := decode(n.Payload)
		if err != nil {
			return err
		}
		handle(ev)
		return nil
	}))
	err := l.Listen(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// decode reads one notification's payload: an event as Publish sends
// it. Any role that may connect to the database can NOTIFY, so the
// payload is checked like any input: bounded, well-formed, with a node,
// a kind and a user.
func decode(payload string) (rendezvous.ClusterEvent, error) {
	var ev rendezvous.ClusterEvent
	if len(payload) > maxPayload {
		return ev, fmt.Errorf("malformed event: %d bytes", len(payload))
	}
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		return rendezvous.ClusterEvent{}, fmt.Errorf("malformed event: %w", err)
	}
	if ev.Node == "" || ev.Kind == "" || ev.User == "" {
		return rendezvous.ClusterEvent{}, errors.New("malformed event: no node, kind or user")
	}
	return ev, nil
}

// LiveNodes lists the nodes whose listening connection is open now.
func (b *Bus) LiveNodes(ctx context.Context) ([]string, error) {
	apps, err := b.db.LiveApplications(ctx, appPrefix)
	if err != nil {
		return nil, err
	}
	nodes := make([]string, 0, len(apps))
	for _, a := range apps {
		nodes = append(nodes, strings.TrimPrefix(a, appPrefix))
	}
	return nodes, nil
}
