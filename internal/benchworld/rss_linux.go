//go:build linux

package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// On Linux, a child's getrusage maximum resident set size is not its own:
// Go starts a child with vfork (the child shares the parent's memory until
// it calls exec), and exec records the high-water mark of the memory it
// leaves in the child's maximum. A child of a process that holds 500 MiB
// reports at least 500 MiB. VmHWM in /proc/PID/status is the high-water
// mark of the child's own memory (it starts again at exec), so the child's
// peak is watched there while it runs.

// watchPeak follows pid's VmHWM until stop is called, which returns the
// highest value read (bytes), or the rusage maximum of ps when /proc gave
// nothing. The last reading is at most pollEvery before the child ends.
func watchPeak(pid int) (stop func(ps *os.ProcessState) int64) {
	const pollEvery = 10 * time.Millisecond
	var mu sync.Mutex
	var peak int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			if v := vmHWM(pid); v > 0 {
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func(ps *os.ProcessState) int64 {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if peak > 0 {
			return peak
		}
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			return int64(ru.Maxrss) << 10
		}
		return 0
	}
}

// vmHWM is VmHWM of /proc/PID/status in bytes, 0 when unknown (the process
// ended).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			f := bytes.Fields(v)
			if len(f) == 2 && string(f[1]) == "kB" {
				n, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return n << 10
			}
		}
	}
	return 0
}
