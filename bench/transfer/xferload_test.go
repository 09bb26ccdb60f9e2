package transfer

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/bench/internal/cli"
	"github.com/lanchat/lanchat/bench/internal/stats"
)

func TestParseDF(t *testing.T) {
	out := "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda         264212084 14857132  80644132      16% /\n"
	got, err := parseDF(out)
	if err != nil || got != 80644132*stats.KiB {
		t.Errorf("parseDF = %d, %v", got, err)
	}
	// A file system name with a space, counted from the right.
	out = "Filesystem 1024-blocks Used Available Capacity Mounted on\nmy share 100 40 60 40% /mnt/x\n"
	if got, err := parseDF(out); err != nil || got != 60*stats.KiB {
		t.Errorf("parseDF(name with a space) = %d, %v", got, err)
	}
	for _, bad := range []string{"", "Filesystem 1024-blocks Used Available Capacity Mounted on", "head\n/dev/x 1 2 many 3% /"} {
		if _, err := parseDF(bad); err == nil {
			t.Errorf("parseDF(%q): no error", bad)
		}
	}
}

func TestFitSize(t *testing.T) {
	small := int64(40 * stats.MiB)
	for _, tc := range []struct {
		name       string
		want, free int64
		wantSize   int64
		wantOK     bool
	}{
		{"room", 4 * stats.GiB, 80 * stats.GiB, 4 * stats.GiB, true},
		{"just room", 4 * stats.GiB, 8*stats.GiB + diskMargin + 2*small, 4 * stats.GiB, true},
		{"scaled", 4 * stats.GiB, 6*stats.GiB + diskMargin + 2*small, 3 * stats.GiB, true},
		{"scaled to 64 MiB steps", 4 * stats.GiB, 1*stats.GiB + 100*stats.MiB + diskMargin + 2*small, 512 * stats.MiB, true},
		{"no room", 4 * stats.GiB, diskMargin, 0, false},
		{"too little", 4 * stats.GiB, diskMargin + 2*small + 100*stats.MiB, 0, false},
	} {
		size, ok := fitSize(tc.want, tc.free, small)
		if ok != tc.wantOK || (ok && size != tc.wantSize) {
			t.Errorf("%s: fitSize = %d (%s), %v; want %d, %v", tc.name, size, stats.Size(size), ok, tc.wantSize, tc.wantOK)
		}
		if ok && 2*size+diskMargin+2*small > tc.free {
			t.Errorf("%s: %d does not fit in %d", tc.name, size, tc.free)
		}
	}
}

func TestParseIperf(t *testing.T) {
	out := `{"start":{},"intervals":[],"end":{"sum_sent":{"start":0,"end":10,"seconds":10.0001,"bytes":1180000000,"bits_per_second":9.4e8,"retransmits":12,"sender":true},
	"sum_received":{"start":0,"end":10.04,"seconds":10.04,"bytes":1175000000,"bits_per_second":9.36e8,"sender":true}}}`
	s, err := parseIperf([]byte(out))
	if err != nil || s.bytes != 1175000000 || s.seconds != 10.04 || s.retransmits != 12 {
		t.Errorf("parseIperf = %+v, %v", s, err)
	}
	if _, err := parseIperf([]byte(`{"start":{},"end":{},"error":"unable to connect to server: Connection refused"}`)); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("iperf3 error: %v", err)
	}
	if _, err := parseIperf([]byte(`{"end":{}}`)); err == nil {
		t.Error("no totals: no error")
	}
	if _, err := parseIperf([]byte("iperf3: error")); err == nil {
		t.Error("not JSON: no error")
	}
}

