package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireTool returns the path of a tool the test needs. Without it the
// test is skipped, except in CI (CI=true), where a missing tool is a failure:
// a CI machine without it must not pass by skipping.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing: %v (CI=true, so this cannot be skipped; .ci/run installs it)", name, err)
		}
		t.Skipf("%s not on PATH (%v); skipping", name, err)
	}
	return p
}

// run runs a command and returns its combined output; a non-zero exit or a
// timeout fails the test with the command, the exit status and the output.
func run(t *testing.T, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(timeout, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(timeout time.Duration, env []string, name string, args ...string) (string, error) {
	return runIn("", timeout, env, name, args...)
}

// runIn is runErr in the working directory dir ("" for this one).
func runIn(dir string, timeout time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var b bytes.Buffer
	cmd.Stdout = &b
	cmd.Stderr = &b
	err := cmd.Run()
	return b.String(), err
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  string
	binDir  string
)

// auditBinary builds cmd/audit once per test binary run (static, as in the
// image) and returns its path.
func auditBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "audit-deploy-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "audit")
		binOut, binErr = runErr(5*time.Minute, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-o", binPath, "../cmd/audit")
	})
	if binErr != nil {
		t.Fatalf("building cmd/audit: %v\n%s", binErr, binOut)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}
