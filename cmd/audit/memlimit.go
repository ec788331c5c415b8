package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// A container's memory limit.
//
// Go lets the heap grow to about twice the live data before it collects
// (GOGC=100) and knows nothing of the container it runs in. A scan whose
// live data is 40 % of the container's memory can therefore be killed for
// memory it did not need: the scheduled Fargate task, a Kubernetes
// Indexed Job's pod and an AWS Batch job all run audit under a memory
// limit. When GOMEMLIMIT is not set, audit sets Go's soft memory limit to
// containerLimitShare of the limit of the cgroup it runs in (cgroup v2 or
// v1), so that the collector works harder near the limit instead. Outside
// a limited cgroup it changes nothing.

// containerLimitShare is the share of the container's limit given to Go's
// soft limit; the rest is for what the runtime does not count (stacks of
// the OS threads, memory mapped by the C library) and slack.
const containerLimitShare = 0.85

// unlimited is the smallest value taken as "no limit" (cgroup v1 writes
// a number near 2^63 for none).
const unlimited = int64(1) << 60

// cgroupMemoryLimit reads the memory limit of the process's cgroup:
// procCgroup is /proc/self/cgroup and root the cgroup file system
// (/sys/fs/cgroup). ok is false when there is no limit or none could be
// read.
func cgroupMemoryLimit(root, procCgroup string) (limit int64, where string, ok bool) {
	var v2, v1 string
	if f, err := os.Open(procCgroup); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			parts := strings.SplitN(sc.Text(), ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				v2 = parts[2]
			case hasController(parts[1], "memory"):
				v1 = parts[2]
			}
		}
		f.Close()
	}
	var candidates []string
	if v1 != "" {
		candidates = append(candidates, filepath.Join(root, "memory", v1, "memory.limit_in_bytes"))
	}
	candidates = append(candidates, filepath.Join(root, "memory", "memory.limit_in_bytes"))
	if v2 != "" {
		candidates = append(candidates, filepath.Join(root, v2, "memory.max"))
	}
	candidates = append(candidates, filepath.Join(root, "memory.max"))
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, p, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			continue
		}
		if n >= unlimited {
			return 0, p, false
		}
		return n, p, true
	}
	return 0, "", false
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// applyContainerMemoryLimit sets Go's soft memory limit from the
// container's when GOMEMLIMIT is not set, and says what it did ("" for
// nothing).
func applyContainerMemoryLimit(getenv func(string) string, root, procCgroup string, set func(int64) int64) string {
	if getenv("GOMEMLIMIT") != "" {
		return ""
	}
	limit, where, ok := cgroupMemoryLimit(root, procCgroup)
	if !ok {
		return ""
	}
	soft := int64(float64(limit) * containerLimitShare)
	set(soft)
	return fmt.Sprintf("Go's soft memory limit set to %d MiB, %.0f %% of the container's %d MiB (%s); GOMEMLIMIT overrides it",
		soft>>20, containerLimitShare*100, limit>>20, where)
}

// memoryLimitNote is what main's applyContainerMemoryLimit did; audit
// scan logs it.
var memoryLimitNote string

func setContainerMemoryLimit() {
	memoryLimitNote = applyContainerMemoryLimit(os.Getenv, "/sys/fs/cgroup", "/proc/self/cgroup", debug.SetMemoryLimit)
}