func TestParseTransfers(t *testing.T) {
	out := `[{"id":"a1","direction":"send","peer":"bob","state":"done","total":4096,"done":4096,"rate":0,"name":"x"},
	{"id":"b2","direction":"receive","peer":"alice","state":"done","total":4096,"done":4096,"rate":123.5},
	{"id":"c3","direction":"receive","peer":"alice","state":"failed","total":10,"done":3,"rate":0}]`
	ts, err := parseTransfers([]byte(out))
	if err != nil || len(ts) != 3 {
		t.Fatalf("parseTransfers = %v, %v", ts, err)
	}
	if got := latest(ts, "receive", 4096); got == nil || got.ID != "b2" || got.Rate != 123.5 {
		t.Errorf("latest receive of 4096 = %+v", got)
	}
	if got := latest(ts, "send", 10); got != nil {
		t.Errorf("latest send of 10 = %+v, want none", got)
	}
	if _, err := parseTransfers([]byte(`{"error":"x"}`)); err == nil {
		t.Error("an object instead of an array: no error")
	}
}

func TestCopyResult(t *testing.T) {
	out := "rawcopy listening on 127.0.0.1:4000\nsome log line\n" +
		`{"role":"receive","bytes":42,"seconds":0.5,"sink":"discard","cipher":"TLS_AES_128_GCM_SHA256","details":{"socket_rcvbuf":8388608,"socket_sndbuf":8388608,"gso":true}}` + "\n"
	r, err := copyResult(out, "receive")
	if err != nil || r.Bytes != 42 || r.Sink != "discard" {
		t.Fatalf("copyResult = %+v, %v", r, err)
	}
	if got := describeCopy(r); !strings.Contains(got, "8 MiB receive") || !strings.Contains(got, "GSO true") {
		t.Errorf("describeCopy = %q", got)
	}
	if _, err := copyResult(out, "send"); err == nil {
		t.Error("no send line: no error")
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.bin")
	hash, err := writeRandomFile(src, 3*stats.MiB+5)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCopy(src, 3*stats.MiB+5, hash); err != nil {
		t.Error(err)
	}
	if err := checkCopy(src, 3*stats.MiB+5, strings.Repeat("0", 64)); err == nil {
		t.Error("wrong hash: no error")
	}
	if err := checkCopy(src, 3*stats.MiB, ""); err == nil {
		t.Error("wrong size: no error")
	}
	if _, err := writeRandomFile(src, 10); err == nil {
		t.Error("writeRandomFile overwrote a file")
	}
	small := filepath.Join(dir, "small")
	if err := writeSmallFiles(small, 25, 4*stats.KiB); err != nil {
		t.Fatal(err)
	}
	n, bytes, err := countFiles(small)
	if err != nil || n != 25 || bytes != 25*4*stats.KiB {
		t.Errorf("countFiles = %d, %d, %v", n, bytes, err)
	}
}

func TestFindReceived(t *testing.T) {
	dir := t.TempDir()
	if _, err := findReceived(dir, "big.bin"); err == nil {
		t.Error("empty folder: no error")
	}
	os.WriteFile(filepath.Join(dir, ".big.bin.1234-0.lanchat-partial"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "big (1).bin"), nil, 0o644)
	if got, err := findReceived(dir, "big.bin"); err != nil || filepath.Base(got) != "big (1).bin" {
		t.Errorf("the only visible entry: %q, %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, "big.bin"), nil, 0o644)
	if got, err := findReceived(dir, "big.bin"); err != nil || filepath.Base(got) != "big.bin" {
		t.Errorf("by name: %q, %v", got, err)
	}
	os.Remove(filepath.Join(dir, "big.bin"))
	os.WriteFile(filepath.Join(dir, "other"), nil, 0o644)
	if _, err := findReceived(dir, "big.bin"); err == nil {
		t.Error("two candidates: no error")
	}
}

// testBenchmark is a benchmark with made-up results, for the report.
func testBenchmark() *benchmark {
	run := func(mbps float64, cpu float64, rss int64) result {
		return result{bytes: 1e9, files: 1, elapsed: time.Duration(1000 / mbps * float64(time.Second)),
			cpu: [2]time.Duration{time.Duration(cpu * float64(time.Second)), -1}, rss: [2]int64{rss, -1}}
	}
	runs := func(rss int64, mbps ...float64) []result {
		var out []result
		for _, m := range mbps {
			out = append(out, run(m, 2, rss))
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

func TestTable(t *testing.T) {
	b := testBenchmark()
	got := b.table(b.sections[0])
	for _, want := range []string{
		"| lanchat | daemon → daemon | 190 | 180–200 | 3 | — | 2.00 | — | 30.0 | — |",
		"| raw quic-go copy (bench/rawcopy) | file → file + fsync | 205 | 200–210 | 3 | 0.927× |",
		"| raw quic-go copy (bench/rawcopy), 2 connections | file → file + fsync | 240 | 230–250 | 3 | 0.792× |",
		"| raw quic-go copy (bench/rawcopy) | file → discard | 250 | 250 | 1 | 0.760× |",
		`| not run: no croc \| here second line |`,
		"| failed: run 1: boom |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 11 {
			t.Errorf("%d cells in %q", n-1, line)
		}
	}
	got = b.table(b.sections[1])
	if !strings.Contains(got, "| lanchat | folder | 2500 | 10.2 | 2500 | 1 | 1.00 | 2.00 | 70.0 | 30.0 |") {
		t.Errorf("small-files table:\n%s", got)
	}
	got = b.table(b.sections[2])
	for _, want := range []string{
		"| iperf3 | memory | 117 | 936 | 117 | 1 | 0.957× |",
		"| lanchat | daemon | 112 | 896 | 111–113 | 3 | — |",
		"| raw quic-go copy (bench/rawcopy) | file → file + fsync | 115 | 920 | 115 | 1 | 0.974× |",
		"| raw quic-go copy (bench/rawcopy), 2 connections | file → file + fsync | failed: run 1: no --conns |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("link table lacks %q:\n%s", want, got)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if n := strings.Count(line, "|"); n != 12 {
			t.Errorf("%d cells in %q", n-1, line)
		}
	}
}

func TestTargets(t *testing.T) {
	b := testBenchmark()
	got := map[string]target{}
	for _, tg := range b.targets() {
		got[strings.Fields(tg.what)[2]] = tg
	}
	check := func(key, measured, verdict string) {
		t.Helper()
		tg, ok := got[key]
		if !ok {
			t.Errorf("no target %q in %v", key, got)
			return
		}
		if tg.measured != measured || !strings.HasPrefix(tg.verdict, verdict) {
			t.Errorf("target %q: %q, %q; want %q, %q", tg.what, tg.measured, tg.verdict, measured, verdict)
		}
	}
	check("0.9×", "0.927×", "met")
	check("4×", "—", "not measured (croc")
	check("0.95", "0.957×", "met")
	check("2000", "2500 files/s", "met")
	check("peak", "70.0 MiB", "**not met**")

	report := b.report()
	for _, want := range []string{"### §1 big", "### Targets", "| lanchat ≥ 0.9× the raw quic-go copy", "run 1: boom",
		"| lanchat ÷ raw quic-go copy with direct I/O (loopback, the same disk path: what lanchat's protocol, hashing and records cost) | 1.23× | no target |",
		"informative, not a target", "--conns 2"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, gone := range []string{"transfer-conns", "striping:", "lanchat, 1 connection", "2 connections, default"} {
		if strings.Contains(report, gone) {
			t.Errorf("report still has %q", gone)
		}
	}
}

func TestInformative(t *testing.T) {
	// Without the direct-I/O copy, the line says why.
	b := testBenchmark()
	direct := b.findRow(bigFile, rowQUIC, pathDirect)
	direct.results, direct.notRun = nil, "no --direct"
	got := b.informative()
	if len(got) != 1 || got[0].measured != "—" || got[0].verdict != "not measured (raw quic-go copy (bench/rawcopy): no --direct)" {
		t.Errorf("informative = %+v", got)
	}
	// The targets are the alone.
	if n := len(b.targets()); n != 5 {
		t.Errorf("%d targets", n)
	}
}

func TestRawCopyConns(t *testing.T) {
	for _, tc := range []struct {
		conns int
		want  string
	}{{0, ""}, {1, ""}, {2, "--conns 2"}} {
		if got := strings.Join(rawCopy{conns: tc.conns}.connsArgs(), " "); got != tc.want {
			t.Errorf("conns %d: args %q, want %q", tc.conns, got, tc.want)
		}
	}
	out := `{"role":"receive","bytes":42,"seconds":0.5,"sink":"file","cipher":"TLS_AES_128_GCM_SHA256","details":{"conns":2,"gso":true}}` + "\n"
	r, err := copyResult(out, "receive")
	if err != nil {
		t.Fatal(err)
	}
	if connsOf(r) != 2 || !strings.Contains(describeCopy(r), "2 connections") {
		t.Errorf("conns %d, %q", connsOf(r), describeCopy(r))
	}
	// A copy program that does not say used one connection.
	r, _ = copyResult(`{"role":"receive","bytes":1,"cipher":"x","details":{}}`, "receive")
	if connsOf(r) != 1 || strings.Contains(describeCopy(r), "connections") {
		t.Errorf("no conns: %d, %q", connsOf(r), describeCopy(r))
	}
}

func TestCell(t *testing.T) {
	if got := cell("a|b\n  c"); got != `a\|b c` {
		t.Errorf("cell = %q", got)
	}
	if got := cell(strings.Repeat("x", 500)); len(got) != 300 || !strings.HasSuffix(got, "...") {
		t.Errorf("long cell: %d bytes", len(got))
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig([]string{"--size", "1G", "--runs", "5", "--link", "off", "--files", "0"}, io.Discard)
	if err != nil || c.size != stats.GiB || c.runs != 5 || c.link != "" || c.files != 0 {
		t.Errorf("parseConfig = %+v, %v", c, err)
	}
	c, err = parseConfig(nil, io.Discard)
	if err != nil || c.size != 4*stats.GiB || c.runs != 3 || c.link != "1gbit" || c.files != 10000 || c.Bin != "bin" {
		t.Errorf("defaults = %+v, %v", c, err)
	}
	for _, bad := range [][]string{{"--runs", "0"}, {"--size", "1M"}, {"--size", "x"}, {"--files", "-1"}, {"extra"}, {"--only", "link"}} {
		if _, err := parseConfig(bad, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestTimeout(t *testing.T) {
	if got := timeout(4 * stats.GiB); got < 4*time.Minute || got > 5*time.Minute {
		t.Errorf("timeout(4 GiB) = %v", got)
	}
	if got := timeout(0); got != time.Minute {
		t.Errorf("timeout(0) = %v", got)
	}
}

func TestSpotCheck(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if _, err := writeRandomFile(src, 5*stats.MiB+17); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(src)
	os.WriteFile(dst, data, 0o644)
	if err := spotCheck(src, dst, int64(len(data))); err != nil {
		t.Errorf("identical copy: %v", err)
	}
	// A copy shifted by one byte, or with its last block changed, fails.
	shifted := append([]byte{0}, data[:len(data)-1]...)
	os.WriteFile(dst, shifted, 0o644)
	if err := spotCheck(src, dst, int64(len(data))); err == nil {
		t.Error("shifted copy passed")
	}
	tail := append([]byte(nil), data...)
	tail[len(tail)-1] ^= 1
	os.WriteFile(dst, tail, 0o644)
	if err := spotCheck(src, dst, int64(len(data))); err == nil {
		t.Error("copy with a changed last byte passed")
	}
	if err := spotCheck(src, dst, int64(len(data))+1); err == nil {
		t.Error("wrong size passed")
	}
	for _, size := range []int64{1, spotSize, 4 * stats.GiB} {
		offs := spotOffsets(size, spotBlocks, spotSize)
		for _, o := range offs {
			if o < 0 || o >= size {
				t.Errorf("size %d: offset %d out of range", size, o)
			}
		}
		if size == 4*stats.GiB && len(offs) != spotBlocks+2 {
			t.Errorf("4 GiB: %d offsets", len(offs))
		}
	}
}

func TestUnits(t *testing.T) {
	if got := formatRatio(0.934); got != "0.934×" {
		t.Errorf("formatRatio = %q", got)
	}
	if megabits(125e6) != 1000 || megabytes(2e6) != 2 {
		t.Error("unit conversions")
	}
}
