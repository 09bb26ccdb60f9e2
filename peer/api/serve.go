package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ErrDaemonRunning is returned by Serve when another daemon already answers
// on the socket.
var ErrDaemonRunning = errors.New("a daemon is already running")

// Server timeouts. There is no write timeout: a Send may wait for the
// network, and an event stream sets its own deadline per write.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
	probeTimeout      = time.Second
)

// Serve serves h on a Unix socket at socketPath, mode 0600, until ctx ends;
// then it stops accepting, ends every request and event stream (their
// contexts derive from ctx) and returns nil after they finish.
//
// A socket file left behind by a daemon that died is replaced; if a
// daemon answers on it, Serve returns an error wrapping ErrDaemonRunning.
// The socket's directory should be private to the user (mode 0700): it
// keeps others away in the instant before the socket's mode is set.
func Serve(ctx context.Context, socketPath string, h http.Handler) error {
	ln, err := Listen(socketPath)
	if err != nil {
		return err
	}
	return ServeListener(ctx, ln, h)
}

// Listen makes the daemon's socket at socketPath, as Serve does, and
// returns it listening: a client may connect as soon as Listen returns.
// Serve on it with ServeListener, which closes it.
func Listen(socketPath string) (net.Listener, error) {
	return listen(socketPath)
}

// ServeListener serves h on ln, a listener from Listen, as Serve does.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	return serve(ctx, ln, newServer(ctx, h))
}

// newServer is the http.Server Serve uses.
func newServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}

// serve runs srv on ln until ctx ends, then shuts it down.
func serve(ctx context.Context, ln net.Listener, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		ln.Close()
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		// Handlers that ignore their context: cut them off.
		srv.Close()
	}
	<-errc
	if err != nil {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	return nil
}

// listen makes the socket at path: it removes a stale socket file left by a
// dead daemon and refuses when a live one answers. The socket is made under
// a temporary name, set to mode 0600 and listening before it takes its
// name, so a client that sees the path finds it private and accepting.
func listen(path string) (net.Listener, error) {
	if len(path) > MaxSocketPath {
		return nil, fmt.Errorf("socket path %s is %d bytes; the system allows %d: use a shorter data directory", path, len(path), MaxSocketPath)
	}
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	if len(tmp) > MaxSocketPath {
		tmp = filepath.Join(filepath.Dir(path), fmt.Sprintf(".s%d", os.Getpid()))
	}
	os.Remove(tmp) // a leftover of this pid's previous life
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	defer os.Remove(tmp)
	if err := restrictSocket(tmp); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set mode of %s: %w", tmp, err)
	}
	// A link, unlike a rename, never replaces a live daemon's socket.
	err = os.Link(tmp, path)
	if errors.Is(err, os.ErrExist) {
		if err := removeStale(path); err != nil {
			ln.Close()
			return nil, err
		}
		err = os.Link(tmp, path)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return &socketListener{UnixListener: ln, path: path}, nil
}

// socketListener removes its socket file when closed, as a listener made
// under the file's own name would.
type socketListener struct {
	*net.UnixListener
	path string
}

// Close stops listening and removes the socket file.
func (l *socketListener) Close() error {
	err := l.UnixListener.Close()
	os.Remove(l.path)
	return err
}

// removeStale removes the socket file at path if nothing answers on it.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; move it away", path)
	}
	conn, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		conn.Close()
		return fmt.Errorf("%w on %s", ErrDaemonRunning, path)
	}
	if !refused(err) {
		return fmt.Errorf("probe %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
