package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/lanchat/lanchat/peer/api"
)

// okReply is the --json output of commands the daemon answers with no
// body.
type okReply struct{}

func cmdRegister(e *env, c *command, args []string) error {
	fs := e.flags(c)
	display := fs.String("display-name", "", "name shown to others")
	email := fs.String("email", "", "e-mail address")
	phone := fs.String("phone", "", "phone number")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	pw := e.passwords(*fromStdin)
	if err := pw.check(c); err != nil {
		return err
	}
	password, err := pw.readNew("password", "Password for "+pos[0]+": ")
	if err != nil {
		return err
	}
	me, err := e.client.Register(e.ctx, api.RegisterRequest{
		Username: pos[0], Password: password,
		DisplayName: *display, Email: *email, Phone: *phone,
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
	pos, err := e.parse(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	pw := e.passwords(*fromStdin)
	if err := pw.check(c); err != nil {
		return err
	}
	password, err := pw.read("password", "Password for "+pos[0]+": ")
	if err != nil {
		return err
	}
	me, err := e.client.Login(e.ctx, api.LoginRequest{Username: pos[0], Password: password})
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
	if _, err := e.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	// Only the flags given change; an empty value clears the field.
	var req api.ProfileRequest
	fs.Visit(func(f *flag.Flag) {
		v := f.Value.String()
		switch f.Name {
		case "display-name":
			req.DisplayName = &v
		case "email":
			req.Email = &v
		case "phone":
			req.Phone = &v
		}
	})
	if req.DisplayName == nil && req.Email == nil && req.Phone == nil {
		return usageError(c, "profile set needs at least one of --display-name, --email, --phone")
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
