package main

import (
	"fmt"
	"strings"
)

func cmdVerify(e *env, c *command, args []string) error {
	fs := e.flags(c)
	confirm := fs.Bool("confirm", false, "mark the contact verified (after comparing the number with them)")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	user := pos[0]
	v, err := e.client.Verify(e.ctx, user, *confirm)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "safety number with %s:\n", v.User)
	groups := strings.Fields(v.SafetyNumber)
	for i := 0; i < len(groups); i += 6 {
		fmt.Fprintf(e.stdout, "  %s\n", strings.Join(groups[i:min(i+6, len(groups))], " "))
	}
	switch {
	case v.KeyChanged:
		fmt.Fprintf(e.stdout, "%s's identity key CHANGED: this number is for the new key, and messages with %s are held.\nCompare it with %s in person or on a call; if it matches, run: lanchat trust %s\n", v.User, v.User, v.User, v.User)
	case *confirm:
		fmt.Fprintf(e.stdout, "%s is now marked verified\n", v.User)
	case v.Verified:
		fmt.Fprintf(e.stdout, "%s is verified\n", v.User)
	default:
		fmt.Fprintf(e.stdout, "Compare it with %s in person or on a call; if it matches, run: lanchat verify %s --confirm\n", v.User, v.User)
	}
	return nil
}

func cmdTrust(e *env, c *command, args []string) error {
	pos, err := e.parse(c, e.flags(c), args, 1, 1)
	if err != nil {
		return err
	}
	ct, err := e.client.Trust(e.ctx, pos[0])
	if err != nil {
		return err
	}
	return e.reply(ct, "trusted %s's new identity key; held messages flow again. Check it with: lanchat verify %s", ct.Username, ct.Username)
}
