package directio

import (
	"testing"
	"unsafe"
)

func TestBytes(t *testing.T) {
	for _, n := range []int{1, Align, 1<<20 + 32} {
		b := Bytes(n)
		if len(b) != n || cap(b) != n || uintptr(unsafe.Pointer(&b[0]))%Align != 0 {
			t.Errorf("Bytes(%d): len %d cap %d at %p", n, len(b), cap(b), &b[0])
		}
	}
}

func TestWritable(t *testing.T) {
	b := Bytes(3 * Align)
	for _, tc := range []struct {
		p    []byte
		off  int64
		want bool
	}{
		{b, 0, true},
		{b[:Align], Align * 5, true},
		{b[:Align+1], 0, false},
		{b[:Align], 100, false},
		{b[1 : Align+1], 0, false},
		{b[:0], 0, false},
	} {
		if got := Writable(tc.p, tc.off); got != tc.want {
			t.Errorf("Writable(%d bytes at +%d, off %d) = %v", len(tc.p), uintptr(unsafe.Pointer(unsafe.SliceData(tc.p)))%Align, tc.off, got)
		}
	}
}
