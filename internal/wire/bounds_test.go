package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// declared is a stream that declares a frame of n bytes and then sends
// only sent of them before it ends.
func declared(n uint32, sent int) io.Reader {
	var hdr [headerSize]byte
	binary.BigEndian.PutUint32(hdr[:], n)
	return io.MultiReader(bytes.NewReader(hdr[:]), bytes.NewReader(bytes.Repeat([]byte{'x'}, sent)))
}

// allocated runs f and returns how many bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A peer's declared length is not allocated before the bytes arrive: a
// frame of the maximal length whose first 100 bytes came costs little.
func TestReadFrameGrowsWithData(t *testing.T) {
	const max = 16 << 20
	got := allocated(func() {
		for range 8 {
			_, err := NewReader(declared(max, 100), max).ReadFrame()
			if err != io.ErrUnexpectedEOF {
				t.Errorf("ReadFrame = %v, want io.ErrUnexpectedEOF", err)
			}
		}
	})
	if got > 256<<10 {
		t.Errorf("8 frames declaring %d bytes, each sending 100, allocated %d bytes", max, got)
	}
}

// countingBudget is a Budget with a limit that records its peak.
type countingBudget struct {
	used, peak, limit int
}

func (b *countingBudget) Take(n int) error {
	if b.used+n > b.limit {
		return errOverBudget
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return nil
}

func (b *countingBudget) Give(n int) { b.used -= n }

var errOverBudget = io.ErrShortBuffer // any sentinel will do

// frameOf encodes an event frame whose body is a string of n bytes.
func frameOf(t *testing.T, op string, n int) []byte {
	t.Helper()
	f, err := NewEvent(op, string(bytes.Repeat([]byte{'a'}, n)))
	if err != nil {
		t.Fatal(err)
	}
	buf, err := AppendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

// A frame takes from the budget as it grows, keeps it until the next
// frame or Release, and gives it all back on failure.
func TestReadFrameBudget(t *testing.T) {
	b := &countingBudget{limit: 1 << 20}
	big := frameOf(t, "x", 100_000)
	small := frameOf(t, "y", 10)
	r := NewReader(bytes.NewReader(append(append([]byte{}, big...), small...)), 1<<20)
	r.SetBudget(b)
	if _, err := r.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	if b.used < 100_000 || b.used > 2*100_000 {
		t.Errorf("a frame of 100 kB holds %d bytes of the budget", b.used)
	}
	if _, err := r.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	if b.used > firstStep {
		t.Errorf("the next, small frame holds %d bytes", b.used)
	}
	r.Release()
	if b.used != 0 {
		t.Errorf("after Release %d bytes are held", b.used)
	}

	// Over the budget: refused with its error, nothing kept.
	b = &countingBudget{limit: 64 << 10}
	r = NewReader(bytes.NewReader(big), 1<<20)
	r.SetBudget(b)
	if _, err := r.ReadFrame(); !errors.Is(err, errOverBudget) {
		t.Errorf("frame over the budget: %v, want the budget's error", err)
	}
	if b.used != 0 || b.peak > 64<<10 {
		t.Errorf("after a refusal %d bytes held, peak %d", b.used, b.peak)
	}

	// A stream that ends early gives back what it took.
	r = NewReader(declared(1<<20, 50_000), 1<<20)
	r.SetBudget(b)
	if _, err := r.ReadFrame(); err != io.ErrUnexpectedEOF {
		t.Errorf("short frame: %v", err)
	}
	if b.used != 0 {
		t.Errorf("after a short frame %d bytes held", b.used)
	}
}

// Frames over the small limit must name the large op in their first
// bytes; the rest of a frame that does not is never read.
func TestReadFrameLarge(t *testing.T) {
	for _, tt := range []struct {
		name  string
		frame []byte
		ok    bool
	}{
		{"small, any op", frameOf(t, "other", 10), true},
		{"large, the op", frameOf(t, "big", 10_000), true},
		{"large, another op", frameOf(t, "other", 10_000), false},
		{"large, body first", raw(`{"t":"event","body":"` + strings.Repeat("a", 10_000) + `","op":"big"}`), false},
		{"large, op repeated", raw(`{"t":"event","op":"big","body":"` + strings.Repeat("a", 10_000) + `","op":"other"}`), false},
		{"large, op after body, valid", raw(`{"t":"event","op":"big","body":"` + strings.Repeat("a", 10_000) + `"}`), true},
	} {
		r := NewReader(bytes.NewReader(tt.frame), 1<<20)
		r.SetLarge(4096, "big")
		f, err := r.ReadFrame()
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %+v, %v; want ErrMalformed", tt.name, f, err)
		}
	}
	// The check comes before the rest is read.
	hdr := binary.BigEndian.AppendUint32(nil, 1<<20)
	prefix := `{"t":"event","op":"other","body":"` + string(bytes.Repeat([]byte{'a'}, 5000))
	r := NewReader(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader([]byte(prefix)), blocking{}), 1<<20)
	r.SetLarge(4096, "big")
	if _, err := r.ReadFrame(); !errors.Is(err, ErrMalformed) {
		t.Errorf("large frame of another op, still arriving: %v", err)
	}
}

// raw prefixes a payload with its length.
func raw(payload string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// blocking is a reader that fails the test if read: the data past it
// should never be needed.
type blocking struct{}

func (blocking) Read([]byte) (int, error) { panic("read past the point of refusal") }

// SetMax applies to the next frame.
func TestReadFrameSetMax(t *testing.T) {
	buf := append(frameOf(t, "a", 100), frameOf(t, "b", 100)...)
	r := NewReader(bytes.NewReader(buf), 1<<20)
	if _, err := r.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	r.SetMax(64)
	if _, err := r.ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("frame over the new limit: %v", err)
	}
}

// FuzzReadFrameBounded reads arbitrary bytes with a budget and a large
// op: it must never panic, never hold more than the budget, fail only
// with the documented errors, and give everything back.
func FuzzReadFrameBounded(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		b := &countingBudget{limit: 8 << 10}
		r := NewReader(bytes.NewReader(data), fuzzMaxFrame)
		r.SetBudget(b)
		r.SetLarge(1024, "big")
		for {
			fr, err := r.ReadFrame()
			if b.peak > b.limit {
				t.Fatalf("held %d bytes, budget %d", b.peak, b.limit)
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errOverBudget) &&
					!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			checkReencode(t, fr)
		}
		r.Release()
		if b.used != 0 {
			t.Fatalf("%d bytes still held", b.used)
		}
	})
}
