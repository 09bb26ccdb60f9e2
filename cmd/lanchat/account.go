package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// serverWait bounds how long register and login wait for the daemon to
// find and reach the server before asking about it.
const serverWait = 8 * time.Second

// confirmServer returns the fingerprint of a server the daemon found on
// the LAN once the user confirmed it: at once with --yes, by asking on a
// terminal otherwise; "" when the server's certificate is pinned already.
// With no terminal and no --yes it refuses, naming --yes.
func confirmServer(e *env, yes, passwordStdin bool) (string, error) {
	deadline := time.Now().Add(serverWait)
	var st api.Status
	for {
		var err error
		if st, err = e.client.Status(e.ctx); err != nil {
			return "", err
		}
		if st.ServerConnected || time.Now().After(deadline) {
			break
		}
		select {
		case <-e.ctx.Done():
			return "", e.ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !st.ServerUnconfirmed {
		return "", nil
	}
	fmt.Fprintf(e.stderr, "found the rendezvous server on the LAN at %s\ncertificate sha256 %s\n(compare with `rendezvous fingerprint` on the server)\n", st.Server, st.Fingerprint)
	if yes {
		fmt.Fprintln(e.stderr, "pinned without asking (--yes)")
		return st.Fingerprint, nil
	}
	if _, ok := terminalFd(e.stdin); passwordStdin || !ok {
		return "", fmt.Errorf("the certificate of the server found on the LAN must be confirmed: run this on a terminal, or pass --yes to pin sha256 %s without asking", st.Fingerprint)
	}
	fmt.Fprint(e.stderr, "Pin this server? [y/N] ")
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 64)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return st.Fingerprint, nil
	}
	return "", errors.New("server not confirmed: nothing pinned; pass --server and --server-fingerprint to the daemon to choose another")
}

// okReply is the --json output of commands the daemon answers with no
// body.
type okReply struct{}

func cmdRegister(e *env, c *command, args []string) error {
	fs := e.flags(c)
	display := fs.String("display-name", "", "name shown to others")
	email := fs.String("email", "", "e-mail address")
	phone := fs.String("phone", "", "phone number")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	yes := fs.Bool("yes", false, "pin the certificate of a server found on the LAN without asking")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	pw := e.passwords(*fromStdin)
	if err := pw.check(c); err != nil {
		return err
	}
	serverFP, err := confirmServer(e, *yes, *fromStdin)
	if err != nil {
		return err
	}
	password, err := pw.readNew("password", "Password for "+pos[0]+": ")
	if err != nil {
		return err
	}
	me, err := e.client.Register(e.ctx, api.RegisterRequest{
		Username: pos[0], Password: password,
		DisplayName: *display, Email: *email, Phone: *phone,
		ServerFingerprint: serverFP,
	})
	if err != nil {
		return err
	}
	if err := e.reply(me, "registered and logged in as %s; your key fingerprint is %s", me.Username, me.Fingerprint); err != nil {
		return err
	}
	if !e.json {
		// Say which server this account lives on and which certificate
		// is pinned, since it may have been found on the LAN.
		if st, err := e.client.Status(e.ctx); err == nil && st.Fingerprint != "" {
			fmt.Fprintf(e.stdout, "server %s, certificate sha256 %s (pinned)\n", st.Server, st.Fingerprint)
		}
	}
	return nil
}

func cmdLogin(e *env, c *command, args []string) error {
	fs := e.flags(c)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	yes := fs.Bool("yes", false, "pin the certificate of a server found on the LAN without asking")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	pw := e.passwords(*fromStdin)
	if err := pw.check(c); err != nil {
		return err
	}
	serverFP, err := confirmServer(e, *yes, *fromStdin)
	if err != nil {
		return err
	}
	password, err := pw.read("password", "Password for "+pos[0]+": ")
	if err != nil {
		return err
	}
	me, err := e.client.Login(e.ctx, api.LoginRequest{Username: pos[0], Password: password, ServerFingerprint: serverFP})
	if err != nil {
		return err
	}
	return e.reply(me, "logged in as %s", me.Username)
}

func cmdLogout(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	if err := e.client.Logout(e.ctx); err != nil {
		return err
	}
	return e.reply(okReply{}, "logged out")
}

