package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/peer/direct"
	"github.com/lanchat/lanchat/transfer"
)

// TestHostileNames plays a hostile contact: the test itself dials bob's
// daemon over QUIC with mallory's identity and sends an offer whose names
// try to escape the downloads folder or use names a file system reserves.
// Every file lands inside the folder, under a cleaned name.
func TestHostileNames(t *testing.T) {
	srv := startServer(t)
	bob := newUser(t, srv, "bob")
	downloads := filepath.Join(t.TempDir(), "downloads")
	bob.extra = []string{"--downloads", downloads}
	bob.start(t)
	bob.register(t)
	mallory := newPeer(t, "mallory")
	mallory.register(t, srv)
	acceptPeer(t, bob, mallory)

	tr, addr, bobKey := directAs(t, mallory, bob)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := tr.Dial(ctx, addr, "bob", bobKey)
	if err != nil {
		t.Fatalf("dial bob's daemon: %v", err)
	}

	hostile := []string{
		"../../escape.txt",
		"/etc/lanchat-owned",
		"a/../../../up.txt",
		"CON",
		"nul.txt",
		"evil\x1b[31mred.txt",
		"bad<>:\"|?*name.txt",
		"dots and spaces. . ",
		`..\..\windows.txt`,
	}
	src := t.TempDir()
	var paths []string
	for i := range hostile {
		p := filepath.Join(src, "f"+string(rune('a'+i)))
		os.WriteFile(p, []byte("payload "+hostile[i]), 0o644)
		paths = append(paths, p)
	}
	offer, err := transfer.NewOffer(paths...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range offer.Entries {
		offer.Entries[i].Path = hostile[i] // what a hostile sender puts on the wire
	}
	if _, err := transfer.Send(ctx, transferConn{conn}, offer, transfer.SendOptions{}); err != nil {
		t.Fatalf("send the crafted offer: %v", err)
	}

	// Every file is inside downloads, none elsewhere, names cleaned.
	var names []string
	filepath.WalkDir(downloads, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(downloads, p)
			names = append(names, rel)
		}
		return nil
	})
	if len(names) != len(hostile) {
		t.Fatalf("%d files arrived, want %d: %q", len(names), len(hostile), names)
	}
	for _, n := range names {
		if slices.Contains(strings.Split(n, "/"), "..") || strings.ContainsAny(n, "<>:\"|?*\\\x1b") || strings.HasSuffix(n, " ") || strings.HasSuffix(n, ".") {
			t.Errorf("name not cleaned: %q", n)
		}
		base := strings.ToUpper(strings.TrimSuffix(filepath.Base(n), filepath.Ext(n)))
		if base == "CON" || base == "NUL" {
			t.Errorf("reserved device name kept: %q", n)
		}
	}
	for _, outside := range []string{
		filepath.Join(filepath.Dir(downloads), "escape.txt"),
		filepath.Join(filepath.Dir(filepath.Dir(downloads)), "escape.txt"),
		"/etc/lanchat-owned",
		filepath.Join(filepath.Dir(downloads), "up.txt"),
	} {
		if _, err := os.Stat(outside); err == nil {
			t.Errorf("a file escaped to %s", outside)
		}
	}
	t.Logf("cleaned names: %q", names)
}

// transferConn is a direct connection as package transfer takes it, as
// the daemon adapts its own.
type transferConn struct{ *direct.Conn }

func (c transferConn) OpenStream(ctx context.Context) (transfer.Stream, error) {
	s, err := c.Conn.OpenStream(ctx, direct.StreamTransfer)
	if err != nil {
		return nil, err
	}
	return transferStream{s}, nil
}

func (c transferConn) Budget() wire.Budget { return c.Conn.Budget() }

// transferStream is a direct stream as package transfer takes it.
type transferStream struct{ *direct.Stream }

func (s transferStream) CancelRead()  { s.Stream.CancelRead(direct.StreamCodeCancelled) }
func (s transferStream) CancelWrite() { s.Stream.CancelWrite(direct.StreamCodeCancelled) }
