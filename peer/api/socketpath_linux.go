package api

// MaxSocketPath is the longest Unix socket path the kernel accepts (the
// size of sun_path less its terminating NUL, on Linux).
const MaxSocketPath = 107
