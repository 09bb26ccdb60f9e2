package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServiceAutostartRunsDaemon installs the daemon with lanchat service
// install into a fresh home where no systemd user manager answers, then
// runs the command the XDG autostart entry names, as a desktop session
// would at login: that daemon must come up with the flags given and
// register with the server.
func TestServiceAutostartRunsDaemon(t *testing.T) {
	srv := startServer(t)
	alice := newUser(t, srv, "alice")
	dir := t.TempDir()
	for k, v := range map[string]string{"HOME": "home", "XDG_CONFIG_HOME": "config", "XDG_RUNTIME_DIR": "run"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Setenv(k, filepath.Join(dir, v))
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(dir, "run", "no-bus"))
	daemonFlags := []string{"--server", srv.addr, "--server-fingerprint", srv.fp, "--listen", "127.0.0.1:0", "--no-mdns", "--no-ui"}
	out, code := run(t, "lanchat", append([]string{"--home", alice.home, "service", "install"}, daemonFlags...)...)
	if code != 0 {
		t.Fatalf("service install: exit %d\n%s", code, out)
	}
	entryPath := filepath.Join(dir, "config", "autostart", "lanchat.desktop")
	entry, err := os.ReadFile(entryPath)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var argv []string
	for _, line := range strings.Split(string(entry), "\n") {
		if v, ok := strings.CutPrefix(line, "Exec="); ok {
			// No argument here holds a quote, backslash, $ or %.
			argv = strings.Split(strings.Trim(v, `"`), `" "`)
		}
	}
	exe, _ := filepath.EvalSymlinks(bin("lanchat"))
	want := append([]string{exe, "--home", alice.home, "daemon"}, daemonFlags...)
	if !slices.Equal(argv, want) {
		t.Fatalf("the autostart entry runs %q, want %q", argv, want)
	}

	// Log in, as the desktop session would: run the entry's command.
	daemon := startCmd(t, exec.Command(argv[0], argv[1:]...))
	daemon.waitOutput(t, reDaemonUp, 20*time.Second)
	alice.register(t)
	if out := alice.must(t, "service", "status"); !strings.Contains(out, "XDG autostart entry "+entryPath) || !strings.Contains(out, "a daemon runs for "+alice.home) {
		t.Errorf("service status:\n%s", out)
	}
	if out := alice.must(t, "service", "uninstall"); !strings.Contains(out, "removed "+entryPath) {
		t.Errorf("service uninstall:\n%s", out)
	}
	if _, err := os.Stat(entryPath); !os.IsNotExist(err) {
		t.Errorf("the entry is still there: %v", err)
	}
}
