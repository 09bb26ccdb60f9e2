package transfer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/lanchat/lanchat/internal/testbed"
)

// crocPorts are the croc relay's ports (its defaults) inside croc's own
// namespace.
const crocPorts = "9009,9010,9011,9012,9013"

var (
	reCrocRelayUp = regexp.MustCompile(`(?s)(starting TCP server on \S+.*){5}`)
	reCrocCode    = regexp.MustCompile(`Code is: \S+`)
)

// croc runs croc in a network namespace of its own, with nothing but a
// loopback interface: its relay listens on every address and its client
// would look up the public relay and multicast on the LAN for peers, and
// there none of that can leave the namespace. Its HOME is in the
// workspace, so it writes no configuration anywhere else.
type croc struct {
	bin   string
	ns    string
	env   []string
	pass  string
	relay *testbed.Process
}

// startCroc makes croc's namespace and starts its relay there.
func (b *benchmark) startCroc(ctx context.Context, bin string) (*croc, error) {
	ns, err := b.ns.Add(ctx, "c")
	if err != nil {
		return nil, fmt.Errorf("croc's isolated network namespace: %w", err)
	}
	home := filepath.Join(b.dir, "croc-home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	c := &croc{bin: bin, ns: ns, env: []string{"HOME=" + home}, pass: "xferload-" + randomHex(8)}
	c.relay, err = b.spawn("croc-relay", ns, c.env, bin, "--pass", c.pass, "relay", "--host", "127.0.0.1", "--ports", crocPorts)
	if err != nil {
		return nil, err
	}
	if _, err := c.relay.WaitLine(ctx, reCrocRelayUp, testbed.StartTimeout); err != nil {
		return nil, err
	}
	return c, nil
}

// stop stops the relay.
func (c *croc) stop() error {
	if c == nil || c.relay == nil {
		return nil
	}
	return c.relay.Stop()
}

// runner sends src through the relay: the sender starts, and once it
// has shown its code the receiver starts; the time runs from the
// sender's start until both have exited and the received file is synced
// (croc does not sync it itself, the other file-to-file rows do).
func (c *croc) runner(b *benchmark, src string, size int64, outDir string) runner {
	relay := "127.0.0.1:" + crocPorts[:4]
	return func(ctx context.Context, round int) (result, []string, error) {
		res := result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}}
		env := append(c.env, "CROC_SECRET=xferload-"+randomHex(8))
		out := filepath.Join(outDir, fmt.Sprintf("croc-%d", round+1))
		if err := os.MkdirAll(out, 0o755); err != nil {
			return res, nil, err
		}
		defer os.RemoveAll(out)
		rw := testbed.StartWatch(c.relay.PID())
		start := time.Now()
		snd, err := b.spawn("croc-send", c.ns, env, c.bin, "--relay", relay, "--pass", c.pass, "--no-compress", "--yes",
			"--ignore-stdin", "--disable-clipboard", "send", "--no-local", src)
		if err != nil {
			rw.Stop()
			return res, nil, err
		}
		defer snd.Stop()
		if _, err := snd.WaitLine(ctx, reCrocCode, testbed.StartTimeout); err != nil {
			rw.Stop()
			return res, nil, err
		}
		rcv, err := b.spawn("croc-receive", c.ns, env, c.bin, "--relay", relay, "--pass", c.pass, "--no-compress", "--yes",
			"--ignore-stdin", "--overwrite", "--out", out)
		if err != nil {
			rw.Stop()
			return res, nil, err
		}
		cmds := []string{
			"relay: `" + c.relay.Command() + "` (HOME in the workspace)",
			"sender: `CROC_SECRET=… " + snd.Command() + "`",
			"receiver, started once the sender printed its code: `CROC_SECRET=… " + rcv.Command() + "`",
			"timed from the sender's start until both exited and the received file was fsynced by xferload",
		}
		limit := timeout(size)
		err = rcv.Wait(ctx, limit)
		if err == nil {
			err = snd.Wait(ctx, 30*time.Second)
		}
		got := filepath.Join(out, filepath.Base(src))
		if err == nil {
			err = syncFile(got)
		}
		res.elapsed = time.Since(start)
		relayCPU, _, _ := rw.Stop()
		if err != nil {
			return res, cmds, err
		}
		res.cpu[0], res.rss[0] = snd.Usage()
		res.cpu[1], res.rss[1] = rcv.Usage()
		res.bytes, res.files = size, 1
		if relayCPU >= 0 {
			res.info = fmt.Sprintf("relay CPU %.1fs", relayCPU.Seconds())
		}
		return res, cmds, spotCheck(src, got, size)
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
