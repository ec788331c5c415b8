//go:build profile

// With the build tag profile (go build -tags profile ./cmd/audit), audit
// writes a CPU profile to $AUDIT_CPUPROFILE, an execution trace to
// $AUDIT_TRACE, and at exit the profile of every allocation made to
// $AUDIT_MEMPROFILE (go tool pprof -sample_index=alloc_space), and to
// $AUDIT_HEAPPEAK the heap profile taken when the heap in use was largest
// (looked at every 50 ms; go tool pprof -sample_index=inuse_space), for
// measuring a run; builds without the tag have none of it. A profile that
// cannot be written is left out with a warning.
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"time"
)

func init() {
	warn := func(what string, err error) { fmt.Fprintf(os.Stderr, "audit: warning: %s: %v\n", what, err) }
	if path := os.Getenv("AUDIT_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err != nil {
			warn("CPU profile", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			warn("CPU profile", err)
			f.Close()
		} else {
			exitHooks = append(exitHooks, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("AUDIT_TRACE"); path != "" {
		if f, err := os.Create(path); err != nil {
			warn("trace", err)
		} else if err := trace.Start(f); err != nil {
			warn("trace", err)
			f.Close()
		} else {
			exitHooks = append(exitHooks, func() { trace.Stop(); f.Close() })
		}
	}
	if path := os.Getenv("AUDIT_MEMPROFILE"); path != "" {
		exitHooks = append(exitHooks, func() {
			f, err := os.Create(path)
			if err != nil {
				warn("allocation profile", err)
				return
			}
			defer f.Close()
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				warn("allocation profile", err)
			}
		})
	}
	if path := os.Getenv("AUDIT_HEAPPEAK"); path != "" {
		startHeapPeak(path, warn)
	}
}

// startHeapPeak keeps, in memory, the heap profile of the largest heap in
// use seen so far, and writes it to path when audit exits.
func startHeapPeak(path string, warn func(string, error)) {
	var (
		mu   sync.Mutex
		best []byte
		peak uint64
	)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse <= peak+peak/50 {
				continue
			}
			var buf bytes.Buffer
			if err := pprof.Lookup("heap").WriteTo(&buf, 0); err != nil {
				continue
			}
			mu.Lock()
			peak, best = ms.HeapInuse, buf.Bytes()
			mu.Unlock()
		}
	}()
	exitHooks = append(exitHooks, func() {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		if err := os.WriteFile(path, best, 0o644); err != nil {
			warn("heap profile at the peak", err)
			return
		}
		fmt.Fprintf(os.Stderr, "audit: heap profile at the peak (%d MiB in use) written to %s\n", peak>>20, path)
	})
}
