package transfer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
)

func TestCheckCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	hash, err := writeRandomFile(src, 5*stats.MiB+17)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeRandomFile(src, 10); err == nil {
		t.Error("writeRandomFile overwrote a file")
	}
	data, _ := os.ReadFile(src)
	tail := append([]byte(nil), data...)
	tail[len(tail)-1] ^= 1
	n := int64(len(data))
	// An identical copy passes, by blocks and by hash; a copy shifted by
	// one byte, with its last byte changed or of the wrong size fails.
	for _, tc := range []struct {
		name       string
		dst        []byte
		size       int64
		hash       string
		wantPassed bool
	}{
		{"identical", data, n, "", true}, {"identical by hash", data, n, hash, true},
		{"shifted", append([]byte{0}, data[:n-1]...), n, "", false}, {"last byte changed", tail, n, "", false},
		{"last byte changed by hash", tail, n, hash, false}, {"wrong size", data, n + 1, "", false},
	} {
		os.WriteFile(dst, tc.dst, 0o644)
		if err := checkCopy(src, dst, tc.size, tc.hash); (err == nil) != tc.wantPassed {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestParseIperfAndCopy(t *testing.T) {
	out := `{"end":{"sum_sent":{"retransmits":12},"sum_received":{"seconds":10.04,"bytes":1175000000}}}`
	res, err := parseIperf(newResult(), out)
	if err != nil || res.bytes != 1175000000 || res.elapsed != 10040*time.Millisecond || res.info != "12 retransmits" {
		t.Errorf("parseIperf = %+v, %v", res, err)
	}
	if _, err := parseIperf(newResult(), `{"end":{},"error":"unable to connect to server"}`); err == nil || !strings.Contains(err.Error(), "unable") {
		t.Errorf("iperf3 error: %v", err)
	}
	r := copyReport{Cipher: "TLS_AES_128_GCM_SHA256", Details: map[string]any{"conns": 2.0, "socket_rcvbuf": 8388608.0, "socket_sndbuf": 8388608.0, "gso": true}}
	if got := describeCopy(r); got != "TLS_AES_128_GCM_SHA256, 2 connections from one UDP socket per side, UDP socket buffers 8 MiB receive, 8 MiB send (the kernel's count, twice what was set), GSO true" {
		t.Errorf("describeCopy = %q", got)
	}
}

// testBenchmark is a benchmark with made-up results, for the report.
func testBenchmark() *benchmark {
	runs := func(rss int64, mbps ...float64) []result {
		var out []result
		for _, m := range mbps {
			out = append(out, result{bytes: 1e9, files: 1, elapsed: time.Duration(1000 / m * float64(time.Second)),
				cpu: [2]time.Duration{2 * time.Second, -1}, rss: [2]int64{rss, -1}})
		}
		return out
	}
	big := &section{title: "big", kind: bigFile, rows: []*row{
		{name: rowLanchat, path: "daemon → daemon", lanchat: true, results: runs(30*stats.MiB, 180, 200, 190)},
		{name: rowQUIC, path: pathFileToFile, results: runs(20*stats.MiB, 200, 210, 205)},
		{name: rowQUIC2, path: pathFileToFile, results: runs(20*stats.MiB, 230, 250, 240)},
		{name: rowQUIC, path: pathDirect, results: runs(20*stats.MiB, 150, 160, 155)},
		{name: rowQUIC, path: pathDiscard, results: runs(20*stats.MiB, 250)},
		{name: rowCroc, path: pathFileToFile, notRun: "no croc | here\nsecond line"},
		{name: rowTLS, path: pathFileToFile, failures: []string{"run 1: boom"}},
	}}
	small := &section{title: "small", kind: smallFiles, rows: []*row{
		{name: rowLanchat, path: "folder", lanchat: true, results: []result{
			{bytes: 40960000, files: 10000, elapsed: 4 * time.Second, cpu: [2]time.Duration{time.Second, 2 * time.Second}, rss: [2]int64{70 * stats.MiB, 30 * stats.MiB}}}},
	}}
	link := &section{title: "link", kind: shapedLink, rows: []*row{
		{name: rowIperf, path: "memory", results: runs(-1, 117)},
		{name: rowLanchat, path: "daemon", lanchat: true, results: runs(30*stats.MiB, 112, 113, 111)},
		{name: rowQUIC, path: pathFileToFile, results: runs(20*stats.MiB, 115)},
		{name: rowQUIC2, path: pathFileToFile, failures: []string{"run 1: no --conns"}},
	}}
	return &benchmark{cfg: &config{runs: 3, link: "1gbit"}, sections: []*section{big, small, link}, Run: cli.Run{Start: time.Now()}}
}

func TestReport(t *testing.T) {
	b := testBenchmark()
	for i, wants := range [][]string{{
		"| lanchat | daemon → daemon | 190 | 180–200 | 3 | — | 2.00 | — | 30.0 | — |",
		"| raw quic-go copy (bench/rawcopy) | file → file + fsync | 205 | 200–210 | 3 | 0.927× |",
		"| raw quic-go copy (bench/rawcopy), 2 connections | file → file + fsync | 240 | 230–250 | 3 | 0.792× |",
		"| raw quic-go copy (bench/rawcopy) | file → discard | 250 | 250 | 1 | 0.760× |",
		`| not run: no croc \| here second line |`,
		"| failed: run 1: boom |",
	}, {
		"| lanchat | folder | 2500 | 10.2 | 2500 | 1 | 1.00 | 2.00 | 70.0 | 30.0 |",
	}, {
		"| iperf3 | memory | 117 | 936 | 117 | 1 | 0.957× |",
		"| lanchat | daemon | 112 | 896 | 111–113 | 3 | — |",
		"| raw quic-go copy (bench/rawcopy), 2 connections | file → file + fsync | failed: run 1: no --conns |",
	}} {
		got := b.table(b.sections[i])
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("table %d lacks %q:\n%s", i, want, got)
			}
		}
	}
	report := b.report()
	for _, want := range []string{
		"### §1 big", "### Targets",
		"| lanchat ≥ 0.9× the raw quic-go copy on loopback (both file → file + fsync) | 0.927× | met |",
		"| lanchat ≥ 4× croc on loopback | — | not measured (croc --no-compress, via croc relay: no croc \\| here second line) |",
		"| lanchat ≥ 0.95 of iperf3 on the emulated 1gbit link | 0.957× | met |",
		"| lanchat ≥ 2000 small files per second | 2500 files/s | met |",
		"| each daemon's peak RSS under 64 MiB | 70.0 MiB | **not met** |",
		"| lanchat ÷ raw quic-go copy with direct I/O (loopback, the same disk path: what lanchat's protocol, hashing and records cost) | 1.23× | no target |",
		"§1 TLS 1.3 over TCP copy (bench/rawcopy --proto tls), file → file + fsync, failed: run 1: boom",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
