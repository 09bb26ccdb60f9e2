package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/internal/content"
	"github.com/lanchat/lanchat/peer/daemon/rich"
	"github.com/lanchat/lanchat/peer/history"
	"github.com/lanchat/lanchat/peer/home"
	"github.com/lanchat/lanchat/transfer"
)

// A picture or recording over content.MaxInline does not travel in its
// message: the message carries the thumbnail (of a picture), the size and
// the SHA-256, and names a transfer; the full bytes follow over that
// transfer once the recipient has the message and a direct path exists
// (docs/protocol.md, "Media transfers"). Both sides keep the full bytes
// in the media store, <home>/media/<sha256>; a receiver takes the
// transfer into <home>/media/incoming/<transfer id> and moves it into the
// store once its size and SHA-256 match the message's.

// mediaStore is the media store's directory.
func mediaStore(h *home.Home) string { return filepath.Join(h.Dir(), "media") }

// mediaPath is where the media store keeps the bytes whose SHA-256 is sha
// (64 lower-case hex digits, checked by content before it gets here).
func mediaPath(h *home.Home, sha string) string { return filepath.Join(mediaStore(h), sha) }

// mediaStaging is where an incoming media transfer is received.
func mediaStaging(h *home.Home, id string) string {
	return filepath.Join(mediaStore(h), "incoming", id)
}

