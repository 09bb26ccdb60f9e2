package testbed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It
// is 100 on every Linux platform Go supports.
const clockTicks = 100

// SampleEvery is how often a Watch or a peak follower reads memory.
const SampleEvery = 100 * time.Millisecond

// Sample is one reading of a process's CPU time and memory.
type Sample struct {
	At  time.Time
	CPU time.Duration // user plus system CPU time so far
	RSS int64         // resident set size, bytes (VmRSS)
	HWM int64         // peak resident set size, bytes (VmHWM)
}

// ReadProc reads the CPU time and memory of process pid ("self" for
// this process) from /proc.
func ReadProc(pid string) (Sample, error) {
	s := Sample{At: time.Now()}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return s, fmt.Errorf("read process status: %w", err)
	}
	if s.RSS, s.HWM, err = ParseStatus(status); err != nil {
		return s, err
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return s, fmt.Errorf("read process stat: %w", err)
	}
	s.CPU, err = ParseStat(stat)
	return s, err
}

// CPU returns the user plus system CPU time of process pid so far.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseStat(b)
}

// Memory returns VmRSS and VmHWM of process pid, in bytes.
func Memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return ParseStatus(b)
}

// ParseStat reads utime and stime out of a /proc/PID/stat line. The
// command name, field 2, is in parentheses and may hold spaces; fields
// are counted after its closing parenthesis, which is followed by field
// 3 (state). utime and stime are fields 14 and 15.
func ParseStat(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("process stat: no command name")
	}
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("process stat: %d fields", len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("process stat: utime %q stime %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// ParseStatus reads VmRSS and VmHWM out of /proc/PID/status, in bytes.
func ParseStatus(status []byte) (rss, hwm int64, err error) {
	rss, hwm = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val) // 12345 kB
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("process status: odd %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("process status: %s: %w", key, err)
		}
		if key == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	if rss < 0 || hwm < 0 {
		return 0, 0, fmt.Errorf("process status: no VmRSS or VmHWM (a zombie?)")
	}
	return rss, hwm, nil
}

// CPUPercent is the CPU a process used between two samples, in percent
// of one core.
func CPUPercent(a, b Sample) float64 {
	wall := b.At.Sub(a.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(b.CPU-a.CPU) / float64(wall)
}

// ResetPeak resets the kernel's peak resident set size (VmHWM) of
// process pid, so that the next reading covers only what follows. It
// needs Linux 4.0 and the right to write the process's clear_refs.
func ResetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// Sampler reads a process's CPU and memory every interval until
// stopped, keeping every sample so phases can be summarised afterwards.
// Its goroutine is its own; Stop ends it.
type Sampler struct {
	pid string

	mu      sync.Mutex
	samples []Sample
	err     error // the first failed reading

	cancel context.CancelFunc
	done   chan struct{}
}

// StartSampler starts sampling process pid ("self" for this one).
func StartSampler(pid string, interval time.Duration) *Sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sampler{pid: pid, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.Sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Sample takes one reading now, records it and returns it.
func (s *Sampler) Sample() (Sample, error) {
	p, err := ReadProc(s.pid)
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

// Stop ends sampling and waits for the sampler's goroutine.
func (s *Sampler) Stop() {
	s.cancel()
	<-s.done
}

// Err returns the first failed reading, if any.
func (s *Sampler) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// PeakRSS returns the largest resident set size seen in [from, to], or
// -1 if there was no sample then.
func (s *Sampler) PeakRSS(from, to time.Time) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	peak := int64(-1)
	for _, p := range s.samples {
		if !p.At.Before(from) && !p.At.After(to) {
			peak = max(peak, p.RSS)
		}
	}
	return peak
}

// Watch measures what a long-running process (a daemon) spends on one
// piece of work: its CPU time over it, and its peak resident set size,
// from VmHWM (reset at the start where the kernel allows) and from VmRSS
// sampled every SampleEvery, whichever is larger.
type Watch struct {
	pid      int
	cpu0     time.Duration
	hwmReset bool

	mu     sync.Mutex
	peak   int64
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// StartWatch starts measuring process pid.
func StartWatch(pid int) *Watch {
	w := &Watch{pid: pid, peak: -1, done: make(chan struct{})}
	w.hwmReset = ResetPeak(pid) == nil
	var err error
	if w.cpu0, err = CPU(pid); err != nil {
		w.err = err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		defer close(w.done)
		t := time.NewTicker(SampleEvery)
		defer t.Stop()
		for {
			w.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *Watch) sample() {
	rss, hwm, err := Memory(w.pid)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.peak = max(w.peak, rss)
	if w.hwmReset {
		w.peak = max(w.peak, hwm)
	}
}

// Stop ends the measurement and returns the CPU time used since the
// start and the peak resident set size (-1 for what is unknown).
func (w *Watch) Stop() (cpu time.Duration, peak int64, err error) {
	w.cancel()
	<-w.done
	w.sample()
	cpu = -1
	if c, cerr := CPU(w.pid); cerr == nil && w.err == nil {
		cpu = c - w.cpu0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return cpu, w.peak, w.err
}

// LifetimePeak returns VmHWM of process pid: its peak resident set size
// since it started (or since the last ResetPeak), or -1.
func LifetimePeak(pid int) int64 {
	_, hwm, err := Memory(pid)
	if err != nil {
		return -1
	}
	return hwm
}

// peakWatch follows a process's VmHWM until it exits.
type peakWatch struct {
	peak atomic.Int64 // -1 until read
	done chan struct{}
}

// followPeak reads VmHWM of process pid every SampleEvery until exited
// is closed.
func followPeak(pid int, exited <-chan struct{}) *peakWatch {
	w := &peakWatch{done: make(chan struct{})}
	w.peak.Store(-1)
	go func() {
		defer close(w.done)
		t := time.NewTicker(SampleEvery)
		defer t.Stop()
		for {
			// A process that has exited but is not yet reaped has no
			// memory lines: keep what was read before.
			if _, hwm, err := Memory(pid); err == nil && hwm > w.peak.Load() {
				w.peak.Store(hwm)
			}
			select {
			case <-exited:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// max returns the largest VmHWM read, or -1, once the process has
// exited.
func (w *peakWatch) max() int64 {
	<-w.done
	return w.peak.Load()
}
