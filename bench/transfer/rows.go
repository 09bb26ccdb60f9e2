package transfer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
)

// Row names and data paths, as the tables show them.
const (
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
	pathMemory     = "memory → memory, TCP, no encryption"
	fileDone       = " (bob's daemon has the whole verified file in place)"
)

var (
	reRawcopy     = regexp.MustCompile(`(?m)^rawcopy listening on (\S+)`)
	reIperf       = regexp.MustCompile(`(?m)^Server listening on (\d+)`)
	reCrocRelayUp = regexp.MustCompile(`(?s)(starting TCP server on \S+.*){5}`)
	reCrocCode    = regexp.MustCompile(`Code is: \S+`)
)

// crocPorts are the croc relay's ports (its defaults) inside croc's own
// namespace.
const crocPorts = "9009,9010,9011,9012,9013"

// loopbackSection measures the big file on 127.0.0.1: lanchat, then
// each baseline, run after run.
func (b *benchmark) loopbackSection(ctx context.Context) error {
	out := filepath.Join(b.dir, "received")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var end testbed.Stack
	defer end.Close()
	lo := func(proto string, disk, direct bool, conns int) runFunc {
		return b.rawCopy(rawCopy{proto: proto, disk: disk, direct: direct, conns: conns, host: "127.0.0.1", outDir: out})
	}
	lan := &row{name: rowLanchat, path: pathLanchat, lanchat: true}
	ip := &row{name: rowIperf, path: pathMemory}
	croc := &row{name: rowCroc, path: pathFileToFile + " (by xferload)"}
	b.sections = append(b.sections, &section{title: fmt.Sprintf("One file of %s on loopback (127.0.0.1)", stats.Size(b.size)), kind: bigFile, rows: []*row{
		lan,
		{name: rowQUIC, path: pathFileToFile, run: lo("quic", true, false, 1)},
		{name: rowQUIC2, path: pathFileToFile, run: lo("quic", true, false, 2)},
		{name: rowQUIC, path: pathDirect, run: lo("quic", true, true, 1)},
		// The discard rows only show where the network's ceiling is.
		{name: rowQUIC, path: pathDiscard, once: true, run: lo("quic", false, false, 1)},
		{name: rowTLS, path: pathFileToFile, run: lo("tls", true, false, 1)},
		{name: rowTLS, path: pathDiscard, once: true, run: lo("tls", false, false, 1)},
		ip, croc,
		{name: rowLocal, path: pathFileToFile, once: true, run: b.localCopy(out)},
	}})
	if err := b.setUpLanchat(ctx, &end, lan, "lanchat-loopback", placement{serverHost: "127.0.0.1", bobHost: "127.0.0.1"}, b.src, 1, b.size, b.srcHash); err != nil {
		return err
	}
	b.iperf(ip, iperfTime, "", "", "127.0.0.1", "")
	b.croc(ctx, &end, croc, out)
	return b.runRounds(ctx, b.sections[len(b.sections)-1].rows)
}

// filesSection measures the folder of small files on 127.0.0.1 with
// lanchat, run after run.
func (b *benchmark) filesSection(ctx context.Context) error {
	var end testbed.Stack
	defer end.Close()
	lan := &row{name: rowLanchat, path: fmt.Sprintf("daemon → daemon, folder of %d files → folder", b.cfg.files), lanchat: true}
	b.sections = append(b.sections, &section{title: fmt.Sprintf("A folder of %d files of %s on loopback", b.cfg.files, stats.Size(fileSize)), kind: smallFiles, rows: []*row{lan}})
	total := int64(b.cfg.files) * fileSize
	if err := b.setUpLanchat(ctx, &end, lan, "lanchat-files", placement{serverHost: "127.0.0.1", bobHost: "127.0.0.1"}, b.small, b.cfg.files, total, ""); err != nil {
		return err
	}
	return b.runRounds(ctx, []*row{lan})
}

