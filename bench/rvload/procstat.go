package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It
// is 100 on every Linux platform Go supports.
const clockTicks = 100

// procSample is one reading of a process's memory and CPU use.
type procSample struct {
	at  time.Time
	rss int64         // resident set size, bytes (VmRSS)
	cpu time.Duration // user plus system CPU time so far
}

// readProc reads the resident set size and CPU time of process pid
// ("self" for this process) from /proc.
func readProc(pid string) (procSample, error) {
	s := procSample{at: time.Now()}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return s, fmt.Errorf("read process status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	found := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		f := strings.Fields(line) // VmRSS: 12345 kB
		if len(f) != 3 || f[2] != "kB" {
			return s, fmt.Errorf("read process status: odd VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return s, fmt.Errorf("read process status: VmRSS: %w", err)
		}
		s.rss, found = kb*1024, true
		break
	}
	if !found {
		return s, fmt.Errorf("read process status: no VmRSS (a zombie?)")
	}

	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return s, fmt.Errorf("read process stat: %w", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// fields are counted after its closing parenthesis, which is field 3
	// (state). utime and stime are fields 14 and 15.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return s, fmt.Errorf("read process stat: no command name")
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("read process stat: %d fields", len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("read process stat: utime %q stime %q", f[11], f[12])
	}
	s.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	return s, nil
}

// sampler reads a process's memory and CPU once a second until stopped,
// keeping every sample so phases can be summarised afterwards.
type sampler struct {
	pid string

	mu      sync.Mutex
	samples []procSample
	err     error // the first failed reading

	cancel context.CancelFunc
	done   chan struct{}
}

// startSampler starts sampling process pid every second.
func startSampler(pid string) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{pid: pid, cancel: cancel, done: make(chan struct{})}
	go s.loop(ctx)
	return s
}

func (s *sampler) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s.sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sample takes one reading now, records it and returns it.
func (s *sampler) sample() (procSample, error) {
	p, err := readProc(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return p, err
	}
	s.samples = append(s.samples, p)
	return p, nil
}

// stop ends sampling and waits for the sampler's goroutine.
func (s *sampler) stop() {
	s.cancel()
	<-s.done
}

// Err returns the first failed reading, if any.
func (s *sampler) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// peakRSS returns the largest resident set size seen in [from, to], or
// -1 if there was no sample then.
func (s *sampler) peakRSS(from, to time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	peak := int64(-1)
	for _, p := range s.samples {
		if !p.at.Before(from) && !p.at.After(to) {
			peak = max(peak, p.rss)
		}
	}
	return peak
}

// cpuPercent is the CPU a process used between two samples, in percent of
// one core.
func cpuPercent(a, b procSample) float64 {
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.cpu-a.cpu) / float64(wall)
}
