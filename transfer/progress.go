package transfer

import (
	"context"

	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// Progress keeps a receiver's state of each transfer across streams,
// connections and restarts, so that a broken transfer resumes from its
// last verified chunk. The daemon implements it with its history
// database (peer/history); package transfertest has stores for tests
// and tools.
//
// Methods may be called from several goroutines at once, for different
// transfers and for different entries of one transfer.
type Progress interface {
	// Load returns the checkpoint Begin stored for transfer id, updated by
	// Save and Finish, or nil and no error if there is none.
	Load(ctx context.Context, id string) (*checkpoint.Transfer, error)
	// Begin stores the checkpoint of a newly accepted transfer, replacing
	// any earlier one with the same id.
	Begin(ctx context.Context, id string, cp *checkpoint.Transfer) error
	// Save records that the first verified bytes of entry are written,
	// hashed and synced to disk.
	Save(ctx context.Context, id string, entry int, verified int64) error
	// Finish records that entry is complete and in place at path
	// (relative to the checkpoint's Dir, slash-separated): its Path
	// becomes path, it is all verified and done.
	Finish(ctx context.Context, id string, entry int, path string) error
	// Forget deletes the checkpoint of transfer id: it completed, or was
	// rejected or cancelled.
	Forget(ctx context.Context, id string) error
}