// hasMedia reports whether the media store holds the bytes of sha, size
// bytes long.
func hasMedia(h *home.Home, sha string, size int64) bool {
	fi, err := os.Stat(mediaPath(h, sha))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// keepMedia writes data into the media store under sha (a file written
// whole, then renamed into place) and returns its path.
func keepMedia(h *home.Home, sha string, data []byte) (string, error) {
	p := mediaPath(h, sha)
	if hasMedia(h, sha, int64(len(data))) {
		return p, nil
	}
	if err := os.MkdirAll(mediaStore(h), 0o700); err != nil {
		return "", fmt.Errorf("media store: %w", err)
	}
	f, err := os.CreateTemp(mediaStore(h), ".new-*")
	if err != nil {
		return "", fmt.Errorf("media store: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), p)
	}
	if werr != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("media store: %w", werr)
	}
	return p, nil
}

// followMedia records, for each recipient of the sender's message id, the
// transfer that brings them its picture or recording, kept at path. The
// sender calls it before it stores the message: a transfer whose message
// never got stored fails (mediaReady), while a message stored without
// its transfers would leave its recipients with the thumbnail alone.
// It returns the transfers' ids.
func (tr *transfers) followMedia(ctx context.Context, me, id, conv string, to []string, s rich.Stored, path string) ([]string, error) {
	x, name, sha, size := s.Follow()
	group := strings.TrimPrefix(conv, "g:")
	if group == conv {
		group = ""
	}
	var ids []string
	for _, u := range to {
		tid := rich.MediaTransferID(x, u)
		rec := history.Transfer{ID: tid, Outgoing: true, Peer: u, Group: group, State: history.TransferQueued,
			Paths: []string{path}, Name: name, Files: 1, Total: size}
		if _, err := tr.db.AddMediaTransfer(ctx, history.MediaTransfer{Transfer: tid, Sender: me, Message: id, SHA256: sha, Size: size}, rec); err != nil {
			tr.endMedia(ids, "its message could not be sent")
			return nil, fmt.Errorf("record the transfer of %s to %s: %w", name, u, err)
		}
		ids = append(ids, tid)
		if stored, err := tr.db.Transfer(ctx, tid); err == nil {
			tr.transferEvent(stored, 0)
		}
	}
	return ids, nil
}

// endMedia fails the transfers ids of a message that could not be sent.
func (tr *transfers) endMedia(ids []string, why string) {
	for _, id := range ids {
		tr.transferEnd(id, history.TransferFailed, why)
	}
}

// mediaGrace is how long a media transfer waits for its message to be
// stored (followMedia records it first) before it fails for want of one.
const mediaGrace = time.Minute

// expectMedia records, on the receiving side, the transfer that brings
// the picture or recording of message (from, id), if it travels as one:
// the offer of that transfer is then taken into the media store without
// asking, and only as that picture. A redelivery changes nothing.
func (tr *transfers) expectMedia(ctx context.Context, from, id, conv, kind, meta string) error {
	s, ok := rich.ParseMedia(kind, meta)
	if !ok {
		return nil
	}
	x, name, sha, size := s.Follow()
	if x == "" {
		return nil
	}
	tid := rich.MediaTransferID(x, tr.session.self())
	group := strings.TrimPrefix(conv, "g:")
	if group == conv {
		group = ""
	}
	rec := history.Transfer{ID: tid, Peer: from, Group: group, State: history.TransferWaiting, Dir: mediaStaging(tr.home, tid),
		Name: name, Files: 1, Total: size}
	inserted, err := tr.db.AddMediaTransfer(ctx, history.MediaTransfer{Transfer: tid, Sender: from, Message: id, SHA256: sha, Size: size}, rec)
	if errors.Is(err, history.ErrConflict) {
		// The id is some other transfer's: this picture cannot come.
		tr.log.Info("media transfer id already in use", "from", from, "id", id, "transfer", tid)
		return nil
	}
	if err != nil {
		return err
	}
	if inserted {
		if stored, err := tr.db.Transfer(ctx, tid); err == nil {
			tr.transferEvent(stored, 0)
		}
	}
	return nil
}

// mediaReady reports whether an outgoing transfer may start: one that
// brings a message's picture waits until its recipient has the message
// (its copy is delivered), so that the offer finds the receiver
// expecting it; if the message failed, so does the transfer.
func (tr *transfers) mediaReady(ctx context.Context, rec history.Transfer) bool {
	mt, err := tr.db.MediaTransferOf(ctx, rec.ID)
	if errors.Is(err, history.ErrNotFound) {
		return true
	}
	if err != nil {
		tr.transferRetry(rec, err)
		return false
	}
	st, err := tr.db.CopyState(ctx, mt.Message, rec.Peer)
	switch {
	case errors.Is(err, history.ErrNotFound) && time.Since(rec.Created) < mediaGrace:
		tr.transferRetry(rec, errors.New("waits for its message"))
		return false
	case errors.Is(err, history.ErrNotFound):
		tr.transferEnd(rec.ID, history.TransferFailed, "its message was never sent")
		return false
	case err != nil:
		tr.transferRetry(rec, err)
		return false
	case st == history.StateFailed:
		tr.transferEnd(rec.ID, history.TransferFailed, "its message did not reach "+rec.Peer)
		return false
	case st != history.StateDelivered:
		tr.transferRetry(rec, errors.New("waits until "+rec.Peer+" has the message"))
		return false
	}
	return true
}

// decideMedia answers the offer of a transfer that brings a message's
// picture or recording: taken into the media staging folder if it is
// one file of the size the message gave, from the message's sender;
// ok is false if the offer is not one.
func (tr *transfers) decideMedia(ctx context.Context, req *transfer.Request, rec history.Transfer) (transfer.Decision, bool) {
	mt, err := tr.db.MediaTransferOf(ctx, req.Offer.ID)
	if errors.Is(err, history.ErrNotFound) {
		return transfer.Decision{}, false
	}
	if err != nil {
		tr.log.Warn("read media transfer", "err", err)
		return transfer.Decision{Reason: "the receiver could not read its transfers"}, true
	}
	if rec.State.Final() {
		return finalDecision(rec), true
	}
	o := req.Offer
	if mt.Sender != req.Peer || len(o.Entries) != 1 || o.Entries[0].Dir || o.Entries[0].Size != mt.Size ||
		mt.Size > max(int64(content.MaxImageSize), int64(content.MaxVoiceSize)) {
		why := fmt.Sprintf("the offer is not the %d-byte file message %s announced", mt.Size, mt.Message)
		tr.log.Info("media offer refused", "id", o.ID, "from", req.Peer, "why", why)
		tr.transferEnd(o.ID, history.TransferFailed, why)
		return transfer.Decision{Reason: why, Cancelled: true}, true
	}
	return tr.acceptInto(ctx, rec, mediaStaging(tr.home, o.ID)), true
}

// keepReceivedMedia moves the file of a finished media transfer into the
// media store once its size and SHA-256 match its message's, and tells
// local clients the message shows its full picture now. A transfer that
// brings no message's picture is left alone (nil). A mismatch is an
// error wrapping transfer.ErrProtocol, and the file is removed.
func (tr *transfers) keepReceivedMedia(res *transfer.Result) error {
	ctx := context.WithoutCancel(tr.ctx)
	mt, err := tr.db.MediaTransferOf(ctx, res.ID)
	if errors.Is(err, history.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read media transfer: %w", err)
	}
	staging := mediaStaging(tr.home, res.ID)
	defer os.RemoveAll(staging)
	if len(res.Paths) != 1 || filepath.Clean(res.Dir) != staging {
		return fmt.Errorf("%w: media transfer %s brought %d files into %s", transfer.ErrProtocol, res.ID, len(res.Paths), res.Dir)
	}
	p := filepath.Join(res.Dir, filepath.FromSlash(res.Paths[0]))
	sum, n, err := fileSHA256(p)
	if err != nil {
		return err
	}
	if n != mt.Size || sum != mt.SHA256 {
		return fmt.Errorf("%w: the picture of message %s does not match its size and sha256", transfer.ErrProtocol, mt.Message)
	}
	if err := os.Rename(p, mediaPath(tr.home, mt.SHA256)); err != nil {
		return fmt.Errorf("media store: %w", err)
	}
	tr.log.Info("full picture or recording received", "from", mt.Sender, "message", mt.Message, "bytes", n)
	tr.messages.messageChanged(ctx, mt.Sender, mt.Message)
	return nil
}

// fileSHA256 hashes a file as it reads it.
func fileSHA256(p string) (sum string, n int64, err error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, fmt.Errorf("read received picture: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err = io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read received picture: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// sweepMedia finishes the incoming media transfers whose file arrived
// whole before the daemon last stopped, but which it did not move into
// the media store: the transfer package renames a file from its hidden
// partial name only once it is complete and verified, so a file under
// its own name in a staging folder is one.
func (tr *transfers) sweepMedia(ctx context.Context) {
	mts, err := tr.db.IncomingMediaTransfers(ctx)
	if err != nil {
		tr.log.Warn("list incoming media transfers", "err", err)
		return
	}
	for _, mt := range mts {
		dir := mediaStaging(tr.home, mt.Transfer)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		if len(names) != 1 {
			continue
		}
		tr.log.Info("finishing a media transfer received before a restart", "id", mt.Transfer)
		tr.receivedEnd(mt.Transfer, tr.keepReceivedMedia(&transfer.Result{ID: mt.Transfer, Peer: mt.Sender, Dir: dir, Paths: names}))
	}
}
