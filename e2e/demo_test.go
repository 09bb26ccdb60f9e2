package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's first command (make demo runs this script)
// on free ports and checks it shows what it promises: a direct message
// and a relayed one, read by their recipient.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "../scripts/demo.sh")
	cmd.Env = append(os.Environ(),
		"BIN="+binDir,
		"DEMO_ADDR="+freeAddr(t),
		"DEMO_METRICS="+freeAddr(t),
		"TMPDIR="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{
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
