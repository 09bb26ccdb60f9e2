//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// serviceEnv points HOME and XDG_CONFIG_HOME at a temporary directory and
// makes sure no systemd user manager (nor the caller's own) answers: the
// runtime directory is empty and there is no session bus.
func serviceEnv(t *testing.T) (home, config string) {
	t.Helper()
	dir := t.TempDir()
	home, config = filepath.Join(dir, "home"), filepath.Join(dir, "config")
	runtime := filepath.Join(dir, "run")
	for _, d := range []string{home, config, runtime} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", config)
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(runtime, "no-bus"))
	return home, config
}

// runLanchat runs the CLI in-process with the real environment.
func runLanchat(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	code := runEnv(ctx, args, strings.NewReader(""), &out, &errb, os.Getenv)
	return result{out.String(), errb.String(), code}
}

func TestServiceInstallAutostartWithoutUserManager(t *testing.T) {
	_, config := serviceEnv(t)
	data := shortHome(t)
	out := runLanchat(t, "--home", data, "service", "install", "--server", "10.0.0.5:7443", "--no-mdns").ok(t)
	entryPath := filepath.Join(config, "autostart", "lanchat.desktop")
	contains(t, out, "wrote "+entryPath, "desktop session")

	entry, err := os.ReadFile(entryPath)
	if err != nil {
		t.Fatal(err)
	}
	var exec string
	for _, line := range strings.Split(string(entry), "\n") {
		if v, ok := strings.CutPrefix(line, "Exec="); ok {
			exec = v
		}
	}
	exe, _ := serviceExecutable()
	want := []string{exe, "--home", data, "daemon", "--server", "10.0.0.5:7443", "--no-mdns"}
	if got := parseDesktopExec(t, exec); !slices.Equal(got, want) {
		t.Errorf("autostart runs %q, want %q", got, want)
	}
	if v, err := exec2("desktop-file-validate", entryPath); err == nil {
		t.Logf("desktop-file-validate: ok %s", v)
	}

	contains(t, runLanchat(t, "--home", data, "service", "status").ok(t), "XDG autostart entry "+entryPath, "no daemon runs")
	contains(t, runLanchat(t, "--home", data, "service", "uninstall").ok(t), "removed "+entryPath)
	if _, err := os.Stat(entryPath); !os.IsNotExist(err) {
		t.Errorf("after uninstall: %v", err)
	}
	contains(t, runLanchat(t, "--home", data, "service", "status").ok(t), "not installed")
	contains(t, runLanchat(t, "--home", data, "service", "uninstall").ok(t), "nothing to remove")
}

// exec2 runs a tool if it exists.
func exec2(name string, args ...string) (string, error) {
	if _, err := exec.LookPath(name); err != nil {
		return "", err
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func TestServiceInstallSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemctl"); err != nil {
		t.Skip("systemctl not found: the systemd user unit is checked where systemd is installed")
	}
	_, config := serviceEnv(t)
	data := shortHome(t)
	out := runLanchat(t, "--home", data, "service", "install", "--systemd", "--", "--listen", "0.0.0.0:7444", "--downloads", "/tmp/50% off").ok(t)
	unitPath := filepath.Join(config, "systemd", "user", "lanchat.service")
	contains(t, out, "wrote "+unitPath, "starts at your next login")

	// systemctl itself reads the unit back: enabled for default.target.
	wants := filepath.Join(config, "systemd", "user", "default.target.wants", "lanchat.service")
	if target, err := os.Readlink(wants); err != nil || target != unitPath {
		t.Errorf("default.target.wants link: %q, %v", target, err)
	}
	if out, err := exec.Command("systemctl", "--user", "is-enabled", "lanchat.service").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "enabled" {
		t.Errorf("systemctl --user is-enabled: %s %v", out, err)
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		// verify loads the unit as the user manager would; any complaint
		// (an unknown key, a bad ExecStart) is printed and fails the test.
		out, err := exec.Command("systemd-analyze", "--user", "verify", unitPath).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze --user verify: %v\n%s", err, out)
		}
	} else {
		t.Log("systemd-analyze not found: the unit is not verified")
	}
	unit, _ := os.ReadFile(unitPath)
	contains(t, string(unit), `"--listen" "0.0.0.0:7444" "--downloads" "/tmp/50%% off"`)

	contains(t, runLanchat(t, "--home", data, "service", "status").ok(t), "systemd user unit "+unitPath+": enabled", "no user manager")
	contains(t, runLanchat(t, "--home", data, "service", "uninstall").ok(t), "removed "+unitPath)
	for _, p := range []string{unitPath, wants} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s after uninstall: %v", p, err)
		}
	}
}

func TestServiceInstallChecksDaemonFlags(t *testing.T) {
	_, config := serviceEnv(t)
	data := shortHome(t)
	for _, args := range [][]string{
		{"--sever", "10.0.0.5:7443"},
		{"stray"},
		{"--systemd", "--autostart"},
		{"--downloads", "a\nExecStartPre=/bin/sh"},
	} {
		r := runLanchat(t, append([]string{"--home", data, "service", "install"}, args...)...)
		if want := exitUsage; r.code != want && !(args[0] == "--downloads" && r.code == exitFailure) {
			t.Errorf("service install %q: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(config, "autostart")); !os.IsNotExist(err) {
		t.Errorf("a refused install wrote files: %v", err)
	}
}
