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

func TestParseExitPublish(t *testing.T) {
	var stderr bytes.Buffer
	fs := Flags("bench x", "a test", &stderr, "bench x --n 3")
	n := fs.Int("n", 1, "a number")
	if err := Parse(fs, []string{"--n", "3"}); err != nil || *n != 3 {
		t.Fatalf("Parse = %v, n %d", err, *n)
	}
	for _, args := range [][]string{{"--nope"}, {"extra"}} {
		if err := Parse(Flags("bench x", "a test", &stderr), args); Exit("bench x", err, &stderr) != 2 {
			t.Errorf("Parse(%q) = %v, want a usage error with exit code 2", args, err)
		}
	}
	if err := Parse(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) || Exit("bench x", err, &stderr) != 0 || !strings.Contains(stderr.String(), "bench x --n 3") {
		t.Errorf("--help: %v, %s", err, stderr.String())
	}
	if Exit("bench x", errors.New("boom"), &stderr) != 1 {
		t.Error("exit code of a failure")
	}
	c := Common{Out: filepath.Join(t.TempDir(), "results", "x-latest.md")}
	var out bytes.Buffer
	if err := c.Publish(&out, &stderr, "| a |\n"); err != nil || out.String() != "| a |\n" {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(c.Out); err != nil || string(b) != "| a |\n" {
		t.Errorf("read back %q, %v", b, err)
	}
}
