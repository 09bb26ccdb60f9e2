// Package sysinfo describes the machine a benchmark ran on and the
// commands it ran, for the benchmarks' reports.
package sysinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes this machine: CPUs, memory, kernel.
func Machine() string {
	parts := []string{fmt.Sprintf("%d CPUs", runtime.NumCPU())}
	if m := ProcField("/proc/cpuinfo", "model name"); m != "" {
		parts[0] += ", " + m
	}
	if kb := MemTotalKB(); kb > 0 {
		parts = append(parts, fmt.Sprintf("%.1f GiB RAM", float64(kb)/(1<<20)))
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		parts = append(parts, runtime.GOOS+" "+strings.TrimSpace(string(rel)))
	} else {
		parts = append(parts, runtime.GOOS)
	}
	return strings.Join(parts, ", ")
}

// MemTotalKB returns the machine's memory in KiB, or 0.
func MemTotalKB() int64 {
	f := strings.Fields(ProcField("/proc/meminfo", "MemTotal"))
	if len(f) == 0 {
		return 0
	}
	var kb int64
	if _, err := fmt.Sscan(f[0], &kb); err != nil {
		return 0
	}
	return kb
}

// ProcField returns the value of the first line of a /proc file that
// starts with key, or "".
func ProcField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(rest), ":"))
		}
	}
	return ""
}

// LoadAverage returns the 1, 5 and 15 minute load averages, or "".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
