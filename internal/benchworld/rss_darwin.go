package main

import (
	"os"
	"syscall"
)

// peakRSS is a finished child's maximum resident set size in bytes (macOS
// reports ru_maxrss in bytes).
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}

// watchPeak gives the child's rusage maximum when it ends.
func watchPeak(int) func(*os.ProcessState) int64 { return peakRSS }
