package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/report"
)

// withMergeChunk sets the chunk of findings (roles, task definitions) a
// merge or a report holds at a time for the test.
func withMergeChunk(t *testing.T, n int) {
	old := mergeChunk
	mergeChunk = n
	t.Cleanup(func() { mergeChunk = old })
}

// sameFiles compares every format's file in two directories, byte for
// byte.
func sameFiles(t *testing.T, got, want string) {
	t.Helper()
	for _, f := range report.Formats() {
		w, err := os.ReadFile(filepath.Join(want, f.File))
		if err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(filepath.Join(got, f.File))
		if err != nil {
			t.Fatal(err)
		}
		if len(w) == 0 || !bytes.Equal(g, w) {
			t.Errorf("%s differs (%d vs %d bytes)", f.File, len(g), len(w))
		}
	}
}

// audit merge reads its parts as streams into a spool, a few findings at
// a time: with chunks of two elements (every part's lists span many
// chunks) its reports are, byte for byte, those of the merge of the parts
// held in memory (the way where no spool file can be made, as merge was
// before).
func TestMergeStreamedEqualsInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("three live scans")
	}
	if _, err := findingsSchema(); err != nil {
		t.Fatal(err)
	}
	dir := configEnv(t, "", nil)
	serveWorld(t, demo.World())
	var parts []string
	for k, shard := range []string{"0/3", "1/3", "2/3"} {
		out := filepath.Join(dir, "shard-"+string(rune('0'+k)))
		if code, _, stderr := run(t, "", "scan", "--org", "--shard", shard, "--out", out, "--quiet"); code != ExitOK {
			t.Fatalf("shard %d: exit %d:\n%s", k, code, stderr)
		}
		parts = append(parts, out)
	}
	inMemory := filepath.Join(dir, "in-memory")
	code, _, stderr := run(t, "", append([]string{"merge", "--format", "all", "--out", inMemory, "--spool-dir", filepath.Join(dir, "nope")}, parts...)...)
	if code != ExitOK || !strings.Contains(stderr, "the findings are held in memory") {
		t.Fatalf("in-memory merge: exit %d:\n%s", code, stderr)
	}
	withMergeChunk(t, 2)
	streamed, spool := filepath.Join(dir, "streamed"), filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	// In any order of the parts.
	code, _, stderr = run(t, "", append([]string{"merge", "--format", "all", "--out", streamed, "--spool-dir", spool, "--quiet"}, parts[2], parts[0], parts[1])...)
	if code != ExitOK || stderr != "" {
		t.Fatalf("streamed merge: exit %d:\n%s", code, stderr)
	}
	res := readResult(t, filepath.Join(streamed, "findings.json"))
	if res.Summary.Total <= 2*3 || len(res.Roles) <= 2*3 || len(res.TaskDefinitions) <= 2*3 {
		t.Fatalf("too few elements for several chunks per part: %+v", res.Summary)
	}
	sameFiles(t, streamed, inMemory)
	// The spool is gone.
	if left, _ := os.ReadDir(spool); len(left) > 0 {
		t.Errorf("%d files left in the spool directory", len(left))
	}
}

// audit report reads its findings.json as a stream into a spool: with
// chunks of two elements its reports are those of the Result held in
// memory, for this version's findings.json and a version 1 one.
func TestReportStreamedEqualsInMemory(t *testing.T) {
	dir := t.TempDir()
	scanned := filepath.Join(dir, "scan")
	scanDemo(t, scanned)
	for name, in := range map[string]string{"current": filepath.Join(scanned, "findings.json"), "version 1": demoV1} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			inMemory, streamed := filepath.Join(out, "in-memory"), filepath.Join(out, "streamed")
			t.Setenv("TMPDIR", filepath.Join(out, "nope"))
			code, _, stderr := run(t, "", "report", in, "--format", "all", "--out", inMemory, "--quiet")
			if code != ExitOK || !strings.Contains(stderr, "the findings are held in memory") {
				t.Fatalf("in memory: exit %d:\n%s", code, stderr)
			}
			t.Setenv("TMPDIR", out)
			withMergeChunk(t, 2)
			code, _, stderr = run(t, "", "report", in, "--format", "all", "--out", streamed, "--quiet")
			if code != ExitOK || strings.Contains(stderr, "held in memory") {
				t.Fatalf("streamed: exit %d:\n%s", code, stderr)
			}
			sameFiles(t, streamed, inMemory)
			if left, _ := filepath.Glob(filepath.Join(out, "audit-spool-*")); len(left) > 0 {
				t.Errorf("spool files left: %v", left)
			}
		})
	}
}

// audit merge of s3:// parts (each shard's --out prefix, read through its
// latest/): each is copied to a temporary file in --spool-dir, which is
// left empty, and read from there; the reports are those of the same
// parts merged from local files.
func TestMergeS3Parts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server, three live scans")
	}
	srv := mototest.Start(t) // skips locally without moto_server; fails in CI
	dir := configEnv(t, "", nil)
	serveWorld(t, demo.World())
	// S3 is moto's; everything else the fake organization's.
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	ctx := context.Background()
	const bucket = "audit-shards"
	mototest.CreateBucket(t, ctx, bucket)
	var local, remote []string
	for k, shard := range []string{"0/3", "1/3", "2/3"} {
		out := filepath.Join(dir, "shard-"+string(rune('0'+k)))
		dest := "s3://" + bucket + "/run/shard-" + string(rune('0'+k)) + "/"
		if code, _, stderr := run(t, "", "scan", "--org", "--shard", shard, "--out", dest, "--quiet"); code != ExitOK {
			t.Fatalf("shard %d: exit %d:\n%s", k, code, stderr)
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "findings.json"), mototest.Object(t, ctx, bucket, "run/shard-"+string(rune('0'+k))+"/latest/findings.json"), 0o644); err != nil {
			t.Fatal(err)
		}
		local, remote = append(local, out), append(remote, dest)
	}
	fromFiles := filepath.Join(dir, "from-files")
	if code, _, stderr := run(t, "", append([]string{"merge", "--format", "all", "--out", fromFiles, "--quiet"}, local...)...); code != ExitOK {
		t.Fatalf("merge of files: exit %d:\n%s", code, stderr)
	}
	withMergeChunk(t, 3)
	fromS3, spool := filepath.Join(dir, "from-s3"), filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "", append([]string{"merge", "--format", "all", "--out", fromS3, "--spool-dir", spool, "--quiet"}, remote...)...)
	if code != ExitOK || stderr != "" {
		t.Fatalf("merge of s3:// parts: exit %d:\n%s", code, stderr)
	}
	sameFiles(t, fromS3, fromFiles)
	if left, _ := os.ReadDir(spool); len(left) > 0 {
		t.Errorf("%d files left in the spool directory", len(left))
	}
}
