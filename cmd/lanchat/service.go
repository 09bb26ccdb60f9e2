package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

// serviceOpts are lanchat service install's own flags; they come before
// the daemon's flags.
type serviceOpts struct {
	systemd   bool // Linux: a systemd user unit even without a user manager
	autostart bool // Linux: an XDG autostart entry even with systemd
}

// cmdServiceInstall runs "lanchat service install [--systemd|--autostart]
// [--] [DAEMON FLAGS...]": the daemon for this data directory starts with
// the user's session, with the daemon flags given (checked first).
func cmdServiceInstall(e *env, c *command, args []string) error {
	var o serviceOpts
	for len(args) > 0 {
		switch args[0] {
		case "--systemd", "-systemd":
			o.systemd = true
		case "--autostart", "-autostart":
			o.autostart = true
		case "-h", "--help", "-help":
			fmt.Fprint(e.stdout, commandUsage(c, e.flags(c)))
			return errHelpShown
		case "--":
			args = args[1:]
			goto daemonFlags
		default:
			goto daemonFlags
		}
		args = args[1:]
	}
daemonFlags:
	if o.systemd && o.autostart {
		return usageError(c, "--systemd and --autostart exclude each other")
	}
	if err := checkDaemonArgs(args); err != nil {
		return usageError(c, "%v", strings.TrimSuffix(err.Error(), "\nrun 'lanchat daemon --help' for usage"))
	}
	exe, err := serviceExecutable()
	if err != nil {
		return err
	}
	argv := append([]string{exe, "--home", e.home, "daemon"}, args...)
	if daemonRunning(e) {
		fmt.Fprintf(e.stderr, "lanchat: a daemon already runs for %s; stop it, or the one started with the session cannot take the data directory\n", e.home)
	}
	return installService(e, o, argv)
}

// cmdServiceUninstall runs "lanchat service uninstall".
func cmdServiceUninstall(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	return uninstallService(e)
}

// cmdServiceStatus runs "lanchat service status".
func cmdServiceStatus(e *env, c *command, args []string) error {
	if _, err := e.parse(c, e.flags(c), args, 0, 0); err != nil {
		return err
	}
	if err := serviceStatus(e); err != nil {
		return err
	}
	if daemonRunning(e) {
		fmt.Fprintf(e.stdout, "a daemon runs for %s\n", e.home)
	} else {
		fmt.Fprintf(e.stdout, "no daemon runs for %s\n", e.home)
	}
	return nil
}

// serviceExecutable is this lanchat binary's real path, which the
// start-up file names.
func serviceExecutable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the lanchat executable: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return exe, nil
}

// daemonRunning reports whether a daemon answers on the data directory's
// socket.
func daemonRunning(e *env) bool {
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	defer cancel()
	_, err := e.client.Status(ctx)
	return err == nil || !errors.Is(err, api.ErrNoDaemon) && ctx.Err() == nil
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory, so a reader never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// removeIfExists removes path and reports whether it was there.
func removeIfExists(path string) (bool, error) {
	err := os.Remove(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
}
