package daemon

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/transfer"
)

// TestLibraryOnComponents drives the library component through the
// Daemon's API: a share is listed and queued to the other members but
// kept out of the timeline, a withdrawal by a member who neither shared
// it nor owns the group is ignored, and a pull by a stranger is refused.
const teamID = "00112233445566778899aabbccddeeff"

func TestLibraryOnComponents(t *testing.T) {
	u := newUnitDaemon(t)
	ctx := context.Background()
	u.roster.Load(history.Roster{Groups: []history.RosterGroup{
		{ID: teamID, Name: "team", Owner: "carol", Members: []string{"bob", "carol", "dave"}},
	}})
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("shared notes"), 0o600); err != nil {
		t.Fatal(err)
	}

	if _, err := u.library.Shares(ctx, "#nope"); !isCode(err, api.CodeNotFound) {
		t.Fatalf("library of a group we are not in: %v", err)
	}
	added, err := u.library.ShareAdd(ctx, api.ShareAddRequest{Target: "#team", Paths: []string{file}})
	if err != nil || len(added.Shares) != 1 || !added.Shares[0].Held || added.Shares[0].Path != "notes.txt" {
		t.Fatalf("share add: %+v, %v", added, err)
	}
	id := added.Shares[0].ID
	pending, err := u.db.Pending(ctx, "carol", 10)
	if err != nil || len(pending) != 1 || pending[0].Message.Kind != content.KindShare {
		t.Fatalf("queued to carol: %+v, %v", pending, err)
	}
	if msgs, err := u.History(ctx, "#team", 10, "", ""); err != nil || len(msgs) != 0 {
		t.Fatalf("the timeline shows library messages: %+v, %v", msgs, err)
	}

	_, body, err := content.Encode(content.Unshare{ID: id})
	if err != nil {
		t.Fatal(err)
	}
	if werr := u.library.receiveLibrary(ctx, incoming{From: "dave", Group: teamID, Kind: content.KindUnshare, Body: string(body), Sent: time.Now()}); werr != nil {
		t.Fatalf("withdrawal by dave: %v", werr)
	}
	if list, err := u.library.Shares(ctx, "#team"); err != nil || len(list.Shares) != 1 {
		t.Fatalf("after dave's withdrawal: %+v, %v", list, err)
	}

	var sum [32]byte
	raw, _ := hex.DecodeString(added.Shares[0].SHA256)
	copy(sum[:], raw)
	if _, err := u.library.servePull(ctx, &transfer.PullRequest{Peer: "mallory", SHA256: sum, Size: added.Shares[0].Size}); !errors.Is(err, transfer.ErrRejected) {
		t.Fatalf("pull by a stranger: %v", err)
	}
	src, err := u.library.servePull(ctx, &transfer.PullRequest{Peer: "carol", SHA256: sum, Size: added.Shares[0].Size})
	if err != nil {
		t.Fatalf("pull by a member: %v", err)
	}
	if c, ok := src.(interface{ Close() error }); ok {
		c.Close()
	}

	if err := u.library.ShareRemove(ctx, "#team", id); err != nil {
		t.Fatalf("withdrawal by the sharer: %v", err)
	}
	if list, err := u.library.Shares(ctx, "#team"); err != nil || len(list.Shares) != 0 {
		t.Fatalf("after the withdrawal: %+v, %v", list, err)
	}
}
