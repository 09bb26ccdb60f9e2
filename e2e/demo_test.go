package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's first command (make demo runs this script)
// and checks it shows what it promises: a direct message and a relayed
// one, read by their recipient. It picks free ports itself, and writes no
// colour codes into a pipe.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../scripts/demo.sh")
	cmd.Env = append(os.Environ(),
		"BIN="+binDir,
		"DEMO_ADDR=", "DEMO_METRICS=", "NO_COLOR=",
		"TMPDIR="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	if i := strings.IndexByte(string(out), 0x1b); i >= 0 {
		t.Errorf("an escape sequence in the output, not a terminal: %q", out[max(0, i-40):min(len(out), i+40)])
	}
	for _, want := range []string{
		"the server listens on 127.0.0.1:",
		"its metrics on http://127.0.0.1:",
		"registered and logged in as alice",
		"you and alice are now friends",
		"sent to bob (direct)",
		"sent to bob (relayed)",
		"alice: The meeting moved to 3pm.",
		"appears nowhere in the server's data directory",
		"done: quarterly-report.pdf to bob",
		"bob's copy is identical to alice's",
		"alice: http://127.0.0.1:",
		"bob: http://127.0.0.1:",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}

// TestDemoStopsAtFailingStep gives the demo a server address that is
// taken: it must stop there, saying which step failed and why.
func TestDemoStopsAtFailingStep(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../scripts/demo.sh")
	cmd.Env = append(os.Environ(), "BIN="+binDir, "DEMO_ADDR="+ln.Addr().String(), "DEMO_METRICS=", "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the demo went on with its address taken:\n%s", out)
	}
	for _, want := range []string{`demo stopped at "starting the rendezvous server on ` + ln.Addr().String(), "address already in use"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "alice") {
		t.Errorf("the demo went on after the failing step:\n%s", out)
	}
}
