package transfer

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/lanchat/lanchat/internal/wire"
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
// accepts is within the limits, has clean paths, names a version, and
// decodes the same once encoded again. A receiver of version 1 accepts
// only what one of version 2 accepts as version 1. Seeds are in
// testdata/fuzz/FuzzOffer.
func FuzzOffer(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		o1, _, err1 := decodeOffer(body, 1)
		o, v, err := decodeOffer(body, Version)
		if err1 == nil && (err != nil || v != 1 || len(o.Entries) != len(o1.Entries)) {
			t.Fatalf("version 1 accepts %+v; version 2 gives %+v, version %d, %v", o1, o, v, err)
		}
		if err1 != nil && !errors.Is(err1, ErrInvalidOffer) {
			t.Fatalf("version 1: error %v is not ErrInvalidOffer", err1)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidOffer) {
				t.Fatalf("error %v is not ErrInvalidOffer", err)
			}
			return
		}
		if v < 1 {
			t.Fatalf("accepted offer of version %d", v)
		}
		if !validID(o.ID) || !validChunkSize(o.ChunkSize) || len(o.Entries) == 0 || len(o.Entries) > MaxEntries {
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
		ob := offerBody{Offer: o}
		if v >= 2 {
			ob.Version = v
		}
		b, err := json.Marshal(ob)
		if err != nil {
			t.Fatal(err)
		}
		o2, v2, err := decodeOffer(b, Version)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if o2.ID != o.ID || o2.ChunkSize != o.ChunkSize || len(o2.Entries) != len(o.Entries) || v2 != v {
			t.Fatalf("re-decoded %+v version %d, want %+v version %d", o2, v2, o, v)
		}
		for i := range o.Entries {
			if o2.Entries[i] != o.Entries[i] {
				t.Fatalf("entry %d re-decoded %+v, want %+v", i, o2.Entries[i], o.Entries[i])
			}
		}
	})
}

// FuzzAnswer decodes arbitrary bytes as a transfer.answer body to an
// offer, in either version, as Send does. It must never panic and fail
// only with ErrProtocol; a plan it accepts resumes every file on a chunk
// boundary short of its last chunk, with held chunks only in version 2
// and within the bounds. Seeds are in testdata/fuzz/FuzzAnswer.
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
		for v := 1; v <= Version; v++ {
			var ans answerBody
			err := decodeEvent(&wire.Frame{Kind: wire.KindEvent, Op: opAnswer, Body: body}, opAnswer, &ans)
			var p *resumePlan
			if err == nil {
				p, err = planResume(&ans, entries, cs, v)
			}
			if err != nil {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("version %d: error %v is not ErrProtocol", v, err)
				}
				continue
			}
			total := 0
			for i, e := range entries {
				off, held := p.offsets[i], p.heldOf(i)
				total += len(held)
				if off < 0 || off%cs != 0 || (off > 0 || len(held) > 0) && (e.Dir || off+int64(len(held))*cs > lastChunkStart(e.Size, cs)) {
					t.Fatalf("version %d: entry %d of %d bytes resumes at %d with %d held", v, i, e.Size, off, len(held))
				}
				if len(held) > maxHeldChunks || (v < 2 && len(held) > 0) {
					t.Fatalf("version %d: entry %d has %d held chunks", v, i, len(held))
				}
			}
			if total > maxHeldTotal {
				t.Fatalf("version %d: %d held chunks in all", v, total)
			}
			for _, i := range p.todo {
				if entries[i].Dir || slices.Contains(ans.Done, i) {
					t.Fatalf("version %d: entry %d to send", v, i)
				}
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
		if !validID(id) {
			t.Fatalf("accepted id %q", id)
		}
		var b cancelBody
		if json.Unmarshal(body, &b) != nil || b.ID != id {
			t.Fatalf("accepted %q as id %q", body, id)
		}
	})
}
