package transfer

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
)

// rawCopy is a run of bench/rawcopy: the big file over QUIC or TLS, to a
// synced file (disk, with direct I/O or not) or to nowhere, over one
// connection or striped over several, between namespaces or not.
type rawCopy struct {
	proto          string
	disk, direct   bool
	conns          int
	sendNS, recvNS string
	host           string // where the receiver listens
	outDir         string
}

// copyReport is what the benchmark reads of the JSON result line of
// rawcopy's receiver.
type copyReport struct {
	Bytes   int64          `json:"bytes"`
	Cipher  string         `json:"cipher"`
	Details map[string]any `json:"details"`
}

// rawCopy measures one copy per call: a fresh receiver and sender each
// time, so that each run's CPU time and peak memory are its own.
func (b *benchmark) rawCopy(c rawCopy) runFunc {
	return func(ctx context.Context, round int) (result, error) {
		res := newResult()
		bin := filepath.Join(b.cfg.Bin, "rawcopy")
		common := []string{"--proto", c.proto, "--timeout", timeout(b.size).Round(time.Second).String()}
		if c.conns > 1 {
			common = append(common, "--conns", strconv.Itoa(c.conns))
		}
		serve := append([]string{bin, "serve", "--listen", c.host + ":0"}, common...)
		out := filepath.Join(c.outDir, c.proto+"-copy.bin")
		if c.disk {
			os.Remove(out)
			defer os.Remove(out)
			serve = append(serve, "--out", out)
		}
		if c.direct {
			serve = append(serve, "--direct")
		}
		report, _, err := b.pair(ctx, &res, c.recvNS, c.sendNS, reRawcopy, serve, func(addr string) []string {
			return append(append([]string{bin, "send", "--to", addr}, common...), b.src)
		}, " (timed until it exits: the receiver has written, synced and counted every byte)")
		if err != nil {
			return res, err
		}
		var r copyReport
		lines := strings.Split(strings.TrimSpace(report), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			return res, fmt.Errorf("no result line in rawcopy's output (%v):\n%s", err, report)
		}
		conns, ok := r.Details["conns"].(float64) // 1 when it does not say
		if !ok {
			conns = 1
		}
		if r.Bytes != b.size || int(conns) != max(c.conns, 1) {
			return res, fmt.Errorf("rawcopy received %d bytes over %v connections, not %d over %d", r.Bytes, conns, b.size, max(c.conns, 1))
		}
		res.bytes, res.files, res.info = b.size, 1, describeCopy(r)
		if c.disk {
			return res, checkCopy(b.src, out, b.size, "")
		}
		return res, nil
	}
}

// pair starts the receiver recv in recvNS, waiting for ready (whose
// match send is given), then the sender in sendNS, and waits for the
// sender to exit, then the receiver. res gets the time from the
// sender's start to its exit, both ends' usage and their commands
// (senderNote says what its exit means). It returns the output of both.
func (b *benchmark) pair(ctx context.Context, res *result, recvNS, sendNS string, ready *regexp.Regexp, recv []string, send func(match string) []string, senderNote string) (recvOut, sendOut string, err error) {
	srv, m, err := b.spawn(ctx, filepath.Base(recv[0])+"-receiver", recvNS, nil, ready, recv...)
	if err != nil {
		return "", "", err
	}
	defer srv.Stop()
	start := time.Now()
	snd, _, err := b.spawn(ctx, filepath.Base(recv[0])+"-sender", sendNS, nil, nil, send(m)...)
	if err != nil {
		return "", "", err
	}
	res.cmds = []string{"receiver: `" + srv.Command() + "`", "sender" + senderNote + ": `" + snd.Command() + "`"}
	err = snd.Wait(ctx, timeout(b.size))
	res.elapsed = time.Since(start)
	if err == nil {
		err = srv.Wait(ctx, 10*time.Second)
	}
	res.cpu[0], res.rss[0] = snd.Usage()
	res.cpu[1], res.rss[1] = srv.Usage()
	return srv.Output(), snd.Output(), err
}

