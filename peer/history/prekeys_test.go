package history

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// secret makes a distinctive test secret, easy to find in raw file bytes.
func secret(n byte) []byte {
	return bytes.Repeat([]byte{'S', 'E', 'C', 'R', 'E', 'T', n}, 64)
}

func TestPrekeys(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	_, err := s.CurrentPrekey(ctx)
	wantErr(t, err, ErrNotFound)

	// Weekly rotation, each valid for two weeks.
	var pks []Prekey
	for i := range 4 {
		p := Prekey{ID: fmt.Sprintf("pk%d", i), Secret: secret(byte('0' + i)),
			Created: at(time.Duration(i) * 7 * day), Expires: at(time.Duration(i+2) * 7 * day)}
		mustNil(t, s.SavePrekey(ctx, p))
		pks = append(pks, p)
	}
	wantErr(t, s.SavePrekey(ctx, pks[0]), ErrExists)
	cur, err := s.CurrentPrekey(ctx)
	mustNil(t, err)
	if cur.ID != "pk3" || !bytes.Equal(cur.Secret, pks[3].Secret) || !cur.Created.Equal(pks[3].Created) ||
		!cur.Expires.Equal(pks[3].Expires) {
		t.Errorf("current = %+v", cur)
	}
	p1, err := s.Prekey(ctx, "pk1")
	mustNil(t, err)
	if !bytes.Equal(p1.Secret, pks[1].Secret) {
		t.Error("pk1 secret differs")
	}

	// Retention of 30 days after expiry: pk0 expired on day 14 and pk1 on
	// day 21, so on day 50 pk0 is gone (14+30 < 50) and pk1 stays.
	retention := 30 * day
	n, err := s.DeletePrekeysBefore(ctx, at(50*day).Add(-retention))
	mustNil(t, err)
	if n != 1 {
		t.Errorf("deleted %d, want 1", n)
	}
	_, err = s.Prekey(ctx, "pk0")
	wantErr(t, err, ErrNotFound)
	for _, id := range []string{"pk1", "pk2", "pk3"} {
		if _, err := s.Prekey(ctx, id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	// Far in the future everything expired, but the current prekey stays.
	n, err = s.DeletePrekeysBefore(ctx, at(1000*day))
	mustNil(t, err)
	if n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	cur, err = s.CurrentPrekey(ctx)
	mustNil(t, err)
	if cur.ID != "pk3" {
		t.Errorf("current = %v", cur)
	}

	for _, p := range []Prekey{
		{Secret: []byte("x"), Created: at(0), Expires: at(day)},
		{ID: "a", Created: at(0), Expires: at(day)},
		{ID: "a", Secret: []byte("x"), Expires: at(day)},
		{ID: "a", Secret: []byte("x"), Created: at(day), Expires: at(day)},
	} {
		wantErr(t, s.SavePrekey(ctx, p), ErrInvalid)
	}
}

// TestDeletedPrekeyLeavesNoTrace checks that deleted secrets are in
// neither the database file nor its write-ahead log: one secret that had
// been checkpointed into the main file, one still only in the log.
func TestDeletedPrekeyLeavesNoTrace(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	inFile := Prekey{ID: "in-file", Secret: secret('A'), Created: at(0), Expires: at(day)}
	inLog := Prekey{ID: "in-log", Secret: secret('B'), Created: at(day), Expires: at(2 * day)}
	cur := Prekey{ID: "cur", Secret: secret('C'), Created: at(2 * day), Expires: at(9 * day)}
	mustNil(t, s.SavePrekey(ctx, inFile))
	_, err := s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	mustNil(t, err)
	mustNil(t, s.SavePrekey(ctx, inLog))
	mustNil(t, s.SavePrekey(ctx, cur))
	if !fileHas(t, path, inFile.Secret) || !fileHas(t, path+"-wal", inLog.Secret) {
		t.Fatal("test is broken: secrets not where expected before deletion")
	}
	n, err := s.DeletePrekeysBefore(ctx, at(3*day))
	mustNil(t, err)
	if n != 2 {
		t.Fatalf("deleted %d, want 2", n)
	}
	for _, p := range []string{path, path + "-wal"} {
		for _, old := range []Prekey{inFile, inLog} {
			if fileHas(t, p, old.Secret) {
				t.Errorf("%s still holds deleted secret %s", filepath.Base(p), old.ID)
			}
		}
	}
	if !fileHas(t, path, cur.Secret) && !fileHas(t, path+"-wal", cur.Secret) {
		t.Error("current secret not found: the check cannot see secrets")
	}
}

func fileHas(t *testing.T, path string, b []byte) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false
	}
	mustNil(t, err)
	return bytes.Contains(data, b)
}

func TestPrekeyNeverPrinted(t *testing.T) {
	p := Prekey{ID: "pk", Secret: []byte("TOPSECRET"), Created: at(0), Expires: at(day)}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("rotated", "prekey", p)
	for _, s := range []string{
		fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s", p, p, p, p), fmt.Sprintf("%v", &p), logged.String(),
	} {
		if strings.Contains(s, "TOPSECRET") || strings.Contains(s, "TOPSECRET"[:4]) || !strings.Contains(s, "pk") {
			t.Errorf("printed as %q", s)
		}
	}
}
