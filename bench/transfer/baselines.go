package transfer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lanchat/lanchat/bench/internal/stats"
	"github.com/lanchat/lanchat/internal/testbed"
)

// copyReport is what the benchmark reads of the JSON result line each
// end of bench/rawcopy prints.
type copyReport struct {
	Role    string         `json:"role"`
	Bytes   int64          `json:"bytes"`
	Sink    string         `json:"sink"`
	Cipher  string         `json:"cipher"`
	Details map[string]any `json:"details"`
}

// rawCopy describes a run of bench/rawcopy.
type rawCopy struct {
	proto      string // "quic" or "tls"
	src        string
	size       int64
	toDisk     bool
	outDir     string // where the receiver writes, when toDisk
	sendNS     string // network namespaces of the two ends ("" for this one)
	recvNS     string
	recvListen string // the server's listening address
	// conns is how many connections a quic copy stripes the file over;
	// 0 or 1 for one, when --conns is not passed.
	conns int
	// direct has the receiver write the file with direct I/O
	// (rawcopy serve --direct), as lanchat writes a big file.
	direct bool
}

// connsArgs returns the --conns flag both ends take, if any.
func (c rawCopy) connsArgs() []string {
	if c.conns <= 1 {
		return nil
	}
	return []string{"--conns", strconv.Itoa(c.conns)}
}

// runner measures one copy per call: a fresh server and client each
// time, so that each run's CPU time and peak memory are its own.
func (c rawCopy) runner(b *benchmark) runner {
	reListen := regexp.MustCompile(`(?m)^rawcopy listening on (\S+)`)
	tool := c.proto + " copy"
	return func(ctx context.Context, round int) (result, []string, error) {
		res := result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}}
		bin := filepath.Join(b.cfg.Bin, "rawcopy")
		limit := timeout(c.size)
		serveArgs := append([]string{"serve", "--proto", c.proto, "--listen", c.recvListen, "--timeout", limit.Round(time.Second).String()}, c.connsArgs()...)
		out := ""
		if c.toDisk {
			out = filepath.Join(c.outDir, fmt.Sprintf("%s-copy.bin", c.proto))
			os.Remove(out)
			serveArgs = append(serveArgs, "--out", out)
			if c.direct {
				serveArgs = append(serveArgs, "--direct")
			}
		}
		srv, err := b.spawn("rawcopy-"+c.proto+"-serve", c.recvNS, nil, bin, serveArgs...)
		if err != nil {
			return res, nil, err
		}
		defer srv.Stop()
		addr, err := srv.WaitLine(ctx, reListen, testbed.StartTimeout)
		if err != nil {
			return res, nil, err
		}
		start := time.Now()
		sendArgs := append([]string{"send", "--proto", c.proto, "--to", addr, "--timeout", limit.Round(time.Second).String()}, c.connsArgs()...)
		cli, err := b.spawn("rawcopy-"+c.proto+"-send", c.sendNS, nil, bin, append(sendArgs, c.src)...)
		if err != nil {
			return res, nil, err
		}
		cmds := []string{"receiver: `" + srv.Command() + "`", "sender (timed until it exits: the receiver has written, synced and counted every byte): `" + cli.Command() + "`"}
		err = cli.Wait(ctx, limit)
		res.elapsed = time.Since(start)
		if err == nil {
			err = srv.Wait(ctx, 10*time.Second)
		}
		if err != nil {
			return res, cmds, err
		}
		res.cpu[0], res.rss[0] = cli.Usage()
		res.cpu[1], res.rss[1] = srv.Usage()
		rcv, err := copyResult(srv.Output(), "receive")
		if err != nil {
			return res, cmds, err
		}
		if rcv.Bytes != c.size {
			return res, cmds, fmt.Errorf("%s received %d bytes, not %d", tool, rcv.Bytes, c.size)
		}
		if got := connsOf(rcv); got != max(c.conns, 1) {
			return res, cmds, fmt.Errorf("%s received over %d connections, not %d", tool, got, max(c.conns, 1))
		}
		res.bytes, res.files = c.size, 1
		res.info = describeCopy(rcv)
		if c.toDisk {
			err = spotCheck(c.src, out, c.size)
			os.Remove(out)
		}
		return res, cmds, err
	}
}

// copyResult finds the JSON result line of the given role in a copy
// program's output.
func copyResult(output, role string) (*copyReport, error) {
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 64*stats.KiB), 1*stats.MiB)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r copyReport
		if err := json.Unmarshal([]byte(line), &r); err == nil && r.Role == role {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("no %q result line in the output:\n%s", role, output)
}

// connsOf returns how many connections a copy's result says it used: 1
// when it does not say (a copy program that cannot stripe).
func connsOf(r *copyReport) int {
	if v, ok := r.Details["conns"].(float64); ok {
		return int(v)
	}
	return 1
}

