package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// versionRE is the shape of the version line: the tool version, the Go
// version and the platform.
var versionRE = regexp.MustCompile(`^audit (\S+) \(go[^,]*, [a-z0-9]+/[a-z0-9]+\)\n$`)

// TestVersionFlag: `audit --version` (and -v) print exactly what `audit
// version` prints.
func TestVersionFlag(t *testing.T) {
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Run(context.Background(), args, strings.NewReader(""), &out, &errb); code != ExitOK {
			t.Fatalf("audit %s: exit %d, stderr %q", strings.Join(args, " "), code, errb.String())
		}
		if errb.Len() != 0 {
			t.Errorf("audit %s: stderr %q, want nothing", strings.Join(args, " "), errb.String())
		}
		return out.String()
	}
	want := run("version")
	m := versionRE.FindStringSubmatch(want)
	if m == nil {
		t.Fatalf("audit version = %q, want it to match %s", want, versionRE)
	}
	if m[1] != toolVersion() {
		t.Errorf("audit version reports %q, toolVersion() = %q", m[1], toolVersion())
	}
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		if got := run(args...); got != want {
			t.Errorf("audit %s = %q, audit version = %q", args[0], got, want)
		}
	}
}

// TestResolveVersion: the linker's version wins; else the module version Go
// records for `go install …/cmd/audit@v1.2.3` (or @latest); else devVersion.
func TestResolveVersion(t *testing.T) {
	info := func(v string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Path: "github.com/ecs-audit/audit", Version: v}}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	tests := []struct {
		name   string
		linked string
		read   func() (*debug.BuildInfo, bool)
		want   string
	}{
		{"linker flag (make build, make dist)", "v1.4.0-3-gabc1234", info("v1.2.3"), "v1.4.0-3-gabc1234"},
		{"go install @v1.2.3", "", info("v1.2.3"), "v1.2.3"},
		{"go install @latest of an untagged commit", "", info("v0.0.0-20260102030405-abcdefabcdef"), "v0.0.0-20260102030405-abcdefabcdef"},
		{"go build in a checkout", "", info("(devel)"), devVersion},
		{"no module version", "", info(""), devVersion},
		{"no build information", "", none, devVersion},
		{"nil build information", "", func() (*debug.BuildInfo, bool) { return nil, true }, devVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveVersion(tt.linked, tt.read); got != tt.want {
				t.Errorf("resolveVersion(%q) = %q, want %q", tt.linked, got, tt.want)
			}
		})
	}
}

// TestVersionLinkerFlag builds the binary with the linker flag the Makefile
// uses (-X main.version=…) and checks that both spellings report it.
func TestVersionLinkerFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "audit")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	const v = "v9.8.7-test"
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+v, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var outs []string
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil {
			t.Fatalf("audit %s: %v", arg, err)
		}
		outs = append(outs, string(out))
	}
	if outs[0] != outs[1] {
		t.Errorf("audit version = %q, audit --version = %q", outs[0], outs[1])
	}
	if m := versionRE.FindStringSubmatch(outs[0]); m == nil || m[1] != v {
		t.Errorf("audit version = %q, want version %s", outs[0], v)
	}
}
