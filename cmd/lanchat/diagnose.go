package main

import (
	"errors"
	"fmt"
	"strings"
)

// errChecksFailed makes doctor exit non-zero when a check failed; the
// checks themselves were already printed.
var errChecksFailed = errors.New("some checks failed")

func cmdDoctor(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	dg, err := e.client.Doctor(e.ctx)
	if err != nil {
		return err
	}
	failed := 0
	for _, ck := range dg.Checks {
		if !ck.OK {
			failed++
		}
	}
	if e.json {
		if err := printJSON(e.stdout, dg); err != nil {
			return err
		}
	} else {
		for _, ck := range dg.Checks {
			mark := "ok  "
			switch {
			case !ck.OK:
				mark = "FAIL"
			case ck.Warn:
				mark = "warn"
			}
			fmt.Fprintf(e.stdout, "%s  %-16s %s\n", mark, oneLine(ck.Name), oneLine(ck.Detail))
			if ck.Fix != "" && (!ck.OK || ck.Warn) {
				fmt.Fprintf(e.stdout, "      %-16s fix: %s\n", "", oneLine(ck.Fix))
			}
		}
		if failed == 0 {
			fmt.Fprintln(e.stdout, "all checks passed")
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed: %w", failed, len(dg.Checks), errChecksFailed)
	}
	return nil
}

func cmdPeers(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	ps, err := e.client.Peers(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, ps)
	}
	switch ps.Discovery {
	case "idle":
		fmt.Fprintln(e.stdout, "LAN discovery starts once you register or log in")
		return nil
	case "off":
		fmt.Fprintln(e.stdout, "LAN discovery is off (the daemon runs with --no-mdns)")
		return nil
	case "blocked":
		fmt.Fprintln(e.stdout, "LAN discovery cannot work here: multicast is blocked (lanchat doctor says more)")
	}
	if len(ps.Contacts) == 0 {
		fmt.Fprintln(e.stdout, "no contacts seen on the LAN")
	} else {
		t := newTable(e.stdout, "USER", "CONNECTED", "ADDRESSES")
		for _, p := range ps.Contacts {
			conn := "no"
			if p.Connected {
				conn = "yes"
			}
			t.row(p.User, conn, strings.Join(p.Addrs, " "))
		}
		t.flush()
	}
	switch {
	case ps.Others == 1:
		fmt.Fprintln(e.stdout, "and 1 other lanchat peer that is not your contact")
	case ps.Others > 1:
		fmt.Fprintf(e.stdout, "and %d other lanchat peers that are not your contacts\n", ps.Others)
	}
	return nil
}
