package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const demoSnapshotFile = "../../testdata/demo/snapshot.json"

// A scan spools the evaluation in the temporary directory (TMPDIR) and
// leaves nothing there; its reports are those written with
// --evidence-dir, which evaluates the whole Result in memory.
func TestScanSpool(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	spooled, whole := t.TempDir(), t.TempDir()
	if code, _, stderr := run(t, "", "scan", "--snapshot", demoSnapshotFile, "--format", "all", "--out", spooled, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "scan", "--snapshot", demoSnapshotFile, "--format", "all", "--out", whole, "--quiet",
		"--evidence-dir", filepath.Join(whole, "evidence")); code != 0 {
		t.Fatalf("with --evidence-dir: exit %d: %s", code, stderr)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left in TMPDIR: %s", e.Name())
	}
	files, err := filepath.Glob(filepath.Join(spooled, "*"))
	if err != nil || len(files) != 6 {
		t.Fatalf("%d reports (%v)", len(files), err)
	}
	for _, f := range files {
		a, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(whole, filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Errorf("%s: written from the spool, it differs from the one written from the whole Result", filepath.Base(f))
		}
	}
}

// Where no spool file can be made (a read-only file system), the findings
// are held in memory, with a note, and the reports are the same.
func TestScanSpoolUnavailable(t *testing.T) {
	want := t.TempDir()
	if code, _, stderr := run(t, "", "scan", "--snapshot", demoSnapshotFile, "--format", "all", "--out", want, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	out := t.TempDir()
	code, _, stderr := run(t, "", "scan", "--snapshot", demoSnapshotFile, "--format", "all", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "findings spool") || !strings.Contains(stderr, "held in memory") {
		t.Errorf("no note that the spool could not be made: %s", stderr)
	}
	files, err := filepath.Glob(filepath.Join(want, "*"))
	if err != nil || len(files) != 6 {
		t.Fatalf("%d reports (%v)", len(files), err)
	}
	for _, f := range files {
		a, _ := os.ReadFile(f)
		b, err := os.ReadFile(filepath.Join(out, filepath.Base(f)))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s differs without a spool (%v)", filepath.Base(f), err)
		}
	}
}
