package transfer

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
)

// Row names, as the tables show them.
const (
	// rowLanchat is the row every "lanchat ÷ this" divides by.
	rowLanchat     = "lanchat"
	rowQUIC        = "raw quic-go copy (bench/rawcopy)"
	rowQUIC2       = "raw quic-go copy (bench/rawcopy), 2 connections"
	rowTLS         = "TLS 1.3 over TCP copy (bench/rawcopy --proto tls)"
	rowIperf       = "iperf3"
	rowCroc        = "croc --no-compress, via croc relay"
	rowLocal       = "local copy, no network (cp, then sync)"
	pathFileToFile = "file → file + fsync"
	pathDiscard    = "file → discard"
	pathDirect     = pathFileToFile + ", direct I/O (as lanchat)"
	pathLanchat    = "daemon → daemon, " + pathFileToFile + " (chunk hashes, direct I/O, rename)"
	fileDone       = " (bob's daemon has the whole verified file in place)"
)

// loopbackSection measures the big file on 127.0.0.1: lanchat, then
// each baseline, run after run.
func (b *benchmark) loopbackSection(ctx context.Context) error {
	out := filepath.Join(b.dir, "received")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	big := &section{title: fmt.Sprintf("One file of %s on loopback (127.0.0.1)", stats.Size(b.size)), kind: bigFile}
	b.sections = append(b.sections, big)

	// lanchat first, so that a failure to set it up shows at once.
	lan := big.add(&row{name: rowLanchat, path: pathLanchat, lanchat: true})
	c, err := b.setUpLanchat(ctx, loopback, "lanchat-loopback", lan)
	if err != nil {
		return err
	}
	defer b.stopCluster(c)
	if c != nil {
		lan.run = b.lanchatRun(c, b.src, 1, b.size, b.srcHash, fileDone)
	}

	quic := rawCopy{proto: "quic", src: b.src, size: b.size, outDir: out, recvListen: "127.0.0.1:0"}
	tls := rawCopy{proto: "tls", src: b.src, size: b.size, outDir: out, recvListen: "127.0.0.1:0"}
	diskQUIC, diskTLS := quic, tls
	diskQUIC.toDisk, diskTLS.toDisk = true, true
	diskQUIC2 := diskQUIC
	diskQUIC2.conns = 2
	big.add(&row{name: rowQUIC, path: pathFileToFile, run: diskQUIC.runner(b)})
	big.add(&row{name: rowQUIC2, path: pathFileToFile, run: diskQUIC2.runner(b)})
	directQUIC := diskQUIC
	directQUIC.direct = true
	big.add(&row{name: rowQUIC, path: pathDirect, run: directQUIC.runner(b)})
	// The discard rows only show where the network's ceiling is: one run
	// each keeps the whole benchmark within its time.
	big.add(&row{name: rowQUIC, path: pathDiscard, maxRuns: 1, run: quic.runner(b)})
	big.add(&row{name: rowTLS, path: pathFileToFile, run: diskTLS.runner(b)})
	big.add(&row{name: rowTLS, path: pathDiscard, maxRuns: 1, run: tls.runner(b)})
	ip := big.add(&row{name: rowIperf, path: "memory → memory, TCP, no encryption"})
	if bin, err := exec.LookPath("iperf3"); err != nil {
		ip.notRun = fmt.Sprintf("no iperf3 (%v); install it with `apt-get update && apt-get install -y iperf3`", err)
	} else {
		ip.run = iperf{bin: bin, seconds: iperfTime, addr: "127.0.0.1", port: freeTCPPort}.runner(b)
	}
	cr := big.add(&row{name: rowCroc, path: pathFileToFile + " (by xferload)"})
	var cc *croc
	if bin, err := b.crocBinary(); err != nil {
		cr.notRun = err.Error()
	} else if cc, err = b.startCroc(ctx, bin); err != nil {
		cr.notRun = fmt.Sprintf("could not start croc's relay: %v", err)
	} else {
		cr.run = cc.runner(b, b.src, b.size, out)
	}
	big.add(&row{name: rowLocal, path: pathFileToFile, maxRuns: 1, run: b.localCopy(out)})

	err = b.runRounds(ctx, big.rows)
	if cc != nil {
		if serr := cc.stop(); serr != nil {
			b.Note("stopping croc's relay: %v", serr)
		}
		if rerr := b.ns.Remove(cc.ns); rerr != nil {
			b.Note("removing croc's namespace: %v", rerr)
		}
	}
	return err
}