// linkSection measures the big file between two network namespaces
// joined by a veth pair shaped to the configured rate: iperf3, lanchat
// and the raw quic-go copy (once each: enough to tell lanchat's own cost
// apart from QUIC's), run after run.
func (b *benchmark) linkSection(ctx context.Context) error {
	rows := []*row{{name: rowIperf, path: pathMemory}, {name: rowLanchat, path: pathLanchat, lanchat: true},
		{name: rowQUIC, path: pathFileToFile, once: true}, {name: rowQUIC2, path: pathFileToFile, once: true}}
	ip, lan, quic, quic2 := rows[0], rows[1], rows[2], rows[3]
	b.sections = append(b.sections, &section{title: fmt.Sprintf("One file of %s over an emulated %s link (two network namespaces)", stats.Size(b.size), b.cfg.link), kind: shapedLink, rows: rows})
	l, err := b.ns.Link(ctx, linkSubnet, testbed.TBF(b.cfg.link))
	if err != nil {
		for _, r := range rows {
			r.notRun = fmt.Sprintf("could not make the link: %v", err)
		}
		return nil
	}
	var end testbed.Stack
	defer end.Close()
	end.Cleanup(func() { b.ns.Remove(l.A); b.ns.Remove(l.B) })
	b.linkDesc = l.Describe()
	b.Say("link: %s and %s joined by a veth pair, %s on both ends", l.A, l.B, strings.Join(l.Shape, " "))
	out := filepath.Join(b.dir, "received-link")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	raw := rawCopy{proto: "quic", disk: true, outDir: out, sendNS: l.A, recvNS: l.B, host: l.AddrB}
	quic.run = b.rawCopy(raw)
	raw.conns = 2
	quic2.run = b.rawCopy(raw)
	b.iperf(ip, linkIperfTime, l.B, l.A, l.AddrB, "5201")
	at := placement{serverNS: l.A, aliceNS: l.A, bobNS: l.B, serverHost: l.AddrA, bobHost: l.AddrB}
	if err := b.setUpLanchat(ctx, &end, lan, "lanchat-link", at, b.src, 1, b.size, b.srcHash); err != nil {
		return err
	}
	return b.runRounds(ctx, rows)
}

// placement says where the server and the two daemons run: their
// network namespaces ("" for this one) and listening hosts (alice
// listens where the server does).
type placement struct {
	serverNS, aliceNS, bobNS string
	serverHost, bobHost      string
}

// cluster is a rendezvous server and two lanchat daemons: alice sends,
// bob receives into his downloads folder, accepting from contacts
// automatically.
type cluster struct {
	server     *testbed.Server
	alice, bob *testbed.Daemon
	downloads  string // bob's
}

