package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// On Windows the daemon starts at logon through the user's Run key
// (HKCU\Software\Microsoft\Windows\CurrentVersion\Run, value "lanchat"):
// per user, no administrator needed. It runs under a console host without
// a window (conhost.exe --headless), so no console window opens.

const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// runCommand is the Run value for argv.
func runCommand(argv []string) (string, error) {
	conhost := filepath.Join(os.Getenv("SystemRoot"), "System32", "conhost.exe")
	if _, err := os.Stat(conhost); err != nil {
		// Without conhost the daemon runs in a console window of its own.
		return windowsCommandLine(argv)
	}
	return windowsCommandLine(append([]string{conhost, "--headless"}, argv...))
}

func installService(e *env, o serviceOpts, argv []string) error {
	if o.systemd || o.autostart {
		return fmt.Errorf("--systemd and --autostart are for Linux; Windows uses the Run key")
	}
	cmdline, err := runCommand(argv)
	if err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(runValueName, cmdline); err != nil {
		return fmt.Errorf("set HKCU\\%s\\%s: %w", runKey, runValueName, err)
	}
	fmt.Fprintf(e.stdout, "set HKCU\\%s\\%s: the daemon starts at every logon\n", runKey, runValueName)
	if daemonRunning(e) {
		return nil
	}
	// Start it now as logon will, detached from this console.
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		HideWindow:    true,
		CreationFlags: windows.CREATE_NO_WINDOW | windows.CREATE_NEW_PROCESS_GROUP,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the daemon now: %w", err)
	}
	cmd.Process.Release()
	fmt.Fprintln(e.stdout, "started it now, in the background")
	return nil
}

func uninstallService(e *env) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		fmt.Fprintln(e.stdout, "not installed: nothing to remove")
		return nil
	}
	if err != nil {
		return fmt.Errorf("open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	err = k.DeleteValue(runValueName)
	switch {
	case errors.Is(err, registry.ErrNotExist):
		fmt.Fprintln(e.stdout, "not installed: nothing to remove")
		return nil
	case err != nil:
		return fmt.Errorf("delete HKCU\\%s\\%s: %w", runKey, runValueName, err)
	}
	fmt.Fprintf(e.stdout, "removed HKCU\\%s\\%s; a running daemon keeps running until you log off\n", runKey, runValueName)
	return nil
}

func serviceStatus(e *env) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err == nil {
		defer k.Close()
		var v string
		if v, _, err = k.GetStringValue(runValueName); err == nil {
			fmt.Fprintf(e.stdout, "HKCU\\%s\\%s: %s\n", runKey, runValueName, v)
			return nil
		}
	}
	if !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("read HKCU\\%s\\%s: %w", runKey, runValueName, err)
	}
	fmt.Fprintln(e.stdout, "not installed: lanchat service install starts the daemon at logon")
	return nil
}
