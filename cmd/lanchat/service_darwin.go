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

// On macOS the daemon is a launchd agent,
// ~/Library/LaunchAgents/org.lanchat.daemon.plist, loaded into the user's
// GUI session: it starts at login and again if it fails.

func plistPath(e *env) (string, error) {
	home := e.getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", fmt.Errorf("HOME is not set to an absolute path")
	}
	return filepath.Join(home, "Library", "LaunchAgents", launchdLabel+".plist"), nil
}

// launchctl runs launchctl ARGS, bounded in time.
func launchctl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "launchctl", args...).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		return text, fmt.Errorf("launchctl %s: %w: %s", strings.Join(args, " "), err, text)
	}
	return text, nil
}

func guiDomain() string { return fmt.Sprintf("gui/%d", os.Getuid()) }

func installService(e *env, o serviceOpts, argv []string) error {
	if o.systemd || o.autostart {
		return fmt.Errorf("--systemd and --autostart are for Linux; macOS uses a launchd agent")
	}
	path, err := plistPath(e)
	if err != nil {
		return err
	}
	plist, err := launchdPlist(argv, filepath.Join(e.home, "daemon.log"))
	if err != nil {
		return err
	}
	// An agent loaded before is replaced.
	launchctl(e.ctx, "bootout", guiDomain()+"/"+launchdLabel)
	if err := writeFileAtomic(path, []byte(plist), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", path)
	if _, err := launchctl(e.ctx, "bootstrap", guiDomain(), path); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "loaded and started; it starts with every login. Log: %s\n", filepath.Join(e.home, "daemon.log"))
	return nil
}

func uninstallService(e *env) error {
	path, err := plistPath(e)
	if err != nil {
		return err
	}
	launchctl(e.ctx, "bootout", guiDomain()+"/"+launchdLabel)
	ok, err := removeIfExists(path)
	if err != nil {
		return err
	}
	if ok {
		fmt.Fprintf(e.stdout, "stopped and removed %s\n", path)
	} else {
		fmt.Fprintln(e.stdout, "not installed: nothing to remove")
	}
	return nil
}

func serviceStatus(e *env) error {
	path, err := plistPath(e)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintln(e.stdout, "not installed: lanchat service install starts the daemon with your session")
		return nil
	}
	state := "not loaded"
	if out, err := launchctl(e.ctx, "print", guiDomain()+"/"+launchdLabel); err == nil {
		state = "loaded"
		for _, line := range strings.Split(out, "\n") {
			if s, ok := strings.CutPrefix(strings.TrimSpace(line), "state = "); ok {
				state = "loaded, " + s
				break
			}
		}
	}
	fmt.Fprintf(e.stdout, "launchd agent %s: %s\n", path, state)
	return nil
}
