package testbed

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// The command name holds a space and a parenthesis.
	stat := []byte("4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 130 0 0 20 0 8 0 100 1000000 300 18446744073709551615")
	cpu, err := ParseStat(stat)
	if err != nil || cpu != 3800*time.Millisecond {
		t.Fatalf("ParseStat = %v, %v; want 3.8s", cpu, err)
	}
	for _, bad := range []string{"", "4242 no parens", "1 (x) S 1 2"} {
		if _, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q) took it", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	status := []byte("Name:\tlanchat\nVmPeak:\t  9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t8\n")
	rss, hwm, err := ParseStatus(status)
	if err != nil || rss != 1024*1024 || hwm != 2048*1024 {
		t.Fatalf("ParseStatus = %d, %d, %v", rss, hwm, err)
	}
	for _, bad := range []string{"Name:\tzombie\n", "VmRSS:\t12 MB\nVmHWM:\t1 kB\n", "VmRSS:\tx kB\nVmHWM:\t1 kB\n"} {
		if _, _, err := ParseStatus([]byte(bad)); err == nil {
			t.Errorf("ParseStatus(%q) took it", bad)
		}
	}
}

func TestSamplerSelf(t *testing.T) {
	s := StartSampler("self", 10*time.Millisecond)
	from := time.Now()
	time.Sleep(50 * time.Millisecond)
	s.Stop()
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if peak := s.PeakRSS(from.Add(-time.Second), time.Now()); peak <= 0 {
		t.Errorf("PeakRSS of this process = %d", peak)
	}
}

func TestWatchSelf(t *testing.T) {
	w := StartWatch(os.Getpid())
	x := 0
	for i := range 3_000_000 {
		x += i
	}
	_ = x
	cpu, peak, err := w.Stop()
	if err != nil || cpu < 0 || peak <= 0 {
		t.Errorf("watch of this process: cpu %v, peak %d, %v", cpu, peak, err)
	}
}

func TestReadProcSelf(t *testing.T) {
	p, err := ReadProc(strconv.Itoa(os.Getpid()))
	if err != nil || p.RSS <= 0 || p.HWM < p.RSS || p.CPU < 0 {
		t.Errorf("ReadProc(self) = %+v, %v", p, err)
	}
	if _, err := ReadProc("0"); err == nil {
		t.Error("ReadProc(0) succeeded")
	}
}
