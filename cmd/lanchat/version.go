package main

import (
	"fmt"

	"github.com/lanchat/lanchat/internal/buildinfo"
)

// cmdVersion prints the version and commit this binary was built from;
// it needs no daemon.
func cmdVersion(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	in := buildinfo.Read()
	if e.json {
		return printJSON(e.stdout, in)
	}
	_, err := fmt.Fprintln(e.stdout, "lanchat", in)
	return err
}