// describeCopy summarises rawcopy's receiving side: cipher, connections
// when more than one and, for QUIC, the socket buffers as the kernel
// counts them and GSO.
func describeCopy(r copyReport) string {
	parts := []string{r.Cipher}
	if n, _ := r.Details["conns"].(float64); n > 1 {
		parts = append(parts, fmt.Sprintf("%d connections from one UDP socket per side", int(n)))
	}
	rcv, ok1 := r.Details["socket_rcvbuf"].(float64)
	snd, ok2 := r.Details["socket_sndbuf"].(float64)
	if ok1 && ok2 {
		parts = append(parts, fmt.Sprintf("UDP socket buffers %s receive, %s send (the kernel's count, twice what was set)", stats.Size(int64(rcv)), stats.Size(int64(snd))))
	}
	if gso, ok := r.Details["gso"].(bool); ok {
		parts = append(parts, fmt.Sprintf("GSO %v", gso))
	}
	return strings.Join(parts, ", ")
}

// localCopy measures the disk alone: `cp` of the file to a new one, then
// `sync` of the copy, timed together: the ceiling of every file-to-file
// row.
func (b *benchmark) localCopy(outDir string) runFunc {
	return func(ctx context.Context, round int) (result, error) {
		res := newResult()
		dst := filepath.Join(outDir, "cp-copy.bin")
		os.Remove(dst)
		defer os.Remove(dst)
		start := time.Now()
		var procs [2]*testbed.Process
		for i, argv := range [][]string{{"cp", b.src, dst}, {"sync", dst}} {
			p, _, err := b.spawn(ctx, argv[0], "", nil, nil, argv...)
			if err == nil {
				err = p.Wait(ctx, timeout(b.size))
			}
			if err != nil {
				return res, err
			}
			procs[i] = p
			res.cpu[i], res.rss[i] = p.Usage()
		}
		res.elapsed = time.Since(start)
		res.cmds = []string{"`" + procs[0].Command() + "`", "then `" + procs[1].Command() + "` (fsync of the copy), timed together"}
		res.bytes, res.files = b.size, 1
		return res, checkCopy(b.src, dst, b.size, "")
	}
}

// iperf makes r a run of iperf3: TCP from memory to memory for seconds,
// no encryption, no files; its goodput is the receiver's total. port ""
// takes a free one on loopback.
func (b *benchmark) iperf(r *row, seconds int, serverNS, clientNS, addr, port string) {
	bin, err := exec.LookPath("iperf3")
	if err != nil {
		r.notRun = fmt.Sprintf("no iperf3 (%v); install it with `apt-get update && apt-get install -y iperf3`", err)
		return
	}
	r.run = func(ctx context.Context, round int) (result, error) {
		res := newResult()
		p := port
		if p == "" {
			ln, err := net.Listen("tcp", addr+":0")
			if err != nil {
				return res, err
			}
			p = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			ln.Close()
		}
		_, out, err := b.pair(ctx, &res, serverNS, clientNS, reIperf, []string{bin, "-s", "-1", "-B", addr, "-p", p, "--forceflush"}, func(string) []string {
			return []string{bin, "-c", addr, "-p", p, "-t", strconv.Itoa(seconds), "-J"}
		}, " (goodput: end.sum_received of its JSON)")
		if err != nil {
			return res, err
		}
		return parseIperf(res, out)
	}
}

