package transfer

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// FuzzSanitize: any input either fails with ErrBadName or gives a clean
// path that Sanitize leaves as it is. Seeds are in
// testdata/fuzz/FuzzSanitize.
func FuzzSanitize(f *testing.F) {
	f.Fuzz(func(t *testing.T, p string) {
		got, err := Sanitize(p)
		if err != nil {
			if !errors.Is(err, ErrBadName) {
				t.Fatalf("Sanitize(%q): error %v is not ErrBadName", p, err)
			}
			return
		}
		checkCleanName(t, got)
		if again, err := Sanitize(got); err != nil || again != got {
			t.Fatalf("Sanitize(%q) = %q, then %q, %v", p, got, again, err)
		}
	})
}

// FuzzOffer decodes arbitrary bytes as a transfer.offer body. Decoding
// must never panic and fail only with ErrInvalidOffer; an offer it
// accepts is in Version, within the limits, has clean paths, and
// decodes the same once encoded again. Seeds are in
// testdata/fuzz/FuzzOffer.
func FuzzOffer(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := DecodeOffer(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidOffer) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v is neither ErrInvalidOffer nor ErrVersion", err)
			}
			return
		}
		var head struct {
			Version int `json:"version"`
		}
		if err := json.Unmarshal(body, &head); err != nil || head.Version != Version {
			t.Fatalf("accepted offer in version %d (%v)", head.Version, err)
		}
		if !checkpoint.ValidID(o.ID) || !validChunkSize(o.ChunkSize) || len(o.Entries) == 0 || len(o.Entries) > MaxEntries {
			t.Fatalf("accepted offer out of bounds: id %q, chunk %d, %d entries", o.ID, o.ChunkSize, len(o.Entries))
		}
		var total int64
		for _, e := range o.Entries {
			checkCleanName(t, e.Path)
			if e.Size < 0 || (e.Dir && e.Size != 0) || e.Mode > 0o777 {
				t.Fatalf("accepted entry %+v", e)
			}
			total += e.Size
		}
		if total > MaxTotalSize || total < 0 {
			t.Fatalf("accepted %d bytes", total)
		}
		b, err := json.Marshal(offerBody{Offer: o, Version: Version})
		if err != nil {
			t.Fatal(err)
		}
		o2, err := DecodeOffer(b)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if o2.ID != o.ID || o2.ChunkSize != o.ChunkSize || len(o2.Entries) != len(o.Entries) {
			t.Fatalf("re-decoded %+v, want %+v", o2, o)
		}
		for i := range o.Entries {
			if o2.Entries[i] != o.Entries[i] {
				t.Fatalf("entry %d re-decoded %+v, want %+v", i, o2.Entries[i], o.Entries[i])
			}
		}
	})
}

// FuzzAnswer decodes arbitrary bytes as a transfer.answer body to an
// offer, as Send does. It must never panic and fail only with
// ErrProtocol, or ErrVersion for an answer in another version; a plan
// it accepts resumes every file on a chunk boundary short of its last
// chunk, with held chunks within the bounds. Seeds are in
// testdata/fuzz/FuzzAnswer.
func FuzzAnswer(f *testing.F) {
	const cs = MinChunkSize
	entries := []Entry{
		{Path: "d", Dir: true},
		{Path: "d/a", Size: 10*cs + 5},
		{Path: "d/empty"},
		{Path: "big", Size: 20000 * cs},
		{Path: "one", Size: cs},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var ans answerBody
		err := decodeEvent(&wire.Frame{Kind: wire.KindEvent, Op: opAnswer, Body: body}, opAnswer, &ans)
		var p *resumePlan
		if err == nil {
			p, err = planResume(&ans, entries, cs)
		}
		if err != nil {
			if !errors.Is(err, ErrProtocol) && !(errors.Is(err, ErrVersion) && ans.Version != Version) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		total := 0
		for i, e := range entries {
			off, held := p.offsets[i], p.heldOf(i)
			total += len(held)
			if off < 0 || off%cs != 0 || (off > 0 || len(held) > 0) && (e.Dir || off+int64(len(held))*cs > lastChunkStart(e.Size, cs)) {
				t.Fatalf("entry %d of %d bytes resumes at %d with %d held", i, e.Size, off, len(held))
			}
			if len(held) > maxHeldChunks {
				t.Fatalf("entry %d has %d held chunks", i, len(held))
			}
		}
		if total > maxHeldTotal {
			t.Fatalf("%d held chunks in all", total)
		}
		for _, i := range p.todo {
			if entries[i].Dir || slices.Contains(ans.Done, i) {
				t.Fatalf("entry %d to send", i)
			}
		}
	})
}

// FuzzCancelNotice decodes arbitrary bytes as a transfer.cancel body: it
// must never panic, fail only with ErrProtocol, and accept only a valid
// transfer id. Seeds are in testdata/fuzz/FuzzCancelNotice.
func FuzzCancelNotice(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := decodeCancel(&wire.Frame{Kind: wire.KindEvent, Op: opCancel, Body: body})
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("error %v is not ErrProtocol", err)
			}
			return
		}
		if !checkpoint.ValidID(id) {
			t.Fatalf("accepted id %q", id)
		}
		var b cancelBody
		if json.Unmarshal(body, &b) != nil || b.ID != id {
			t.Fatalf("accepted %q as id %q", body, id)
		}
	})
}