func cmdPasswd(e *env, c *command, args []string) error {
	fs := e.flags(c)
	fromStdin := fs.Bool("password-stdin", false, "read the old and the new password from the first two lines of stdin")
	if _, err := e.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	pw := e.passwords(*fromStdin)
	if err := pw.check(c); err != nil {
		return err
	}
	old, err := pw.read("current password", "Current password: ")
	if err != nil {
		return err
	}
	nw, err := pw.readNew("new password", "New password: ")
	if err != nil {
		return err
	}
	if err := e.client.Passwd(e.ctx, api.PasswdRequest{Old: old, New: nw}); err != nil {
		return err
	}
	return e.reply(okReply{}, "password changed")
}

func cmdProfileSet(e *env, c *command, args []string) error {
	fs := e.flags(c)
	fs.String("display-name", "", "name shown to others")
	fs.String("email", "", "e-mail address")
	fs.String("phone", "", "phone number")
	fs.String("avatar", "", "picture `FILE` (JPEG, PNG, GIF or WebP) to show as your avatar, cropped square; '' removes it")
	fs.Bool("no-avatar", false, "remove your avatar")
	if _, err := e.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	// Only the flags given change; an empty value clears the field.
	var (
		req        api.ProfileRequest
		avatarFile string
		noAvatar   bool
	)
	fs.Visit(func(f *flag.Flag) {
		v := f.Value.String()
		switch f.Name {
		case "display-name":
			req.DisplayName = &v
		case "email":
			req.Email = &v
		case "phone":
			req.Phone = &v
		case "avatar":
			avatarFile, noAvatar = v, noAvatar || v == ""
		case "no-avatar":
			noAvatar = noAvatar || v == "true"
		}
	})
	switch {
	case avatarFile != "" && noAvatar:
		return usageError(c, "--avatar FILE and --no-avatar do not go together")
	case noAvatar:
		req.Avatar = &[]byte{}
	case avatarFile != "":
		av, err := makeAvatar(e.ctx, avatarFile)
		if err != nil {
			return err
		}
		req.Avatar = &av
	}
	if req.DisplayName == nil && req.Email == nil && req.Phone == nil && req.Avatar == nil {
		return usageError(c, "profile set needs at least one of --display-name, --email, --phone, --avatar, --no-avatar")
	}
	me, err := e.client.SetProfile(e.ctx, req)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, me)
	}
	fmt.Fprintln(e.stdout, "profile updated:")
	printMe(e, me)
	return nil
}

// printMe shows a profile as aligned fields.
func printMe(e *env, me api.Me) {
	t := newTable(e.stdout, "  username", me.Username)
	t.row("  display name", orDash(me.DisplayName))
	t.row("  email", orDash(me.Email))
	t.row("  phone", orDash(me.Phone))
	avatar := "none (lanchat profile set --avatar FILE sets one)"
	if me.Avatar != "" {
		avatar = "set"
	}
	t.row("  avatar", avatar)
	t.row("  key fingerprint", orDash(me.Fingerprint))
	t.flush()
}

func cmdStatus(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	st, err := e.client.Status(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, st)
	}
	t := newTable(e.stdout, "daemon", fmt.Sprintf("running, version %s, data in %s", orDash(st.Version), st.Home))
	if st.LoggedIn && st.Me != nil {
		who := st.Me.Username
		if st.Me.DisplayName != "" {
			who += " (" + st.Me.DisplayName + ")"
		}
		t.row("user", fmt.Sprintf("%s, key fingerprint %s", who, orDash(st.Me.Fingerprint)))
	} else {
		t.row("user", "not logged in; run: lanchat register USER, or lanchat login USER")
	}
	link := "unreachable"
	if st.ServerConnected {
		link = "connected"
	}
	server := fmt.Sprintf("%s, %s", orDash(st.Server), link)
	if st.Fingerprint != "" {
		server += ", certificate " + st.Fingerprint
	}
	t.row("server", server)
	direct := "not listening (no identity yet)"
	if st.Listen != "" {
		direct = "listening on " + st.Listen
	}
	if len(st.Peers) > 0 {
		direct += fmt.Sprintf("; connected to %s", strings.Join(st.Peers, ", "))
	}
	t.row("direct", direct)
	if st.Outbox > 0 {
		t.row("outbox", plural(st.Outbox, "message")+" waiting to go out")
	} else {
		t.row("outbox", "empty")
	}
	t.flush()
	return nil
}

func cmdProfileShow(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	st, err := e.client.Status(e.ctx)
	if err != nil {
		return err
	}
	if !st.LoggedIn || st.Me == nil {
		return errors.New("not logged in: run lanchat register USER or lanchat login USER")
	}
	if e.json {
		return printJSON(e.stdout, st.Me)
	}
	printMe(e, *st.Me)
	return nil
}
