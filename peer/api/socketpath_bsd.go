//go:build unix && !linux

package api

// MaxSocketPath is the longest Unix socket path the kernel accepts (the
// size of sun_path less its terminating NUL: 104 bytes on macOS and the
// BSDs).
const MaxSocketPath = 103
