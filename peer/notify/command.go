package notify

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// commandTimeout bounds one notification by a helper program.
const commandTimeout = 10 * time.Second

// Command shows notifications by running a program of the system that
// takes the text out of band: as arguments (osascript's argv) or in the
// environment (PowerShell's $env:), never inside the script it runs, so
// that no text a peer sent can become code.
type Command struct {
	path string
	// args and env make the argument list and extra environment for one
	// notification.
	args func(summary, body string) []string
	env  func(summary, body string) []string
}

// Notify runs the program once and waits for it, within commandTimeout.
func (c *Command) Notify(ctx context.Context, summary, body string) error {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, c.args(summary, body)...)
	if c.env != nil {
		cmd.Env = append(cmd.Environ(), c.env(summary, body)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("notify: %s: %w: %s", c.path, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Close does nothing: each notification is a process of its own.
func (c *Command) Close() error { return nil }

// osascriptLines is the AppleScript that shows a notification: the
// title and text are its run handler's arguments.
var osascriptLines = []string{
	"on run argv",
	"display notification (item 2 of argv) with title (item 1 of argv)",
	"end run",
}

// Osascript shows notifications through macOS's osascript at path.
func Osascript(path string) *Command {
	return &Command{
		path: path,
		args: func(summary, body string) []string {
			var a []string
			for _, l := range osascriptLines {
				a = append(a, "-e", l)
			}
			// The title never starts with "-", so that osascript's
			// option parsing ends before it, with or without "--".
			return append(a, strings.TrimLeft(oneLine(summary), "-"), oneLine(body))
		},
	}
}

// toastScript is the PowerShell script that shows a Windows toast: it
// reads the title and text from the environment and escapes them into
// the toast's XML. The AppUserModelID is PowerShell's own, which every
// Windows 10 and 11 desktop has registered.
const toastScript = `$ErrorActionPreference = 'Stop'
[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] | Out-Null
[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime] | Out-Null
$t = [Security.SecurityElement]::Escape($env:LANCHAT_TOAST_TITLE)
$b = [Security.SecurityElement]::Escape($env:LANCHAT_TOAST_BODY)
$x = New-Object Windows.Data.Xml.Dom.XmlDocument
$x.LoadXml("<toast><visual><binding template=""ToastGeneric""><text>$t</text><text>$b</text></binding></visual></toast>")
$app = '{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe'
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($app).Show([Windows.UI.Notifications.ToastNotification]::new($x))
`

// Toast shows Windows toasts through Windows PowerShell at path.
func Toast(path string) *Command {
	return &Command{
		path: path,
		args: func(string, string) []string {
			return []string{"-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-WindowStyle", "Hidden", "-Command", toastScript}
		},
		env: func(summary, body string) []string {
			return []string{"LANCHAT_TOAST_TITLE=" + oneLine(summary), "LANCHAT_TOAST_BODY=" + oneLine(body)}
		},
	}
}

// oneLine keeps text printable: control characters (a NUL would end an
// environment string) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
