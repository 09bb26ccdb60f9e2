package transfer

import (
	"encoding/json"
	"errors"
	"testing"
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
// accepts is within the limits, has clean paths, and decodes the same
// once encoded again. Seeds are in testdata/fuzz/FuzzOffer.
func FuzzOffer(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := DecodeOffer(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidOffer) {
				t.Fatalf("error %v is not ErrInvalidOffer", err)
			}
			return
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
		b, err := json.Marshal(o)
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
