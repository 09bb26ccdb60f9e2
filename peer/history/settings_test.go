package history

import (
	"context"
	"testing"
)

func TestSettingsCachedUntilSetSetting(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	def := Settings{HideRecalled: false, SendReadReceipts: true, ShareKeep: true}
	st, err := s.Settings(ctx)
	mustNil(t, err)
	if st != def {
		t.Fatalf("settings %+v, want the defaults %+v", st, def)
	}
	// A row written behind the store's back is not seen: the settings
	// are answered from memory, not read again.
	_, err = s.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, 'true')`, SettingHideRecalled)
	mustNil(t, err)
	st, err = s.Settings(ctx)
	mustNil(t, err)
	if st != def {
		t.Fatalf("settings %+v read again, want the cached %+v", st, def)
	}
	// SetSetting empties the cache: both that row and the new one show.
	mustNil(t, s.SetSetting(ctx, SettingSendReadReceipts, "false"))
	st, err = s.Settings(ctx)
	mustNil(t, err)
	if want := (Settings{HideRecalled: true, SendReadReceipts: false, ShareKeep: true}); st != want {
		t.Fatalf("settings after SetSetting %+v, want %+v", st, want)
	}
	mustNil(t, s.SetSetting(ctx, SettingShareKeep, "false"))
	mustNil(t, s.SetSetting(ctx, SettingHideRecalled, "false"))
	st, err = s.Settings(ctx)
	mustNil(t, err)
	if want := (Settings{HideRecalled: false, SendReadReceipts: false, ShareKeep: false}); st != want {
		t.Fatalf("settings after two SetSettings %+v, want %+v", st, want)
	}
	// A rejected SetSetting leaves them as they are.
	wantErr(t, s.SetSetting(ctx, SettingShareKeep, "maybe"), ErrInvalid)
	st, err = s.Settings(ctx)
	mustNil(t, err)
	if want := (Settings{HideRecalled: false, SendReadReceipts: false, ShareKeep: false}); st != want {
		t.Fatalf("settings after a rejected SetSetting %+v, want %+v", st, want)
	}
}

// The message path's reads are prepared on the read pool when the store
// opens, and answer through the prepared statements.
func TestReadStatementsPrepared(t *testing.T) {
	s, _ := openTest(t)
	for _, q := range readStmts {
		if s.rstmts[q] == nil {
			t.Errorf("not prepared: %.60s", q)
		}
	}
	ctx := context.Background()
	addIn(t, s, in(1, "alice", "hello", 0))
	m, err := s.Message(ctx, "alice", id(1))
	mustNil(t, err)
	if m.Body != "hello" {
		t.Fatalf("message body %q, want hello", m.Body)
	}
	if _, err := s.Message(ctx, "alice", id(2)); err == nil {
		t.Fatal("a message never added was found")
	}
}
