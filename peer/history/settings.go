package history

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// The user's settings kept in history, by name. `lanchat settings set
// NAME VALUE` writes them.
const (
	// SettingHideRecalled hides the text of recalled messages ("true");
	// by default it stays readable, marked recalled (anti-recall).
	SettingHideRecalled = "hide-recalled"
	// SettingSendReadReceipts sends read receipts ("true", the default);
	// a user who turns them off sees none of others' either.
	SettingSendReadReceipts = "send-read-receipts"
	// SettingShareKeep keeps the library files this user fetched
	// available to the group's other members ("true", the default):
	// `lanchat share keep on|off`.
	SettingShareKeep = "share-keep"
)

// settingDefaults are the settings and their defaults.
var settingDefaults = map[string]bool{
	SettingHideRecalled:     false,
	SettingSendReadReceipts: true,
	SettingShareKeep:        true,
}

// Settings are the user's settings.
type Settings struct {
	HideRecalled     bool
	SendReadReceipts bool
	ShareKeep        bool
}

// Settings returns the user's settings, with the defaults for those
// never set. They are kept in memory (s.settings) until SetSetting, the
// only writer of the settings table, forgets them.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	return s.settings.get(ctx, s.readSettings)
}

// readSettings reads the settings from the database.
func (s *Store) readSettings(ctx context.Context) (Settings, error) {
	vals := map[string]bool{}
	for name, def := range settingDefaults {
		vals[name] = def
	}
	rows, err := s.rquery(ctx, sqlSettings)
	if err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			return Settings{}, fmt.Errorf("settings: %w", err)
		}
		if _, known := settingDefaults[name]; !known {
			continue
		}
		if b, err := strconv.ParseBool(value); err == nil {
			vals[name] = b
		}
	}
	if err := rows.Err(); err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	return Settings{HideRecalled: vals[SettingHideRecalled], SendReadReceipts: vals[SettingSendReadReceipts],
		ShareKeep: vals[SettingShareKeep]}, nil
}

// SetSetting sets one setting by name to "true" or "false"; ErrInvalid
// for an unknown name or another value.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	if _, known := settingDefaults[name]; !known {
		return fmt.Errorf("set %q: %w", name, invalid("no setting %q; the settings are %s, %s and %s", name, SettingHideRecalled, SettingSendReadReceipts, SettingShareKeep))
	}
	b, err := strconv.ParseBool(value)
	if err != nil || (value != "true" && value != "false") {
		return fmt.Errorf("set %s: %w", name, invalid("the value must be true or false, not %q", value))
	}
	// Forgotten whether the write succeeded or not (a failed commit may
	// still have reached the file).
	defer s.settings.forget()
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, strconv.FormatBool(b)); err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	return nil
}

// SetMuted mutes or unmutes a conversation, creating it if it does not
// exist yet. A muted conversation still counts unread messages; it only
// notifies of those that mention the user.
func (s *Store) SetMuted(ctx context.Context, conv string, muted bool) error {
	if _, _, err := parseConversation(conv); err != nil {
		return fmt.Errorf("mute %s: %w", conv, err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO conversations (id, muted) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET muted = excluded.muted`, conv, muted); err != nil {
		return fmt.Errorf("mute %s: %w", conv, err)
	}
	return nil
}

// Muted reports whether a conversation is muted; an unknown one is not.
func (s *Store) Muted(ctx context.Context, conv string) (bool, error) {
	var muted bool
	err := s.r.QueryRowContext(ctx, `SELECT muted FROM conversations WHERE id = ?`, conv).Scan(&muted)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("muted %s: %w", conv, err)
	}
	return muted, nil
}
