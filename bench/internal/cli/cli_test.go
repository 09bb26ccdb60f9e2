package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAndExit(t *testing.T) {
	var stderr bytes.Buffer
	fs := Flags("bench x", "a test", &stderr, "bench x --n 3")
	n := fs.Int("n", 1, "a number")
	if err := Parse(fs, []string{"--n", "3"}); err != nil || *n != 3 {
		t.Fatalf("Parse = %v, n %d", err, *n)
	}
	for _, args := range [][]string{{"--nope"}, {"extra"}} {
		err := Parse(Flags("bench x", "a test", &stderr), args)
		if !errors.Is(err, ErrUsage) || Exit("bench x", err, &stderr) != 2 {
			t.Errorf("Parse(%q) = %v, want a usage error with exit code 2", args, err)
		}
	}
	if err := Parse(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) || Exit("bench x", err, &stderr) != 0 {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stderr.String(), "bench x --n 3") {
		t.Errorf("--help shows no example:\n%s", stderr.String())
	}
	if Exit("bench x", errors.New("boom"), &stderr) != 1 || Exit("bench x", nil, &stderr) != 0 {
		t.Error("exit codes")
	}
}

func TestWriteReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results", "x-latest.md")
	if err := WriteReport(path, "| a |\n"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "| a |\n" {
		t.Errorf("read back %q, %v", b, err)
	}
}

func TestTable(t *testing.T) {
	got := Table([]string{"tool", "MB/s:", "note"}, [][]string{{"a", "1.5", "x"}, {"b"}})
	want := "| tool | MB/s | note |\n|---|---:|---|\n| a | 1.5 | x |\n| b | — | — |\n"
	if got != want {
		t.Errorf("Table =\n%s\nwant\n%s", got, want)
	}
}
