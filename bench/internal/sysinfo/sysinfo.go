// Package sysinfo describes the machine a benchmark ran on, for the
// benchmarks' reports.
package sysinfo

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes this machine: CPUs, memory, kernel.
func Machine() string {
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if m := ProcField("/proc/cpuinfo", "model name"); m != "" {
		s += ", " + m
	}
	var kb int64
	if _, err := fmt.Sscan(ProcField("/proc/meminfo", "MemTotal"), &kb); err == nil {
		s += fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
	}
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(s + ", " + runtime.GOOS + " " + strings.TrimSpace(string(rel)))
}

// ProcField returns the value of the first line of a /proc file that
// starts with key, or "".
func ProcField(path, key string) string {
	b, _ := os.ReadFile(path)
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
		}
	}
	return ""
}

// LoadAverage returns the 1, 5 and 15 minute load averages, or "".
func LoadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}