// parseIperf reads the receiver's totals out of `iperf3 -J` output into
// res.
func parseIperf(res result, out string) (result, error) {
	var doc struct {
		Error string `json:"error"`
		End   struct {
			SumSent struct {
				Retransmits int64 `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				Bytes   float64 `json:"bytes"`
				Seconds float64 `json:"seconds"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return res, fmt.Errorf("iperf3 output: %w", err)
	}
	s := doc.End.SumReceived
	if doc.Error != "" || s.Bytes <= 0 || s.Seconds <= 0 {
		return res, errors.New("iperf3: no received totals: " + doc.Error)
	}
	res.bytes, res.files = int64(s.Bytes), 1
	res.elapsed = time.Duration(s.Seconds * float64(time.Second))
	res.info = fmt.Sprintf("%d retransmits", doc.End.SumSent.Retransmits)
	return res, nil
}

// croc makes r a run of croc in a network namespace of its own, with
// nothing but a loopback interface: its relay listens on every address
// and its client would look up the public relay and multicast on the
// LAN for peers, and there none of that can leave the namespace. Its
// HOME is in the workspace. A run starts the sender, then, once it has
// shown its code, the receiver; the time runs from the sender's start
// until both have exited and the received file is synced (croc does not
// sync it itself, the other file-to-file rows do).
func (b *benchmark) croc(ctx context.Context, end *testbed.Stack, r *row, outDir string) {
	bin, err := exec.LookPath(filepath.Join(b.cfg.Bin, "croc"))
	if err != nil {
		if bin, err = exec.LookPath("croc"); err != nil {
			r.notRun = "no croc binary in --bin or on PATH; install it with `go install github.com/schollz/croc/v10@v10.7.0`"
			return
		}
	}
	ns, err := b.ns.Add(ctx, "c")
	if err != nil {
		r.notRun = fmt.Sprintf("croc's isolated network namespace: %v", err)
		return
	}
	end.Cleanup(func() { b.ns.Remove(ns) })
	home := filepath.Join(b.dir, "croc-home")
	env := []string{"HOME=" + home}
	flags := []string{bin, "--relay", "127.0.0.1:9009", "--pass", "xferload-" + rand.Text(), "--no-compress", "--yes", "--ignore-stdin"}
	err = os.MkdirAll(home, 0o700)
	var relay *testbed.Process
	if err == nil {
		relay, _, err = b.spawn(ctx, "croc-relay", ns, env, reCrocRelayUp, bin, "--pass", flags[4], "relay", "--host", "127.0.0.1", "--ports", crocPorts)
	}
	if err != nil {
		r.notRun = fmt.Sprintf("could not start croc's relay: %v", err)
		return
	}
	end.Cleanup(func() { relay.Stop() })
	r.run = func(ctx context.Context, round int) (result, error) {
		res := newResult()
		out := filepath.Join(outDir, fmt.Sprintf("croc-%d", round+1))
		defer os.RemoveAll(out)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return res, err
		}
		env := append(slices.Clone(env), "CROC_SECRET=xferload-"+rand.Text())
		rw := testbed.StartWatch(relay.PID())
		defer rw.Stop()
		start := time.Now()
		snd, _, err := b.spawn(ctx, "croc-send", ns, env, reCrocCode, append(slices.Clone(flags), "--disable-clipboard", "send", "--no-local", b.src)...)
		if err != nil {
			return res, err
		}
		defer snd.Stop()
		rcv, _, err := b.spawn(ctx, "croc-receive", ns, env, nil, append(slices.Clone(flags), "--overwrite", "--out", out)...)
		if err != nil {
			return res, err
		}
		res.cmds = []string{"relay: `" + relay.Command() + "` (HOME in the workspace)", "sender: `CROC_SECRET=… " + snd.Command() + "`",
			"receiver, started once the sender printed its code: `CROC_SECRET=… " + rcv.Command() + "`",
			"timed from the sender's start until both exited and the received file was fsynced by xferload"}
		got := filepath.Join(out, filepath.Base(b.src))
		err = rcv.Wait(ctx, timeout(b.size))
		if err == nil {
			err = snd.Wait(ctx, 30*time.Second)
		}
		var f *os.File
		if err == nil {
			f, err = os.Open(got)
		}
		if err == nil {
			err = errors.Join(f.Sync(), f.Close())
		}
		res.elapsed = time.Since(start)
		if err != nil {
			return res, err
		}
		res.cpu[0], res.rss[0] = snd.Usage()
		res.cpu[1], res.rss[1] = rcv.Usage()
		res.bytes, res.files = b.size, 1
		if cpu, _, _ := rw.Stop(); cpu >= 0 {
			res.info = fmt.Sprintf("relay CPU %.1fs", cpu.Seconds())
		}
		return res, checkCopy(b.src, got, b.size, "")
	}
}
