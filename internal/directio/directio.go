// Package directio holds what direct I/O (O_DIRECT) asks of a write:
// buffers, offsets and lengths aligned to the disk's block size.
package directio

import "unsafe"

// Align is the alignment direct I/O wants of the buffer, the offset and
// the length: 4096 covers disks of 512- and 4096-byte sectors.
const Align = 4096

// Bytes returns n bytes starting on an Align boundary.
func Bytes(n int) []byte {
	b := make([]byte, n+Align)
	skip := (Align - int(uintptr(unsafe.Pointer(&b[0]))%Align)) % Align
	return b[skip : skip+n : skip+n]
}

// Writable reports whether p may be written at off with direct I/O.
func Writable(p []byte, off int64) bool {
	return len(p) > 0 && len(p)%Align == 0 && off%Align == 0 &&
		uintptr(unsafe.Pointer(&p[0]))%Align == 0
}
