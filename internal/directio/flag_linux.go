package directio

import "syscall"

// Flag is the open flag for direct I/O, 0 where it is not used.
const Flag = syscall.O_DIRECT
