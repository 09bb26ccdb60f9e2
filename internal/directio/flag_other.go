//go:build !linux

package directio

// Flag is the open flag for direct I/O, 0 where it is not used.
const Flag = 0
