package notify

import (
	"context"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// The freedesktop notification service.
const (
	busName    = "org.freedesktop.Notifications"
	objectPath = "/org/freedesktop/Notifications"
	notifyCall = busName + ".Notify"
)

// Bus shows notifications through the session bus's
// org.freedesktop.Notifications service.
type Bus struct {
	conn *dbus.Conn
}

// Connect opens the session bus (DBUS_SESSION_BUS_ADDRESS). It fails
// where there is none: then there are no notifications.
func Connect() (*Bus, error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("session bus: %w", err)
	}
	return &Bus{conn: conn}, nil
}

// Close closes the connection to the bus.
func (b *Bus) Close() error { return b.conn.Close() }

// Notify shows one notification.
func (b *Bus) Notify(ctx context.Context, summary, body string) error {
	obj := b.conn.Object(busName, objectPath)
	call := obj.CallWithContext(ctx, notifyCall, 0,
		"lanchat",                 // app_name
		uint32(0),                 // replaces_id
		"",                        // app_icon
		summary,                   // summary
		body,                      // body
		[]string{},                // actions
		map[string]dbus.Variant{}, // hints
		int32(-1),                 // expire_timeout: the server's default
	)
	if call.Err != nil {
		return fmt.Errorf("notify: %w", call.Err)
	}
	return nil
}
