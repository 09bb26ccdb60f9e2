package transfertest

import (
	"context"
	"reflect"
	"testing"

	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// store is the transfer.Progress both stores implement (package
// transfer checks that they do).
type store interface {
	Load(ctx context.Context, id string) (*checkpoint.Transfer, error)
	Begin(ctx context.Context, id string, cp *checkpoint.Transfer) error
	Save(ctx context.Context, id string, entry int, verified int64) error
	Finish(ctx context.Context, id string, entry int, path string) error
	Forget(ctx context.Context, id string) error
}

// Both stores behave alike.
func TestProgress(t *testing.T) {
	fp, err := NewFileProgress(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]store{"mem": NewMemProgress(), "file": fp} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			id := "0123456789abcdef0123456789abcdef"
			if cp, err := p.Load(ctx, id); cp != nil || err != nil {
				t.Fatalf("Load of nothing: %v, %v", cp, err)
			}
			cp := &checkpoint.Transfer{Peer: "ab", Dir: "/d", Entries: []checkpoint.Entry{
				{Offered: "x", Path: "x", Dir: true},
				{Offered: "x/a", Path: "x/a", Size: 10, ModTime: 5},
			}}
			if err := p.Begin(ctx, id, cp); err != nil {
				t.Fatal(err)
			}
			cp.Entries[1].Size = 99 // the store keeps its own copy
			if err := p.Save(ctx, id, 1, 4); err != nil {
				t.Fatal(err)
			}
			got, err := p.Load(ctx, id)
			if err != nil || got.Entries[1].Verified != 4 || got.Entries[1].Size != 10 {
				t.Fatalf("after Save: %+v, %v", got, err)
			}
			if err := p.Finish(ctx, id, 1, "x/a (1)"); err != nil {
				t.Fatal(err)
			}
			got, _ = p.Load(ctx, id)
			want := checkpoint.Entry{Offered: "x/a", Path: "x/a (1)", Size: 10, ModTime: 5, Verified: 10, Done: true}
			if !reflect.DeepEqual(got.Entries[1], want) || got.Peer != "ab" || got.Dir != "/d" {
				t.Fatalf("after Finish: %+v", got)
			}
			if err := p.Save(ctx, id, 2, 1); err == nil {
				t.Error("Save of a missing entry")
			}
			if err := p.Forget(ctx, id); err != nil {
				t.Fatal(err)
			}
			if cp, _ := p.Load(ctx, id); cp != nil {
				t.Error("Load after Forget")
			}
			if err := p.Forget(ctx, id); err != nil {
				t.Errorf("second Forget: %v", err)
			}
		})
	}
	if _, err := fp.Load(context.Background(), "../../etc/passwd"); err == nil {
		t.Error("FileProgress took a path as an id")
	}
}
