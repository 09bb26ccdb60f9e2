//go:build !windows && !darwin

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// On Linux the daemon starts with the session through a systemd user unit
// (~/.config/systemd/user/lanchat.service, enabled for default.target)
// where a systemd user manager runs, else through an XDG autostart entry
// (~/.config/autostart/lanchat.desktop) that desktop sessions run at
// login.

// configHome is $XDG_CONFIG_HOME, else ~/.config.
func configHome(e *env) (string, error) {
	if d := e.getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return d, nil
	}
	home := e.getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("neither XDG_CONFIG_HOME nor HOME is set to an absolute path")
	}
	return filepath.Join(home, ".config"), nil
}

func unitPath(e *env) (string, error) {
	dir, err := configHome(e)
	return filepath.Join(dir, "systemd", "user", unitName), err
}

func autostartPath(e *env) (string, error) {
	dir, err := configHome(e)
	return filepath.Join(dir, "autostart", desktopName), err
}

// systemctl runs systemctl --user ARGS, bounded in time, and returns its
// combined output.
func systemctl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", append([]string{"--user"}, args...)...).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		return text, fmt.Errorf("systemctl --user %s: %w: %s", strings.Join(args, " "), err, text)
	}
	return text, nil
}

// userManager reports whether a systemd user manager answers.
func userManager(ctx context.Context) bool {
	if _, err := exec.LookPath("systemctl"); err != nil {
		return false
	}
	_, err := systemctl(ctx, "show-environment")
	return err == nil
}

func installService(e *env, o serviceOpts, argv []string) error {
	manager := userManager(e.ctx)
	if o.autostart || (!manager && !o.systemd) {
		return installAutostart(e, argv)
	}
	if _, err := exec.LookPath("systemctl"); err != nil {
		return fmt.Errorf("--systemd: systemctl not found: %w", err)
	}
	unit, err := systemdUnit(argv)
	if err != nil {
		return err
	}
	path, err := unitPath(e)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, []byte(unit), 0o644); err != nil {
		return err
	}
	// A unit replaces an autostart entry written before.
	if p, err := autostartPath(e); err == nil {
		removeIfExists(p)
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", path)
	if manager {
		if _, err := systemctl(e.ctx, "daemon-reload"); err != nil {
			return err
		}
	}
	// enable works without a running manager: it links the unit into
	// default.target.wants, so it starts at the next login.
	if _, err := systemctl(e.ctx, "enable", unitName); err != nil {
		return err
	}
	if !manager {
		fmt.Fprintln(e.stdout, "enabled; no systemd user manager runs now, so the daemon starts at your next login")
		return nil
	}
	if _, err := systemctl(e.ctx, "restart", unitName); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "enabled and started; it starts with every login. Log: journalctl --user -u lanchat")
	return nil
}

func installAutostart(e *env, argv []string) error {
	entry, err := desktopEntry(argv)
	if err != nil {
		return err
	}
	path, err := autostartPath(e)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, []byte(entry), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s: the daemon starts when your desktop session starts (no systemd user manager answers here)\n", path)
	fmt.Fprintf(e.stdout, "to start it now: %s\n", strings.Join(argv, " "))
	return nil
}

func uninstallService(e *env) error {
	removed := 0
	unit, err := unitPath(e)
	if err != nil {
		return err
	}
	if _, err := os.Stat(unit); err == nil {
		if _, err := exec.LookPath("systemctl"); err == nil {
			args := []string{"disable", unitName}
			if userManager(e.ctx) {
				args = []string{"disable", "--now", unitName}
			}
			if _, err := systemctl(e.ctx, args...); err != nil {
				return err
			}
		}
		if _, err := removeIfExists(unit); err != nil {
			return err
		}
		if userManager(e.ctx) {
			systemctl(e.ctx, "daemon-reload")
		}
		fmt.Fprintf(e.stdout, "stopped, disabled and removed %s\n", unit)
		removed++
	}
	entry, err := autostartPath(e)
	if err != nil {
		return err
	}
	ok, err := removeIfExists(entry)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintf(e.stdout, "removed %s (a daemon it started runs until you stop it or log out)\n", entry)
		removed++
	}
	if removed == 0 {
		fmt.Fprintln(e.stdout, "not installed: nothing to remove")
	}
	return nil
}

func serviceStatus(e *env) error {
	unit, err := unitPath(e)
	if err != nil {
		return err
	}
	entry, err := autostartPath(e)
	if err != nil {
		return err
	}
	installed := false
	if _, err := os.Stat(unit); err == nil {
		installed = true
		enabled, _ := systemctl(e.ctx, "is-enabled", unitName)
		line := fmt.Sprintf("systemd user unit %s: %s", unit, orUnknown(enabled))
		if userManager(e.ctx) {
			active, _ := systemctl(e.ctx, "is-active", unitName)
			line += ", " + orUnknown(active)
		} else {
			line += ", no user manager runs now"
		}
		fmt.Fprintln(e.stdout, line)
	}
	if _, err := os.Stat(entry); err == nil {
		installed = true
		fmt.Fprintf(e.stdout, "XDG autostart entry %s: runs at desktop login\n", entry)
	}
	if !installed {
		fmt.Fprintln(e.stdout, "not installed: lanchat service install starts the daemon with your session")
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
