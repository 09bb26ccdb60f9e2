package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/lanchat/lanchat/peer/api"
)

// safetyDigits is how many digits a safety number has.
const safetyDigits = 60

func cmdVerify(e *env, c *command, args []string) error {
	fs := e.flags(c)
	confirm := fs.Bool("confirm", false, "mark the contact verified, after comparing the number with them")
	number := fs.String("safety-number", "", "with --confirm: the `NUMBER` you compared (digits; spaces ignored), instead of a question on the terminal")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	user := pos[0]
	if *number != "" && !*confirm {
		return usageError(c, "--safety-number goes with --confirm")
	}
	v, err := e.client.Verify(e.ctx, user)
	if err != nil {
		return err
	}
	if !*confirm {
		if e.json {
			return printJSON(e.stdout, v)
		}
		printSafetyNumber(e.stdout, v)
		switch {
		case len(v.SameKey) > 0:
			fmt.Fprintf(e.stdout, "WARNING: this key is also pinned for %s: none of them is admitted. Ask your server's admin.\n", strings.Join(v.SameKey, ", "))
		case v.KeyChanged:
			fmt.Fprintf(e.stdout, "%s's identity key CHANGED: this number is for the new key, and messages with %s are held.\nCompare it with %s in person or on a call; if it matches, run: lanchat trust %s\n", v.User, v.User, v.User, v.User)
		case v.Verified:
			fmt.Fprintf(e.stdout, "%s is verified\n", v.User)
		default:
			fmt.Fprintf(e.stdout, "Compare it with %s in person or on a call; if it matches, run: lanchat verify %s --confirm\n", v.User, v.User)
		}
		return nil
	}
	if v.KeyChanged {
		return fmt.Errorf("%s's identity key changed; compare the new safety number (lanchat verify %s), then run: lanchat trust %s", v.User, v.User, v.User)
	}
	if err := e.compared(c, v, *number); err != nil {
		return err
	}
	v, err = e.client.Confirm(e.ctx, user, api.KeyRequest{Fingerprint: v.Fingerprint})
	if err != nil {
		return err
	}
	return e.reply(v, "%s is now marked verified", v.User)
}

func cmdTrust(e *env, c *command, args []string) error {
	fs := e.flags(c)
	number := fs.String("safety-number", "", "the `NUMBER` you compared (digits; spaces ignored), instead of a question on the terminal")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	v, err := e.client.Verify(e.ctx, pos[0])
	if err != nil {
		return err
	}
	if v.KeyChanged {
		// Nothing to compare otherwise: the daemon says why.
		if err := e.compared(c, v, *number); err != nil {
			return err
		}
	}
	ct, err := e.client.Trust(e.ctx, pos[0], api.KeyRequest{Fingerprint: v.Fingerprint})
	if err != nil {
		return err
	}
	return e.reply(ct, "trusted %s's new identity key; held messages flow again", ct.Username)
}

// compared makes sure the user compared v's number: the one they give
// with --safety-number must be it, or, on a terminal, they are shown it
// and asked. A different number means the key is not the one they
// compared.
func (e *env) compared(c *command, v api.Verification, number string) error {
	if number != "" {
		given, err := parseSafetyNumber(number)
		if err != nil {
			return usageError(c, "--safety-number: %v", err)
		}
		if given != strings.ReplaceAll(v.SafetyNumber, " ", "") {
			return fmt.Errorf("that is not the safety number of %s's current key: the key changed again since you compared it, or the numbers differ; run lanchat verify %s", v.User, v.User)
		}
		return nil
	}
	if _, ok := terminalFd(e.stdin); !ok {
		return usageError(c, "stdin is not a terminal: give the number you compared with --safety-number NUMBER")
	}
	printSafetyNumber(e.stderr, v)
	fmt.Fprintf(e.stderr, "Is this the number %s sees? [y/N] ", v.User)
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 256)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the answer: %w", err)
	}
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return fmt.Errorf("not confirmed: nothing changed")
	}
	return nil
}

// parseSafetyNumber reads a safety number as typed: its digits, with
// spaces ignored.
func parseSafetyNumber(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", fmt.Errorf("%q is not a digit", r)
		}
	}
	if b.Len() != safetyDigits {
		return "", fmt.Errorf("a safety number has %d digits, not %d", safetyDigits, b.Len())
	}
	return b.String(), nil
}

// printSafetyNumber shows v's number in two rows of six groups, and the
// key's fingerprint.
func printSafetyNumber(w io.Writer, v api.Verification) {
	fmt.Fprintf(w, "safety number with %s:\n", v.User)
	groups := strings.Fields(v.SafetyNumber)
	for i := 0; i < len(groups); i += 6 {
		fmt.Fprintf(w, "  %s\n", strings.Join(groups[i:min(i+6, len(groups))], " "))
	}
	fmt.Fprintf(w, "fingerprint of %s's key: %s\n", v.User, groupHex(v.Fingerprint))
}

// groupHex writes hex in groups of four for reading aloud.
func groupHex(s string) string {
	var groups []string
	for len(s) > 4 {
		groups = append(groups, s[:4])
		s = s[4:]
	}
	return strings.Join(append(groups, s), " ")
}
