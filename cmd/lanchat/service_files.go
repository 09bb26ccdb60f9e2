package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The files lanchat service install writes, one function per system, all
// built on every system so that each is tested everywhere. argv is the
// whole command: the lanchat executable, --home DIR, daemon and the
// user's daemon flags.

// serviceLabel names the daemon's unit, agent and Run value.
const (
	unitName     = "lanchat.service"
	desktopName  = "lanchat.desktop"
	launchdLabel = "org.lanchat.daemon"
	runValueName = "lanchat"
)

// checkArgv refuses arguments no start-up file can carry: control
// characters (a newline would end the line and start a new key) and
// invalid UTF-8.
func checkArgv(argv []string) error {
	for _, a := range argv {
		if !utf8.ValidString(a) {
			return fmt.Errorf("argument %q is not valid UTF-8", a)
		}
		for _, r := range a {
			if unicode.IsControl(r) {
				return fmt.Errorf("argument %q holds a control character", a)
			}
		}
		if a == ";" {
			return fmt.Errorf("argument %q would end the command in a systemd unit", a)
		}
	}
	return nil
}

// systemdUnit is the systemd user unit that runs argv.
func systemdUnit(argv []string) (string, error) {
	if err := checkArgv(argv); err != nil {
		return "", err
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = systemdQuote(a)
	}
	return `# lanchat peer daemon, written by lanchat service install; remove it
# with lanchat service uninstall. Log: journalctl --user -u lanchat
[Unit]
Description=lanchat peer daemon
Documentation=https://github.com/lanchat/lanchat
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
ExecStart=` + strings.Join(quoted, " ") + `
Restart=on-failure
RestartSec=5s

[Install]
WantedBy=default.target
`, nil
}

// systemdQuote quotes one ExecStart word: in double quotes, with \ and "
// escaped C-style, % doubled (specifiers) and $ doubled (variables).
func systemdQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '%':
			b.WriteString("%%")
		case '$':
			b.WriteString("$$")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// desktopEntry is the XDG autostart entry that runs argv when a desktop
// session starts.
func desktopEntry(argv []string) (string, error) {
	if err := checkArgv(argv); err != nil {
		return "", err
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = desktopQuote(a)
	}
	return `[Desktop Entry]
Type=Application
Name=lanchat
Comment=lanchat peer daemon (lanchat service install; remove with lanchat service uninstall)
Exec=` + strings.Join(quoted, " ") + `
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
`, nil
}

// desktopQuote quotes one Exec argument as the Desktop Entry
// Specification says: in double quotes with " ` $ \ escaped by a
// backslash and % doubled, then the string rule: every backslash doubled.
func desktopQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '`', '$':
			b.WriteString(`\\`)
			b.WriteRune(r)
		case '\\':
			b.WriteString(`\\\\`)
		case '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// launchdPlist is the launchd agent that runs argv at login and again if
// it fails, logging to logPath.
func launchdPlist(argv []string, logPath string) (string, error) {
	if err := checkArgv(append([]string{logPath}, argv...)); err != nil {
		return "", err
	}
	var args bytes.Buffer
	for _, a := range argv {
		args.WriteString("\t\t<string>")
		xml.EscapeText(&args, []byte(a))
		args.WriteString("</string>\n")
	}
	var logEsc bytes.Buffer
	xml.EscapeText(&logEsc, []byte(logPath))
	return `<?xml version="1.0" encoding="UTF-8"?>
<!-- lanchat peer daemon, written by lanchat service install; remove it
     with lanchat service uninstall. -->
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchdLabel + `</string>
	<key>ProgramArguments</key>
	<array>
` + args.String() + `	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>StandardOutPath</key>
	<string>` + logEsc.String() + `</string>
	<key>StandardErrorPath</key>
	<string>` + logEsc.String() + `</string>
</dict>
</plist>
`, nil
}

// windowsCommandLine joins argv into one command line that
// CommandLineToArgvW (and so Go's os.Args) splits back into argv: each
// argument in double quotes, a run of backslashes doubled before a quote
// and a quote escaped by a backslash.
func windowsCommandLine(argv []string) (string, error) {
	if err := checkArgv(argv); err != nil {
		return "", err
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		var b strings.Builder
		b.WriteByte('"')
		slashes := 0
		for _, r := range a {
			switch r {
			case '\\':
				slashes++
				continue
			case '"':
				b.WriteString(strings.Repeat(`\`, 2*slashes+1))
			default:
				b.WriteString(strings.Repeat(`\`, slashes))
			}
			slashes = 0
			b.WriteRune(r)
		}
		b.WriteString(strings.Repeat(`\`, 2*slashes))
		b.WriteByte('"')
		quoted[i] = b.String()
	}
	return strings.Join(quoted, " "), nil
}
