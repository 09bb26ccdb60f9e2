package main

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"

	"github.com/lanchat/lanchat/peer/webui"
)

func init() {
	ui := &command{
		name:    "ui",
		args:    "[--print]",
		summary: "open the web app in the default browser, signed in (--print: only print the one-time sign-in URL)",
		example: "lanchat ui --print",
		run:     cmdUI,
	}
	// Help lists it before "help", which stays last.
	i := len(commands)
	if i > 0 && commands[i-1].name == "help" {
		i--
	}
	commands = slices.Insert(commands, i, ui)
}

// cmdUI asks the daemon for a one-time sign-in URL and opens it, or
// prints it with --print.
func cmdUI(e *env, c *command, args []string) error {
	fs := e.flags(c)
	printOnly := fs.Bool("print", false, "print the sign-in URL instead of opening a browser")
	if _, err := e.parse(c, fs, args, 0, 0); err != nil {
		return err
	}
	si, err := webui.FetchSignIn(e.ctx, e.client.SocketPath())
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e.stdout, si)
	}
	if *printOnly {
		fmt.Fprintln(e.stdout, si.SignInURL)
		return nil
	}
	if err := openBrowser(si.SignInURL); err != nil {
		fmt.Fprintf(e.stderr, "lanchat: could not open a browser (%v); open this address, once, within %v:\n", err, webui.TokenLifetime)
		fmt.Fprintln(e.stdout, si.SignInURL)
		return nil
	}
	fmt.Fprintf(e.stdout, "opened the web app at %s in the default browser\n", si.URL)
	return nil
}

// openBrowser opens url in the user's default browser. The URL goes on
// the opener's command line, where other users of the machine may see it
// for a moment: the token in it works once, and the browser spends it at
// once.
func openBrowser(url string) error {
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		return errors.New("not supported on Windows")
	default:
		name = "xdg-open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%s not found", name)
	}
	cmd := exec.Command(path, url)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", name, err)
	}
	go cmd.Wait() // reap it; the program ends soon anyway
	return nil
}
