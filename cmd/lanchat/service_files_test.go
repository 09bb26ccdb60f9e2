package main

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"
)

// awkward are arguments every start-up file must carry unchanged.
var awkward = []string{
	"/opt/my apps/lanchat",
	"--home", `/home/a"b/50% $HOME \n ` + "`x`",
	"daemon", "--server", "10.0.0.5:7443", "--downloads", `C:\Users\Zoë\Down loads\`, "--log-level", "debug", "",
}

func TestSystemdUnitQuotes(t *testing.T) {
	unit, err := systemdUnit([]string{"/usr/bin/lanchat", "--home", `/h/50% $X "q" \`, "daemon"})
	if err != nil {
		t.Fatal(err)
	}
	want := `ExecStart="/usr/bin/lanchat" "--home" "/h/50%% $$X \"q\" \\" "daemon"` + "\n"
	if !strings.Contains(unit, want) {
		t.Errorf("unit lacks %q:\n%s", want, unit)
	}
	for _, key := range []string{"[Install]\nWantedBy=default.target", "Restart=on-failure"} {
		if !strings.Contains(unit, key) {
			t.Errorf("unit lacks %q", key)
		}
	}
}

// parseDesktopExec splits an Exec value as the Desktop Entry
// Specification reads it: the string escapes first, then the quoting.
func parseDesktopExec(t *testing.T, value string) []string {
	t.Helper()
	var s strings.Builder
	for i := 0; i < len(value); i++ {
		if value[i] == '\\' && i+1 < len(value) {
			i++
			switch value[i] {
			case '\\':
				s.WriteByte('\\')
			case 's':
				s.WriteByte(' ')
			default:
				t.Fatalf("string escape \\%c in %q", value[i], value)
			}
			continue
		}
		s.WriteByte(value[i])
	}
	un := s.String()
	var args []string
	for i := 0; i < len(un); {
		if un[i] == ' ' {
			i++
			continue
		}
		if un[i] != '"' {
			t.Fatalf("unquoted argument at %d in %q", i, un)
		}
		var a strings.Builder
		i++
		for ; i < len(un) && un[i] != '"'; i++ {
			switch {
			case un[i] == '\\':
				i++
				if !strings.ContainsRune("\"`$\\", rune(un[i])) {
					t.Fatalf("bad quoted escape in %q", un)
				}
				a.WriteByte(un[i])
			case un[i] == '%':
				i++
				if un[i] != '%' {
					t.Fatalf("field code %%%c in %q", un[i], un)
				}
				a.WriteByte('%')
			default:
				a.WriteByte(un[i])
			}
		}
		i++
		args = append(args, a.String())
	}
	return args
}

func TestDesktopEntryRoundTrip(t *testing.T) {
	entry, err := desktopEntry(awkward)
	if err != nil {
		t.Fatal(err)
	}
	var exec string
	for _, line := range strings.Split(entry, "\n") {
		if v, ok := strings.CutPrefix(line, "Exec="); ok {
			exec = v
		}
	}
	if got := parseDesktopExec(t, exec); !slices.Equal(got, awkward) {
		t.Errorf("Exec reads back as\n%q\nwant\n%q", got, awkward)
	}
	for _, key := range []string{"[Desktop Entry]\n", "Type=Application\n", "Terminal=false\n"} {
		if !strings.Contains(entry, key) {
			t.Errorf("entry lacks %q", key)
		}
	}
}

func TestLaunchdPlistRoundTrip(t *testing.T) {
	plist, err := launchdPlist(awkward, "/Users/a/Library/Application Support/lanchat/daemon.log")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Dict struct {
			Items []struct {
				XMLName xml.Name
				Text    string   `xml:",chardata"`
				Strings []string `xml:"string"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(plist), &doc); err != nil {
		t.Fatalf("plist is not XML: %v\n%s", err, plist)
	}
	var key string
	found := map[string]bool{}
	for _, it := range doc.Dict.Items {
		switch it.XMLName.Local {
		case "key":
			key = it.Text
			continue
		case "array":
			if key == "ProgramArguments" && !slices.Equal(it.Strings, awkward) {
				t.Errorf("ProgramArguments read back as\n%q\nwant\n%q", it.Strings, awkward)
			}
		case "string":
			if key == "Label" && it.Text != launchdLabel {
				t.Errorf("Label %q", it.Text)
			}
		}
		found[key] = true
	}
	for _, k := range []string{"Label", "ProgramArguments", "RunAtLoad", "KeepAlive", "StandardErrorPath"} {
		if !found[k] {
			t.Errorf("plist lacks %s", k)
		}
	}
}

// splitWindows splits a command line the way CommandLineToArgvW does for
// the arguments after the program name.
func splitWindows(s string) []string {
	var args []string
	var a strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(s) && s[i] == '\\' {
				n++
				i++
			}
			if i < len(s) && s[i] == '"' {
				a.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					a.WriteByte('"')
				} else {
					inQuote = !inQuote
				}
			} else {
				a.WriteString(strings.Repeat(`\`, n))
				i--
			}
			have = true
		case c == '"':
			inQuote = !inQuote
			have = true
		case c == ' ' && !inQuote:
			if have {
				args = append(args, a.String())
				a.Reset()
				have = false
			}
		default:
			a.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, a.String())
	}
	return args
}

func TestWindowsCommandLineRoundTrip(t *testing.T) {
	argv := append([]string{`C:\Program Files\lanchat\lanchat.exe`}, awkward[1:]...)
	argv = append(argv, `trailing\`, `a\"b`, `\\server\share\`)
	line, err := windowsCommandLine(argv)
	if err != nil {
		t.Fatal(err)
	}
	if got := splitWindows(line); !slices.Equal(got, argv) {
		t.Errorf("%s\nsplits into\n%q\nwant\n%q", line, got, argv)
	}
}

func TestStartupFilesRefuseControlCharacters(t *testing.T) {
	for _, bad := range []string{"a\nExecStartPre=/bin/evil", "a\rb", "\x00", "\xff", ";"} {
		argv := []string{"/usr/bin/lanchat", "--home", bad, "daemon"}
		if _, err := systemdUnit(argv); err == nil {
			t.Errorf("systemdUnit took %q", bad)
		}
		if _, err := desktopEntry(argv); err == nil {
			t.Errorf("desktopEntry took %q", bad)
		}
		if _, err := launchdPlist(argv, "/tmp/log"); err == nil {
			t.Errorf("launchdPlist took %q", bad)
		}
		if _, err := windowsCommandLine(argv); err == nil {
			t.Errorf("windowsCommandLine took %q", bad)
		}
	}
}
