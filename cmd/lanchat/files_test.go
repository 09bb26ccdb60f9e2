package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
)

func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1536000: "1.5 MB", 4 << 30: "4.3 GB"} {
		if got := bytesText(n); got != want {
			t.Errorf("bytesText(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTransferLines(t *testing.T) {
	now := time.Now()
	tr := api.Transfer{ID: strings.Repeat("a", 32), Direction: api.DirectionSend, Peer: "bob", State: api.TransferActive,
		Name: "big.iso", Files: 1, Total: 2_000_000_000, Done: 500_000_000, Rate: 100_000_000}
	if got := progressText(tr); !strings.Contains(got, "25.0%") || !strings.Contains(got, "100.0 MB/s") || !strings.Contains(got, "15s left") {
		t.Errorf("progressText: %q", got)
	}
	if got := progressBar(tr); !strings.Contains(got, "[#######.......................]") || !strings.Contains(got, "ETA 15s") {
		t.Errorf("progressBar: %q", got)
	}
	tr.State, tr.Dir = api.TransferDone, "/home/bob/Downloads"
	tr.Direction = api.DirectionReceive
	if got := transferLine(tr, now); !strings.HasPrefix(got, "done: big.iso from bob") || !strings.Contains(got, "into /home/bob/Downloads") {
		t.Errorf("transferLine: %q", got)
	}
	tr.Name = "evil\x1b[2Jname"
	if got := transferLine(tr, now); strings.Contains(got, "\x1b") {
		t.Errorf("escape sequence printed: %q", got)
	}
}

func TestSendFileNoWait(t *testing.T) {
	h := newHarness(t)
	var got api.SendFileRequest
	h.svc.SendFileFunc = func(_ context.Context, req api.SendFileRequest) (api.SendFileResult, error) {
		got = req
		return api.SendFileResult{
			Transfers: []api.Transfer{{ID: strings.Repeat("b", 32), Peer: "bob", State: api.TransferQueued, Name: "notes.txt", Files: 1, Total: 10}},
			Skipped:   []api.SkippedPath{{Path: "dir/link", Reason: "symbolic link not followed"}},
		}, nil
	}
	r := h.run("", "send-file", "--no-wait", "bob", "relative/notes.txt")
	if r.code != 0 || !strings.Contains(r.stdout, "transfer "+strings.Repeat("b", 32)) || !strings.Contains(r.stderr, "skipped dir/link") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if len(got.Paths) != 1 || !strings.HasPrefix(got.Paths[0], "/") || !strings.HasSuffix(got.Paths[0], "relative/notes.txt") {
		t.Fatalf("paths sent to the daemon: %q; want one absolute path", got.Paths)
	}
}

func TestTransferIDPrefix(t *testing.T) {
	h := newHarness(t)
	ids := []string{"abcd" + strings.Repeat("1", 28), "abce" + strings.Repeat("2", 28)}
	h.svc.TransfersFunc = func(context.Context) ([]api.Transfer, error) {
		return []api.Transfer{{ID: ids[0]}, {ID: ids[1]}}, nil
	}
	var acted string
	h.svc.TransferActionFunc = func(_ context.Context, id, action string, _ api.AcceptRequest) (api.Transfer, error) {
		acted = action + " " + id
		return api.Transfer{ID: id, State: api.TransferCancelled}, nil
	}
	if r := h.run("", "cancel", "abcd"); r.code != 0 || acted != "cancel "+ids[0] {
		t.Fatalf("cancel abcd: exit %d, acted %q, %s", r.code, acted, r.stderr)
	}
	if r := h.run("", "cancel", "abc"); r.code != 2 {
		t.Fatalf("a 3-character prefix: exit %d", r.code)
	}
	if r := h.run("", "reject", "abc"+"d"[:0]+"x"); r.code == 0 {
		t.Fatalf("unknown prefix accepted")
	}
}

func TestRateText(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	done := api.Transfer{State: api.TransferDone, Total: 10_000_000, Created: start, Updated: start.Add(2 * time.Second)}
	if got := rateText(done); got != "5.0 MB/s avg" {
		t.Errorf("rate of a finished transfer: %q, want 5.0 MB/s avg", got)
	}
	if got := rateText(api.Transfer{State: api.TransferActive, Rate: 2048}); got != "2.0 kB/s" {
		t.Errorf("rate of an active transfer: %q", got)
	}
	if got := rateText(api.Transfer{State: api.TransferFailed}); got != "-" {
		t.Errorf("rate of a failed transfer: %q", got)
	}
}