// setUpLanchat starts a cluster placed as at, checks it with a 1 MiB
// warm-up transfer (which also opens the direct connection), and makes
// r send src (a file, or a folder of files) with `lanchat send-file`. If
// that cannot be done, r says why; only a cancelled ctx is an error. end
// stops the processes.
func (b *benchmark) setUpLanchat(ctx context.Context, end *testbed.Stack, r *row, dir string, at placement, src string, files int, total int64, hash string) error {
	dir = filepath.Join(b.dir, dir)
	c, err := b.startCluster(ctx, end, dir, at)
	if err == nil {
		warm := filepath.Join(dir, "warm-up.bin")
		var h string
		if h, err = writeRandomFile(warm, stats.MiB); err == nil {
			_, err = b.sendFile(c, warm, 1, stats.MiB, h, "")(ctx, 0)
		}
		if err != nil {
			err = fmt.Errorf("warm-up transfer of 1 MiB: %w", err)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		b.Say("lanchat could not be set up: %v", err)
		r.notRun = fmt.Sprintf("setting up: %v", err)
		return nil
	}
	done := ""
	if files == 1 {
		done = fileDone
	}
	r.run = b.sendFile(c, src, files, total, hash, done)
	return nil
}

// startCluster starts the server and both daemons under dir, registers
// alice and bob and makes them friends. Password hashing is made cheap:
// logging in is not what is measured.
func (b *benchmark) startCluster(ctx context.Context, end *testbed.Stack, dir string, at placement) (*cluster, error) {
	srv, err := testbed.StartServerCmd(ctx, at.serverNS, b.cfg.Bin, at.serverHost+":0", filepath.Join(dir, "server"), "--argon2-memory", "256", "--argon2-time", "1")
	if err != nil {
		return nil, err
	}
	end.Cleanup(func() { srv.Stop() })
	c := &cluster{server: srv, downloads: filepath.Join(dir, "bob-downloads")}
	for _, u := range []struct {
		d              **testbed.Daemon
		name, ns, host string
	}{{&c.alice, "alice", at.aliceNS, at.serverHost}, {&c.bob, "bob", at.bobNS, at.bobHost}} {
		downloads := filepath.Join(dir, u.name+"-downloads")
		if err := os.MkdirAll(downloads, 0o755); err != nil {
			return nil, err
		}
		d, err := testbed.StartDaemon(ctx, u.ns, b.cfg.Bin, u.name, filepath.Join(dir, u.name), "--server", srv.Addr,
			"--server-fingerprint", srv.Fingerprint, "--listen", u.host+":0", "--no-mdns", "--downloads", downloads)
		if err != nil {
			return nil, err
		}
		end.Cleanup(func() {
			if err := d.Stop(); err != nil {
				b.Note("stopping lanchat: %v", err)
			}
			if n, first := d.Warnings(3); n > 0 {
				b.Note("%s's daemon (%s) logged %d warnings or errors; the first: %s", d.Name, dir, n, strings.Join(first, " | "))
			}
		})
		*u.d = d
		if err := d.Register(ctx); err != nil {
			return nil, err
		}
	}
	b.Say("lanchat: server pid %d on %s, alice's daemon pid %d, bob's pid %d", srv.PID(), srv.Addr, c.alice.PID(), c.bob.PID())
	return c, testbed.Befriend(ctx, c.alice, c.bob)
}

// sendFile runs `lanchat send-file bob SRC` on alice's side, timed until
// it exits 0, with both daemons' CPU and memory over the run, and checks
// what bob received: a file's size and SHA-256 (on later runs, blocks
// compared with src) or a folder's files and bytes. done says what the
// exit means.
func (b *benchmark) sendFile(c *cluster, src string, files int, total int64, hash, done string) runFunc {
	return func(ctx context.Context, round int) (result, error) {
		res := newResult()
		wa, wb := testbed.StartWatch(c.alice.PID()), testbed.StartWatch(c.bob.PID())
		start := time.Now()
		p, _, err := b.spawn(ctx, "send-file", "", nil, nil, filepath.Join(b.cfg.Bin, "lanchat"), "--home", c.alice.Home, "send-file", c.bob.Name, src)
		if err == nil {
			err = p.Wait(ctx, timeout(total)+time.Duration(files)*10*time.Millisecond)
			res.cmds = []string{"server: `" + c.server.Command() + "`", "alice's daemon: `" + c.alice.Command() + "`", "bob's daemon: `" + c.bob.Command() + "`",
				"alice and bob registered through their daemons' local API (POST /v1/register, what `lanchat register` does); alice asked bob to be friends, bob accepted (`lanchat friend add bob`, `lanchat friend accept alice`)",
				"timed: `" + p.Command() + "`, from its start until it exits 0" + done}
		}
		res.elapsed = time.Since(start)
		res.cpu[0], res.rss[0], _ = wa.Stop()
		res.cpu[1], res.rss[1], _ = wb.Stop()
		if err != nil {
			return res, err
		}
		res.bytes, res.files, res.info = total, files, b.daemonRate(ctx, c, total)
		got := filepath.Join(c.downloads, filepath.Base(src))
		defer os.RemoveAll(got)
		if files == 1 {
			if round > 0 {
				hash = ""
			}
			return res, checkCopy(src, got, total, hash)
		}
		if n, bytes, err := countFiles(got); err != nil || n != files || bytes != total {
			return res, fmt.Errorf("received %d files, %d bytes in %s (%v); sent %d files, %d bytes", n, bytes, got, err, files, total)
		}
		return res, nil
	}
}

// daemonRate says what bob's daemon recorded for the transfer just done
// (GET /v1/transfers, what `lanchat transfers` shows), for the notes.
func (b *benchmark) daemonRate(ctx context.Context, c *cluster, total int64) string {
	ts, err := c.bob.API.Transfers(ctx)
	if err != nil {
		return fmt.Sprintf("transfers: %v", err)
	}
	for _, t := range slices.Backward(ts) {
		if t.Direction == "receive" && t.Total == total {
			s := fmt.Sprintf("bob's `transfers`: %s, %d of %d bytes", t.State, t.Done, t.Total)
			if t.State != "done" {
				s = "**after send-file exited 0**, " + s
			}
			if t.Rate > 0 {
				s += fmt.Sprintf(", rate %s MB/s", stats.Number(t.Rate/1e6))
			}
			return s
		}
	}
	return fmt.Sprintf("no received transfer of %d bytes in bob's `transfers`", total)
}