// filesSection measures the folder of small files on 127.0.0.1 with
// lanchat, run after run.
func (b *benchmark) filesSection(ctx context.Context) error {
	small := &section{title: fmt.Sprintf("A folder of %d files of %s on loopback", b.cfg.files, stats.Size(fileSize)), kind: smallFiles}
	b.sections = append(b.sections, small)
	lan := small.add(&row{name: rowLanchat, path: fmt.Sprintf("daemon → daemon, folder of %d files → folder", b.cfg.files), lanchat: true})
	c, err := b.setUpLanchat(ctx, loopback, "lanchat-files", lan)
	if err != nil {
		return err
	}
	defer b.stopCluster(c)
	if c != nil {
		lan.run = b.lanchatRun(c, b.small, b.cfg.files, int64(b.cfg.files)*fileSize, "", "")
	}
	return b.runRounds(ctx, small.rows)
}

// linkSection measures the big file between two network namespaces
// joined by a veth pair shaped to the configured rate: iperf3, lanchat
// and the raw quic-go copy, run after run.
func (b *benchmark) linkSection(ctx context.Context) error {
	sec := &section{title: fmt.Sprintf("One file of %s over an emulated %s link (two network namespaces)", stats.Size(b.size), b.cfg.link), kind: shapedLink}
	b.sections = append(b.sections, sec)
	ip := sec.add(&row{name: rowIperf, path: "memory → memory, TCP, no encryption"})
	lan := sec.add(&row{name: rowLanchat, path: pathLanchat, lanchat: true})
	// The raw copies tell lanchat's own cost apart from QUIC's on the
	// link; one run of each is enough for that.
	quic := sec.add(&row{name: rowQUIC, path: pathFileToFile, maxRuns: 1})
	quic2 := sec.add(&row{name: rowQUIC2, path: pathFileToFile, maxRuns: 1})

	l, err := b.ns.Link(ctx, linkSubnet, testbed.TBF(b.cfg.link))
	if err != nil {
		for _, r := range sec.rows {
			r.notRun = fmt.Sprintf("could not make the link: %v", err)
		}
		return nil
	}
	defer func() {
		for _, ns := range []string{l.A, l.B} {
			if err := b.ns.Remove(ns); err != nil {
				b.Note("removing %s: %v", ns, err)
			}
		}
	}()
	b.linkDesc = l.Describe()
	b.Say("link: %s and %s joined by a veth pair, %s on both ends", l.A, l.B, l.Shape)

	if bin, err := exec.LookPath("iperf3"); err != nil {
		ip.notRun = fmt.Sprintf("no iperf3 (%v)", err)
	} else {
		ip.run = iperf{bin: bin, seconds: linkIperfTime, serverNS: l.B, clientNS: l.A, addr: l.AddrB,
			port: func() (int, error) { return 5201, nil }}.runner(b)
	}
	out := filepath.Join(b.dir, "received-link")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	raw := rawCopy{proto: "quic", src: b.src, size: b.size, toDisk: true, outDir: out,
		sendNS: l.A, recvNS: l.B, recvListen: l.AddrB + ":0"}
	quic.run = raw.runner(b)
	raw.conns = 2
	quic2.run = raw.runner(b)
	c, err := b.setUpLanchat(ctx, onLink(l), "lanchat-link", lan)
	if err != nil {
		return err
	}
	// Deferred after the namespaces' removal, so it runs before it.
	defer b.stopCluster(c)
	if c != nil {
		lan.run = b.lanchatRun(c, b.src, 1, b.size, b.srcHash, fileDone)
	}
	return b.runRounds(ctx, sec.rows)
}

// setUpLanchat starts a cluster placed as at and checks it with a small
// transfer. If lanchat cannot be measured, it returns a nil cluster and
// the row says why instead. Only a cancelled ctx is an error. The caller
// stops the cluster (stopCluster).
func (b *benchmark) setUpLanchat(ctx context.Context, at placement, dir string, r *row) (*cluster, error) {
	if b.lanchatErr != nil {
		r.notRun = b.lanchatErr.Error()
		return nil, nil
	}
	c, err := startCluster(ctx, b.cfg.Bin, filepath.Join(b.dir, dir), at)
	if err == nil {
		b.Say("lanchat: server pid %d on %s, alice's daemon pid %d, bob's pid %d (downloads %s)",
			c.server.PID(), c.server.Addr, c.alice.PID(), c.bob.PID(), c.downloads)
		// A 1 MiB warm-up transfer opens the direct connection and shows
		// that transfers work before any is timed.
		src := filepath.Join(c.dir, "warm-up.bin")
		var hash string
		if hash, err = writeRandomFile(src, stats.MiB); err == nil {
			_, _, err = b.lanchatRun(c, src, 1, stats.MiB, hash, "")(ctx, 0)
		}
		if err != nil {
			err = fmt.Errorf("warm-up transfer of 1 MiB: %w", err)
		}
	}
	if err != nil {
		b.stopCluster(c)
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		b.Say("lanchat could not be set up: %v", err)
		r.notRun = fmt.Sprintf("setting up: %v", err)
		return nil, nil
	}
	return c, nil
}

