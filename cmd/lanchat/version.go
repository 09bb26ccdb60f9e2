package main

import (
	"fmt"

	"github.com/lanchat/lanchat/internal/buildinfo"
)

// cmdVersion prints the version and commit this binary was built from.
func cmdVersion(e *env, c *command, args []string) error {
	if len(args) > 0 {
		return usageError(c, "version takes no arguments")
	}
	_, err := fmt.Fprintln(e.stdout, "lanchat", buildinfo.Read())
	return err
}
