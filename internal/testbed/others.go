package testbed

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// othersEvery is how often WatchOthers looks at every process.
const othersEvery = 2 * time.Second

// Others keeps account of the CPU that processes other than this one and
// its descendants use while a benchmark runs: on a shared machine they
// take CPUs from what is measured and skew every figure. Kernel threads
// are left out (they mostly work for what is measured: writeback,
// softirqs).
type Others struct {
	self int

	mu    sync.Mutex
	first map[int]procSnap // the first sighting of each process
	last  map[int]procSnap // the latest

	cancel context.CancelFunc
	done   chan struct{}
}

// procSnap is one process as /proc/PID/stat shows it.
type procSnap struct {
	comm string
	ppid int
	cpu  time.Duration
}

// WatchOthers starts looking at every process every othersEvery, until
// Stop.
func WatchOthers() *Others {
	ctx, cancel := context.WithCancel(context.Background())
	n := &Others{self: os.Getpid(), first: map[int]procSnap{}, last: map[int]procSnap{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		t := time.NewTicker(othersEvery)
		defer t.Stop()
		for {
			n.look()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return n
}

// look reads every process once.
func (n *Others) look() {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	now := map[int]procSnap{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if s, ok := parseSnap(b); ok {
			now[pid] = s
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for pid, s := range now {
		if _, ok := n.first[pid]; !ok {
			n.first[pid] = s
		}
		n.last[pid] = s
	}
}

// parseSnap reads the command name, parent and CPU time out of a
// /proc/PID/stat line.
func parseSnap(stat []byte) (procSnap, bool) {
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return procSnap{}, false
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 13 {
		return procSnap{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procSnap{}, false
	}
	cpu, err := ParseStat(stat)
	if err != nil {
		return procSnap{}, false
	}
	return procSnap{comm: string(stat[open+1 : end]), ppid: ppid, cpu: cpu}, true
}

// Stop ends the watch and returns the CPU seconds other processes used
// (the five largest by command name, of a second or more) and their sum.
func (n *Others) Stop() (top []string, total time.Duration) {
	n.cancel()
	<-n.done
	n.look()
	n.mu.Lock()
	defer n.mu.Unlock()
	return otherCPU(n.self, n.first, n.last)
}

// otherCPU sums the CPU used between first and last sightings by
// processes that are neither self, nor its descendants, nor kernel
// threads (pid 2 and its children), by command name.
func otherCPU(self int, first, last map[int]procSnap) (top []string, total time.Duration) {
	ours := func(pid int) bool {
		for range 64 { // parent chains are short; this bounds a loop in odd data
			if pid == self {
				return true
			}
			if pid <= 2 {
				return pid == 2
			}
			s, ok := last[pid]
			if !ok {
				return false
			}
			pid = s.ppid
		}
		return false
	}
	byComm := map[string]time.Duration{}
	for pid, l := range last {
		if pid == 2 || ours(pid) {
			continue
		}
		if d := l.cpu - first[pid].cpu; d > 0 {
			byComm[l.comm] += d
			total += d
		}
	}
	names := slices.SortedFunc(maps.Keys(byComm), func(a, b string) int { return int(byComm[b] - byComm[a]) })
	for _, c := range names[:min(5, len(names))] {
		if byComm[c] >= time.Second {
			top = append(top, fmt.Sprintf("%s %.0fs", c, byComm[c].Seconds()))
		}
	}
	return top, total
}
