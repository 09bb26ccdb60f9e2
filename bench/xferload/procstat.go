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
	"sync/atomic"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It
// is 100 on every Linux platform Go supports.
const clockTicks = 100

// procCPU returns the user plus system CPU time of process pid so far,
// from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime out of a /proc/PID/stat line. The
// command name, field 2, is in parentheses and may hold spaces; fields
// are counted after its closing parenthesis, which is followed by field
// 3 (state). utime and stime are fields 14 and 15.
func parseStatCPU(stat []byte) (time.Duration, error) {
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

// procMemory returns VmRSS and VmHWM (the peak resident set size since
// the process started or since resetPeak) of process pid, in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatusMemory(b)
}

// parseStatusMemory reads VmRSS and VmHWM out of /proc/PID/status.
func parseStatusMemory(status []byte) (rss, hwm int64, err error) {
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

// resetPeak resets the kernel's peak resident set size (VmHWM) of
// process pid, so that the next reading covers only what follows. It
// needs Linux 4.0 and the right to write the process's clear_refs.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// watch measures what a long-running process (a daemon) spends on one
// transfer: its CPU time over the transfer, and its peak resident set
// size, from VmHWM (reset at the start where the kernel allows) and from
// VmRSS sampled every sampleEvery, whichever is larger.
type watch struct {
	pid      int
	cpu0     time.Duration
	hwmReset bool

	mu     sync.Mutex
	peak   int64
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// sampleEvery is how often a watch reads VmRSS.
const sampleEvery = 100 * time.Millisecond

// startWatch starts measuring process pid.
func startWatch(pid int) *watch {
	w := &watch{pid: pid, peak: -1, done: make(chan struct{})}
	w.hwmReset = resetPeak(pid) == nil
	var err error
	if w.cpu0, err = procCPU(pid); err != nil {
		w.err = err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() {
		defer close(w.done)
		t := time.NewTicker(sampleEvery)
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

func (w *watch) sample() {
	rss, hwm, err := procMemory(w.pid)
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

// stop ends the measurement and returns the CPU time used since the
// start and the peak resident set size (-1 for what is unknown).
func (w *watch) stop() (cpu time.Duration, peak int64, err error) {
	w.cancel()
	<-w.done
	w.sample()
	cpu = -1
	if c, cerr := procCPU(w.pid); cerr == nil && w.err == nil {
		cpu = c - w.cpu0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return cpu, w.peak, w.err
}

// lifetimePeak returns VmHWM of process pid: its peak resident set size
// since it started (or since the last resetPeak), or -1.
func lifetimePeak(pid int) int64 {
	_, hwm, err := procMemory(pid)
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

// followPeak reads VmHWM of process pid every sampleEvery until exited
// is closed.
func followPeak(pid int, exited <-chan struct{}) *peakWatch {
	w := &peakWatch{done: make(chan struct{})}
	w.peak.Store(-1)
	go func() {
		defer close(w.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			// A process that has exited but is not yet reaped has no
			// memory lines: keep what was read before.
			if _, hwm, err := procMemory(pid); err == nil && hwm > w.peak.Load() {
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
