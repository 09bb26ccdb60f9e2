package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"slices"
	"syscall"

	"github.com/lanchat/lanchat/peer/api"
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
	si, err := fetchSignIn(e.ctx, e.client.SocketPath())
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

// fetchSignIn asks the daemon on socket for a sign-in URL
// (POST /v1/ui/signin, docs/api.md).
func fetchSignIn(ctx context.Context, socket string) (webui.SignIn, error) {
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, "unix", socket)
			if err != nil && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)) {
				return nil, fmt.Errorf("%w on %s", api.ErrNoDaemon, socket)
			}
			return conn, err
		},
	}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://lanchat"+webui.SignInRoute, nil)
	if err != nil {
		return webui.SignIn{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, api.ErrNoDaemon) {
			return webui.SignIn{}, err
		}
		return webui.SignIn{}, fmt.Errorf("ask the daemon for the web app: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return webui.SignIn{}, fmt.Errorf("read the daemon's reply: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var reply struct {
			Error *api.Error `json:"error"`
		}
		if json.Unmarshal(body, &reply) == nil && reply.Error != nil {
			return webui.SignIn{}, reply.Error
		}
		return webui.SignIn{}, fmt.Errorf("the daemon answered %s", resp.Status)
	}
	var si webui.SignIn
	if err := json.Unmarshal(body, &si); err != nil || si.SignInURL == "" {
		return webui.SignIn{}, fmt.Errorf("the daemon's reply is not a sign-in URL")
	}
	return si, nil
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
