package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The soft memory limit follows the cgroup's limit, v1 or v2, nested or
// not, and is left alone without a limit or with GOMEMLIMIT set.
func TestContainerMemoryLimit(t *testing.T) {
	const gib = int64(1) << 30
	for _, tc := range []struct {
		name   string
		cgroup string            // /proc/self/cgroup
		files  map[string]string // under the cgroup root
		env    string            // GOMEMLIMIT
		want   int64             // 0: not set
	}{
		{"v2 at the root of its namespace", "0::/\n", map[string]string{"memory.max": "2147483648\n"}, "", 2 * gib * 85 / 100},
		{"v2 nested", "0::/kubepods/pod1/c1\n", map[string]string{"kubepods/pod1/c1/memory.max": "4294967296", "memory.max": "max"}, "", 4 * gib * 85 / 100},
		{"v2 without a limit", "0::/\n", map[string]string{"memory.max": "max\n"}, "", 0},
		{"v1 with a limit", "4:memory:/ecs/task1\n0::/\n", map[string]string{"memory/ecs/task1/memory.limit_in_bytes": "1073741824"}, "", gib * 85 / 100},
		{"v1 with memory among other controllers", "5:cpu,memory:/x\n", map[string]string{"memory/x/memory.limit_in_bytes": "1073741824"}, "", gib * 85 / 100},
		{"v1 unlimited", "4:memory:/p\n0::/\n", map[string]string{"memory/p/memory.limit_in_bytes": "9223372036854771712"}, "", 0},
		{"v1 path outside the namespace, the root's file", "4:memory:/elsewhere\n", map[string]string{"memory/memory.limit_in_bytes": "536870912"}, "", 512 << 20 * 85 / 100},
		{"GOMEMLIMIT wins", "0::/\n", map[string]string{"memory.max": "2147483648"}, "1GiB", 0},
		{"garbage", "0::/\n", map[string]string{"memory.max": "lots"}, "", 0},
		{"no cgroup files", "", nil, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for p, content := range tc.files {
				full := filepath.Join(root, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			proc := filepath.Join(t.TempDir(), "cgroup")
			if tc.cgroup != "" {
				if err := os.WriteFile(proc, []byte(tc.cgroup), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var got int64
			note := applyContainerMemoryLimit(func(k string) string {
				if k == "GOMEMLIMIT" {
					return tc.env
				}
				return ""
			}, root, proc, func(n int64) int64 { got = n; return 0 })
			// The share is applied to the float of the limit: allow a byte.
			if d := got - tc.want; d < -1 || d > 1 {
				t.Fatalf("soft limit %d, want %d (note %q)", got, tc.want, note)
			}
			if (note != "") != (tc.want != 0) || (note != "" && !strings.Contains(note, "GOMEMLIMIT overrides")) {
				t.Errorf("note %q", note)
			}
		})
	}
}
