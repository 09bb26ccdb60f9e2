package testbed

import (
	"strings"
	"testing"
	"time"
)

func TestOtherCPU(t *testing.T) {
	// 100 is the benchmark, 101 its daemon, 102 the daemon's child; 200 and
	// 201 are someone else's; 2 and 300 are kernel threads.
	snap := func(comm string, ppid int, cpu float64) procSnap {
		return procSnap{comm: comm, ppid: ppid, cpu: time.Duration(cpu * float64(time.Second))}
	}
	first := map[int]procSnap{
		100: snap("bench", 1, 1), 101: snap("lanchat", 100, 0), 102: snap("sh", 101, 0),
		200: snap("go", 1, 10), 2: snap("kthreadd", 0, 0), 300: snap("kworker/0:1", 2, 0),
	}
	last := map[int]procSnap{
		100: snap("bench", 1, 5), 101: snap("lanchat", 100, 50), 102: snap("sh", 101, 3),
		200: snap("go", 1, 14), 201: snap("transfer.test", 200, 30), 2: snap("kthreadd", 0, 1), 300: snap("kworker/0:1", 2, 9),
	}
	// 201 appeared after the first look: it counts from its first sighting,
	// which the first map lacks, so from zero.
	top, total := otherCPU(100, first, last)
	if total != 34*time.Second || strings.Join(top, ",") != "transfer.test 30s,go 4s" {
		t.Errorf("otherCPU = %v, %v", top, total)
	}
	s, ok := parseSnap([]byte("4242 (my (odd) name) R 17 4242 4242 0 -1 4194304 1 0 0 0 150 50 0 0 20 0 1 0 1 1 1\n"))
	if !ok || s.comm != "my (odd) name" || s.ppid != 17 || s.cpu != 2*time.Second {
		t.Errorf("parseSnap = %+v, %v", s, ok)
	}
}
