//go:build profile

// With the build tag profile (go build -tags profile ./cmd/audit), audit
// writes a CPU profile to $AUDIT_CPUPROFILE, an execution trace to
// $AUDIT_TRACE, and at exit the profile of every allocation made to
// $AUDIT_MEMPROFILE (go tool pprof -sample_index=alloc_space), for
// measuring a run; builds without the tag have none of it. A profile that
// cannot be written is left out with a warning.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
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
}
