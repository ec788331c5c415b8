package main

import (
	"os"
	"syscall"
)

// peakRSS is a finished child's maximum resident set size in bytes (Linux
// reports ru_maxrss in KiB).
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) << 10
	}
	return 0
}