// stopCluster stops a cluster's processes, noting what went wrong, and
// looks through the daemons' logs for warnings.
func (b *benchmark) stopCluster(c *cluster) {
	if c == nil {
		return
	}
	if err := c.stop(); err != nil {
		b.Note("stopping lanchat: %v", err)
	}
	for _, d := range []*testbed.Daemon{c.alice, c.bob} {
		if d == nil {
			continue
		}
		if n, first := d.Warnings(3); n > 0 {
			b.Note("%s's daemon (%s) logged %d warnings or errors; the first: %s", d.Name, c.dir, n, strings.Join(first, " | "))
		}
	}
}

// lanchatRun sends src, a file (files 1) or a folder of files, per run
// with `lanchat send-file`, and checks what bob received: the size and,
// for a file's first run, its SHA-256; done says what the timed run
// waits for.
func (b *benchmark) lanchatRun(c *cluster, src string, files int, total int64, hash, done string) runner {
	return func(ctx context.Context, round int) (result, []string, error) {
		res, p, err := b.sendFile(ctx, c, src, timeout(total)+time.Duration(files-1)*10*time.Millisecond)
		cmds := c.commands()
		if p != nil {
			cmds = append(cmds, "timed: `"+p.Command()+"`, from its start until it exits 0"+done)
		}
		if err != nil {
			return res, cmds, err
		}
		res.info = b.daemonRate(ctx, c, total)
		got, err := findReceived(c.downloads, filepath.Base(src))
		if err != nil {
			return res, cmds, err
		}
		defer os.RemoveAll(got)
		if files == 1 {
			if round > 0 {
				hash = ""
			}
			err = checkCopy(got, total, hash)
		} else if n, bytes, cerr := countFiles(got); cerr != nil {
			err = cerr
		} else if n != files || bytes != total {
			err = fmt.Errorf("received %d files, %d bytes in %s; sent %d files, %d bytes", n, bytes, got, files, total)
		}
		res.bytes, res.files = total, files
		return res, cmds, err
	}
}

// daemonRate asks bob's daemon what it recorded for the transfer just
// done, for the notes.
func (b *benchmark) daemonRate(ctx context.Context, c *cluster, total int64) string {
	t, err := b.received(ctx, c.bob, total)
	if err != nil {
		return fmt.Sprintf("transfers: %v", err)
	}
	if t == nil {
		return fmt.Sprintf("no received transfer of %d bytes in `lanchat --json transfers`", total)
	}
	out := fmt.Sprintf("bob's `transfers`: %s, %d of %d bytes", t.State, t.Done, t.Total)
	if t.State != "done" {
		out = "**after send-file exited 0**, " + out
	}
	if t.Rate > 0 {
		out += fmt.Sprintf(", rate %s MB/s", stats.Number(megabytes(t.Rate)))
	}
	return out
}

// findReceived returns where a received file or folder named name is in
// downloads: under its own name, or else the only entry there.
func findReceived(downloads, name string) (string, error) {
	p := filepath.Join(downloads, name)
	if _, err := os.Lstat(p); err == nil {
		return p, nil
	}
	entries, err := os.ReadDir(downloads)
	if err != nil {
		return "", fmt.Errorf("received %s: %w", name, err)
	}
	var names []string
	for _, e := range entries {
		if e.Name()[0] != '.' {
			names = append(names, e.Name())
		}
	}
	if len(names) == 1 {
		return filepath.Join(downloads, names[0]), nil
	}
	return "", fmt.Errorf("received %s: not in %s, which holds %q", name, downloads, names)
}

// crocBinary finds croc: in --bin, on PATH, or where go
// install puts it.
func (b *benchmark) crocBinary() (string, error) {
	candidates := []string{filepath.Join(b.cfg.Bin, "croc"), "croc"}
	if gp := os.Getenv("GOPATH"); gp != "" {
		candidates = append(candidates, filepath.Join(gp, "bin", "croc"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "go", "bin", "croc"))
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no croc binary (looked for %v); install it with `go install github.com/schollz/croc/v10@v10.7.0`", candidates)
}

// freeTCPPort returns a TCP port free on 127.0.0.1 just now.
func freeTCPPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
