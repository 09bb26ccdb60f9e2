package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/lanchat/lanchat/peer/webui"
)

// startUI opens the web app's listener, when the app is on, and serves
// it on a goroutine Run waits for. It returns the handler for the Unix
// socket: the API plus the route that gives lanchat ui a sign-in URL.
func (d *Daemon) startUI(ctx context.Context, apiHandler http.Handler) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	if d.cfg.NoUI {
		mux.Handle("POST "+webui.SignInRoute, webui.SignInHandler(nil))
		return mux, nil
	}
	ln, err := d.listenUI(d.cfg.UI)
	if err != nil {
		return nil, err
	}
	srv, err := webui.New(ln, webui.Config{
		API:     apiHandler,
		Uploads: d.home.UploadsDir(),
		Logger:  d.log.With("part", "webui"),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux.Handle("POST "+webui.SignInRoute, webui.SignInHandler(srv))
	d.spawn(func() {
		if err := srv.Serve(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("web app stopped", "err", err)
		}
	})
	fmt.Fprintf(d.cfg.Out, "web app on %s (open it with: lanchat ui)\n", srv.URL())
	return mux, nil
}

// listenUI opens the app's listener on addr. With port 0 it first tries
// the port of the last run, so open tabs and bookmarks still work; if
// that port is taken, any port does.
func (d *Daemon) listenUI(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--ui %q: %w", addr, err)
	}
	if last := d.home.UIPort(); port == "0" && last != 0 {
		ln, err := webui.Listen(net.JoinHostPort(host, strconv.Itoa(last)))
		if err == nil {
			return ln, nil
		}
		d.log.Info("the web app's last port is taken; using another", "port", last, "err", err)
	}
	ln, err := webui.Listen(addr)
	if err != nil {
		return nil, err
	}
	if err := d.home.SaveUIPort(ln.Addr().(*net.TCPAddr).Port); err != nil {
		d.log.Warn("remember the web app's port", "err", err)
	}
	return ln, nil
}
