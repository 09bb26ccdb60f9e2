//go:build !unix

package server

import "errors"

// descriptorLimit is unknown where there is no RLIMIT_NOFILE.
func descriptorLimit() (uint64, error) {
	return 0, errors.New("no descriptor limit on this system")
}
