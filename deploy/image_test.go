package deploy

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// podmanConf is a containers.conf for podman on these machines: Debian's
// default ulimits cannot be set inside the sandbox the tests run in ("error
// setting rlimit type 7: operation not permitted").
const podmanConf = "[containers]\ndefault_ulimits = []\n"

// TestImage builds the image with `make image` (podman, FROM scratch) and
// runs `audit version` and `audit demo` in it: as its non-root user, without
// network, and once with a read-only root file system as scanner.yaml runs
// it on Fargate. In CI (CI=true) a missing podman or a runtime that cannot
// run is a failure with podman's exact error, never a skip.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a container image")
	}
	requireTool(t, "podman")
	requireTool(t, "make")
	conf := filepath.Join(t.TempDir(), "containers.conf")
	if err := os.WriteFile(conf, []byte(podmanConf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"CONTAINERS_CONF=" + conf}
	podman := func(args ...string) []string { return append([]string{"--runtime", "runc"}, args...) }

	version := fmt.Sprintf("v0.0.0-imagetest.%d", time.Now().UnixNano())
	tag := "localhost/audit-imagetest:" + strings.TrimPrefix(version, "v")
	start := time.Now()
	imageContext := t.TempDir()
	run(t, 10*time.Minute, env, "make", "-C", "..", "image",
		"IMAGE="+tag, "VERSION="+version, "IMAGE_CONTEXT="+imageContext, "PODMAN=podman --runtime runc")
	t.Cleanup(func() {
		if out, err := runErr(time.Minute, env, "podman", podman("rmi", "--force", tag)...); err != nil {
			t.Logf("podman rmi %s: %v\n%s", tag, err, out)
		}
	})
	built := time.Since(start)

	// The image as configured.
	var inspect []struct {
		Config struct {
			User       string
			Entrypoint []string
			Env        []string
			Volumes    map[string]any
			Labels     map[string]string
		}
		Size int64
	}
	out := run(t, time.Minute, env, "podman", podman("image", "inspect", tag)...)
	if err := json.Unmarshal([]byte(out), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	cfg := inspect[0].Config
	if cfg.User != "65532:65532" || !slices.Equal(cfg.Entrypoint, []string{"/audit"}) {
		t.Errorf("image user %q entrypoint %v, want 65532:65532 and /audit", cfg.User, cfg.Entrypoint)
	}
	if _, ok := cfg.Volumes["/home/audit"]; !ok {
		t.Errorf("image volumes %v: /home/audit must be a VOLUME (scanner.yaml mounts it)", cfg.Volumes)
	}
	if !slices.Contains(cfg.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") {
		t.Errorf("image env %v", cfg.Env)
	}
	if cfg.Labels["org.opencontainers.image.version"] != version {
		t.Errorf("image version label %q, want %s", cfg.Labels["org.opencontainers.image.version"], version)
	}
	// A static binary, a CA bundle and two small files: nothing else (a
	// base image or a build toolchain would add tens of MiB).
	var context int64
	_ = filepath.WalkDir(imageContext, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				context += fi.Size()
			}
		}
		return nil
	})
	if context == 0 || inspect[0].Size > context+1<<20 {
		t.Errorf("image size %d bytes, build context %d bytes: the image holds more than the binary, the CA bundle and the user files", inspect[0].Size, context)
	}

	// audit version: the binary runs in an image with no libc, so it is static.
	start = time.Now()
	out = run(t, 2*time.Minute, env, "podman", podman("run", "--rm", "--network", "none", tag, "version")...)
	if !strings.HasPrefix(out, "audit "+version+" (") {
		t.Errorf("audit version in the image: %q, want audit %s", out, version)
	}
	versionTime := time.Since(start)

	// audit demo, writing its reports to a host directory: the files belong
	// to the image's non-root user.
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	out = run(t, 5*time.Minute, env, "podman", podman("run", "--rm", "--network", "none", "-v", dir+":/home/audit/out",
		tag, "demo", "--out", "/home/audit/out")...)
	demoTime := time.Since(start)
	if !strings.Contains(out, "scanned 4 accounts") {
		t.Errorf("audit demo output:\n%s", out)
	}
	for _, f := range []string{"findings.json", "findings.sarif", "report.html", "findings.xlsx", "summary.md", "findings.csv", "inventory.json"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Errorf("audit demo in the image did not write %s: %v", f, err)
			continue
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && (sys.Uid != 65532 || sys.Gid != 65532) {
			t.Errorf("%s is owned by %d:%d, want the image's user 65532:65532", f, sys.Uid, sys.Gid)
		}
		if st.Size() == 0 {
			t.Errorf("%s is empty", f)
		}
	}

	// As on Fargate: read-only root file system, reports into the VOLUME.
	run(t, 5*time.Minute, env, "podman", podman("run", "--rm", "--network", "none", "--read-only", "--read-only-tmpfs=false",
		tag, "demo", "--out", "out", "--quiet", "--format", "json")...)

	t.Logf("make image: %s; audit version in the image: %s; audit demo in the image: %s; image size %d MiB",
		built.Round(100*time.Millisecond), versionTime.Round(100*time.Millisecond), demoTime.Round(100*time.Millisecond), inspect[0].Size>>20)
}