// describeCopy summarises a copy program's receiving side: cipher,
// connections when more than one and, for QUIC, the socket buffers as
// the kernel counts them and GSO.
func describeCopy(r *copyReport) string {
	parts := []string{r.Cipher}
	if n := connsOf(r); n > 1 {
		parts = append(parts, fmt.Sprintf("%d connections from one UDP socket per side", n))
	}
	size := func(key string) string {
		if v, ok := r.Details[key].(float64); ok {
			return stats.Size(int64(v))
		}
		return "?"
	}
	if _, ok := r.Details["socket_rcvbuf"]; ok {
		parts = append(parts, fmt.Sprintf("UDP socket buffers %s receive, %s send (the kernel's count, twice what was set)", size("socket_rcvbuf"), size("socket_sndbuf")))
	}
	if gso, ok := r.Details["gso"].(bool); ok {
		parts = append(parts, fmt.Sprintf("GSO %v", gso))
	}
	return strings.Join(parts, ", ")
}

// localCopy measures the disk alone: `cp` of the file to a new one, then
// `sync` of the copy. No network, no encryption: the ceiling of every
// file-to-file row.
func (b *benchmark) localCopy(outDir string) runner {
	return func(ctx context.Context, round int) (result, []string, error) {
		res := result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}}
		dst := filepath.Join(outDir, "cp-copy.bin")
		os.Remove(dst)
		start := time.Now()
		cp, err := b.spawn("cp", "", nil, "cp", b.src, dst)
		if err != nil {
			return res, nil, err
		}
		cmds := []string{"`" + cp.Command() + "`"}
		if err := cp.Wait(ctx, timeout(b.size)); err != nil {
			return res, cmds, err
		}
		sync, err := b.spawn("sync", "", nil, "sync", dst)
		if err != nil {
			return res, cmds, err
		}
		cmds = append(cmds, "then `"+sync.Command()+"` (fsync of the copy), timed together")
		if err := sync.Wait(ctx, timeout(b.size)); err != nil {
			return res, cmds, err
		}
		res.elapsed = time.Since(start)
		res.cpu[0], res.rss[0] = cp.Usage()
		res.cpu[1], res.rss[1] = sync.Usage()
		res.bytes, res.files = b.size, 1
		err = spotCheck(b.src, dst, b.size)
		os.Remove(dst)
		return res, cmds, err
	}
}

// iperf describes a run of iperf3: memory to memory over TCP, no
// encryption, no files.
type iperf struct {
	bin      string
	seconds  int
	serverNS string
	clientNS string
	addr     string // the server's address (host only)
	port     func() (int, error)
}

var reIperfListening = regexp.MustCompile(`(?m)^Server listening on (\d+)`)

func (ip iperf) runner(b *benchmark) runner {
	return func(ctx context.Context, round int) (result, []string, error) {
		res := result{cpu: [2]time.Duration{-1, -1}, rss: [2]int64{-1, -1}}
		port, err := ip.port()
		if err != nil {
			return res, nil, err
		}
		p := strconv.Itoa(port)
		srv, err := b.spawn("iperf3-server", ip.serverNS, nil, ip.bin, "-s", "-1", "-B", ip.addr, "-p", p, "--forceflush")
		if err != nil {
			return res, nil, err
		}
		defer srv.Stop()
		if _, err := srv.WaitLine(ctx, reIperfListening, testbed.StartTimeout); err != nil {
			return res, nil, err
		}
		cli, err := b.spawn("iperf3-client", ip.clientNS, nil, ip.bin, "-c", ip.addr, "-p", p, "-t", strconv.Itoa(ip.seconds), "-J")
		if err != nil {
			return res, nil, err
		}
		cmds := []string{"receiver: `" + srv.Command() + "`", "sender: `" + cli.Command() + "` (goodput: end.sum_received of its JSON)"}
		limit := time.Duration(ip.seconds)*time.Second + time.Minute
		if err := cli.Wait(ctx, limit); err != nil {
			return res, cmds, err
		}
		if err := srv.Wait(ctx, 10*time.Second); err != nil {
			return res, cmds, err
		}
		sum, err := parseIperf([]byte(cli.Output()))
		if err != nil {
			return res, cmds, err
		}
		res.bytes, res.files = sum.bytes, 1
		res.elapsed = time.Duration(sum.seconds * float64(time.Second))
		res.cpu[0], res.rss[0] = cli.Usage()
		res.cpu[1], res.rss[1] = srv.Usage()
		res.info = fmt.Sprintf("%d retransmits", sum.retransmits)
		return res, cmds, nil
	}
}

// iperfSum is what the benchmark takes from iperf3's JSON.
type iperfSum struct {
	bytes       int64
	seconds     float64
	retransmits int64
}

// parseIperf reads the receiver's totals out of `iperf3 -J` output.
func parseIperf(b []byte) (iperfSum, error) {
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
	if err := json.Unmarshal(b, &doc); err != nil {
		return iperfSum{}, fmt.Errorf("iperf3 output: %w", err)
	}
	if doc.Error != "" {
		return iperfSum{}, errors.New("iperf3: " + doc.Error)
	}
	s := doc.End.SumReceived
	if s.Bytes <= 0 || s.Seconds <= 0 {
		return iperfSum{}, errors.New("iperf3 output: no received totals")
	}
	return iperfSum{bytes: int64(s.Bytes), seconds: s.Seconds, retransmits: doc.End.SumSent.Retransmits}, nil
}
