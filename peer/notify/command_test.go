//go:build !windows

package notify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// recorder writes a stand-in for osascript or powershell that records
// its arguments and the toast variables, NUL-separated.
func recorder(t *testing.T) (path, argsFile, envFile string) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "helper")
	argsFile, envFile = filepath.Join(dir, "args"), filepath.Join(dir, "env")
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\" > " + argsFile + "\nprintf '%s\\0%s\\0' \"$LANCHAT_TOAST_TITLE\" \"$LANCHAT_TOAST_BODY\" > " + envFile + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, argsFile, envFile
}

func readNUL(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// hostile is text a peer might send to break out of a script.
const (
	hostileSummary = `bob" & (do shell script "touch /tmp/owned") & "`
	hostileBody    = "$(Remove-Item C:\\ -Recurse)\"; `whoami` <b>&amp;\nsecond line\x00"
)

func TestOsascriptGetsTextAsArguments(t *testing.T) {
	path, argsFile, _ := recorder(t)
	if err := Osascript(path).Notify(context.Background(), hostileSummary, hostileBody); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range osascriptLines {
		want = append(want, "-e", l)
	}
	want = append(want, hostileSummary, oneLine(hostileBody))
	if got := readNUL(t, argsFile); !slices.Equal(got, want) {
		t.Errorf("osascript ran with\n%q\nwant\n%q", got, want)
	}
	if strings.Contains(strings.Join(osascriptLines, "\n"), "bob") {
		t.Error("the text reached the script")
	}
}

func TestToastGetsTextFromEnvironment(t *testing.T) {
	path, argsFile, envFile := recorder(t)
	if err := Toast(path).Notify(context.Background(), hostileSummary, hostileBody); err != nil {
		t.Fatal(err)
	}
	args := readNUL(t, argsFile)
	if len(args) == 0 || args[len(args)-1] != toastScript || !slices.Contains(args, "-Command") {
		t.Errorf("powershell ran with %q, want the fixed script", args)
	}
	for _, a := range args {
		if strings.Contains(a, "owned") || strings.Contains(a, "Remove-Item") {
			t.Errorf("the text reached the command line: %q", a)
		}
	}
	if got, want := readNUL(t, envFile), []string{hostileSummary, "$(Remove-Item C:\\ -Recurse)\"; `whoami` <b>&amp; second line "}; !slices.Equal(got, want) {
		t.Errorf("toast variables %q, want %q", got, want)
	}
	for _, escaped := range []string{"[Security.SecurityElement]::Escape($env:LANCHAT_TOAST_TITLE)", "[Security.SecurityElement]::Escape($env:LANCHAT_TOAST_BODY)"} {
		if !strings.Contains(toastScript, escaped) {
			t.Errorf("the toast script does not escape: lacks %s", escaped)
		}
	}
}

func TestOsascriptTitleIsNoOption(t *testing.T) {
	path, argsFile, _ := recorder(t)
	if err := Osascript(path).Notify(context.Background(), "-e do shell script", "-x"); err != nil {
		t.Fatal(err)
	}
	got := readNUL(t, argsFile)
	if n := len(got); got[n-2] != "e do shell script" || got[n-1] != "-x" {
		t.Errorf("osascript ran with %q", got)
	}
}

func TestCommandFailureIsReported(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fails")
	os.WriteFile(path, []byte("#!/bin/sh\necho no notification center >&2\nexit 3\n"), 0o755)
	err := Osascript(path).Notify(context.Background(), "a", "b")
	if err == nil || !strings.Contains(err.Error(), "no notification center") {
		t.Errorf("err = %v", err)
	}
}
