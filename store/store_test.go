package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	run1 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	run2 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func mustPut(t *testing.T, d *Destination, name, content string) Object {
	t.Helper()
	o, err := d.Put(context.Background(), name, writeString(content))
	if err != nil {
		t.Fatalf("Put %s: %v", name, err)
	}
	return o
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// files lists the files under dir (relative, slash-separated), hidden ones
// included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The default local layout is today's --out DIR: files directly in DIR,
// nothing else, Commit does nothing.
func TestLocalUndated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	ctx := context.Background()
	d, err := Open(ctx, dir, Options{Time: run2})
	if err != nil {
		t.Fatal(err)
	}
	if d.RunURL() != dir || d.LatestURL() != "" {
		t.Errorf("RunURL %q LatestURL %q", d.RunURL(), d.LatestURL())
	}
	o := mustPut(t, d, "findings.json", `{"a":1}`)
	sum := sha256.Sum256([]byte(`{"a":1}`))
	want := Object{Name: "findings.json", URL: filepath.Join(dir, "findings.json"), Size: 7, SHA256: hex.EncodeToString(sum[:])}
	if o != want {
		t.Errorf("Put = %+v, want %+v", o, want)
	}
	mustPut(t, d, "evidence/aws/1/x.json", "{}")
	mustPut(t, d, ManifestName, "not reserved without latest/")
	if err := d.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got, want := files(t, dir), []string{"evidence/aws/1/x.json", "findings.json", "manifest.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if got := d.Objects(); len(got) != 3 || got[0].Name != "evidence/aws/1/x.json" || got[0].URL != filepath.Join(dir, "evidence", "aws", "1", "x.json") {
		t.Errorf("Objects = %+v", got)
	}
	if _, err := d.Put(ctx, "late.json", writeString("x")); err == nil || !strings.Contains(err.Error(), "already committed") {
		t.Errorf("Put after Commit: %v", err)
	}
	if err := d.Commit(ctx); err == nil {
		t.Error("second Commit succeeded")
	}
}

// A writer that fails leaves the previous file as it was and no temporary
// file behind.
func TestLocalPutFailureIsAtomic(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, d, "findings.json", "old")
	boom := errors.New("renderer failed")
	_, err = d.Put(ctx, "findings.json", func(w io.Writer) error {
		io.WriteString(w, "half a rep")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Put error %v, want %v", err, boom)
	}
	if got := readFile(t, filepath.Join(dir, "findings.json")); got != "old" {
		t.Errorf("findings.json = %q after a failed write", got)
	}
	if got := files(t, dir); !reflect.DeepEqual(got, []string{"findings.json"}) {
		t.Errorf("files %v", got)
	}
	if len(d.Objects()) != 0 {
		t.Errorf("a failed Put is listed: %+v", d.Objects())
	}
	for _, name := range []string{"", "../x", "/abs", "a//b"} {
		if _, err := d.Put(ctx, name, writeString("x")); err == nil {
			t.Errorf("Put(%q) accepted", name)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.Put(cctx, "c.json", writeString("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}
}

// Dated local destinations take the S3 layout and go through the same
// Commit: run 1 writes two reports, run 2 only one; latest/ then holds run
// 2 and no stale report of run 1.
func TestLocalDatedCommit(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	d1, err := Open(ctx, dir, Options{Time: run1, Dated: true})
	if err != nil {
		t.Fatal(err)
	}
	reserved, err := Open(ctx, t.TempDir(), Options{Time: run1, Dated: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reserved.Put(ctx, ManifestName, writeString("x")); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("Put manifest.json: %v", err)
	}
	mustPut(t, d1, "findings.json", "run1 findings")
	mustPut(t, d1, "report.html", "run1 html")
	if err := d1.Commit(ctx); err != nil {
		t.Fatalf("Commit 1: %v", err)
	}
	d2, err := Open(ctx, dir, Options{Time: run2, Dated: true})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, d2, "findings.json", "run2 findings")
	if err := d2.Commit(ctx); err != nil {
		t.Fatalf("Commit 2: %v", err)
	}
	want := []string{
		"2026-12-03T10-00-00Z/findings.json",
		"2026-12-03T10-00-00Z/report.html",
		"2026-12-04T10-00-00Z/findings.json",
		"latest/findings.json",
		"latest/manifest.json",
	}
	if got := files(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("files:\n%v\nwant\n%v", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "latest", "findings.json")); got != "run2 findings" {
		t.Errorf("latest/findings.json = %q", got)
	}
	f, err := os.Open(filepath.Join(dir, "latest", ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := DecodeManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("run2 findings"))
	wantM := &Manifest{Schema: ManifestSchema, Time: run2, Run: filepath.Join(dir, "2026-12-04T10-00-00Z"),
		Objects: []ManifestObject{{Name: "findings.json", Size: 13, SHA256: hex.EncodeToString(sum[:])}}}
	if !reflect.DeepEqual(m, wantM) {
		t.Errorf("manifest %+v, want %+v", m, wantM)
	}
}

// failingBackend wraps a backend and fails chosen operations.
type failingBackend struct {
	backend
	failPut    func(key string) error
	failCopy   func(src string) error
	failRemove func(key string) error
}

func (f *failingBackend) put(ctx context.Context, key string, write func(io.Writer) error) error {
	if f.failPut != nil {
		if err := f.failPut(key); err != nil {
			return err
		}
	}
	return f.backend.put(ctx, key, write)
}

func (f *failingBackend) copy(ctx context.Context, src, dst string) error {
	if f.failCopy != nil {
		if err := f.failCopy(src); err != nil {
			return err
		}
	}
	return f.backend.copy(ctx, src, dst)
}

func (f *failingBackend) remove(ctx context.Context, key string) error {
	if f.failRemove != nil {
		if err := f.failRemove(key); err != nil {
			return err
		}
	}
	return f.backend.remove(ctx, key)
}

// commitFirstRun writes and commits run 1 (a.json, b.json, c.json) into dir.
func commitFirstRun(t *testing.T, dir string) {
	t.Helper()
	d := newDestination(&localBackend{dir: dir}, Location{Path: dir}, run1, true)
	for _, n := range []string{"a.json", "b.json", "c.json"} {
		mustPut(t, d, n, "run1 "+n)
	}
	if err := d.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func latestContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range files(t, filepath.Join(dir, "latest")) {
		out[f] = readFile(t, filepath.Join(dir, "latest", f))
	}
	return out
}

func TestCommitFailures(t *testing.T) {
	errDenied := errors.New("access denied (injected)")
	run1Dir := "2026-12-03T10-00-00Z"
	tests := []struct {
		name string
		// names run 2 writes (each "run2 NAME"); a put of failName fails.
		names    []string
		failPut  string
		failCopy string
		failRm   string
		// want
		committed   bool
		copied      []string
		pending     []string
		latest      map[string]string // without manifest.json
		manifestRun string            // dated directory named by latest/manifest.json
		msg         []string
	}{
		{
			name: "a Put fails: latest/ untouched", names: []string{"a.json", "b.json", "c.json"}, failPut: "b.json",
			latest:      map[string]string{"a.json": "run1 a.json", "b.json": "run1 b.json", "c.json": "run1 c.json"},
			manifestRun: run1Dir,
			msg:         []string{"left as it was", `writing "b.json" failed`, "still names the previous run", run1Dir},
		},
		{
			name: "a Put is refused for its name: latest/ untouched", names: []string{"a.json", "../x.json"}, failPut: "../x.json",
			latest:      map[string]string{"a.json": "run1 a.json", "b.json": "run1 b.json", "c.json": "run1 c.json"},
			manifestRun: run1Dir,
			msg:         []string{"left as it was", `writing "../x.json" failed`},
		},
		{
			name: "a copy fails part-way: stops, says what happened", names: []string{"a.json", "b.json", "c.json"}, failCopy: "b.json",
			copied: []string{"a.json"}, pending: []string{"b.json", "c.json"},
			latest:      map[string]string{"a.json": "run2 a.json", "b.json": "run1 b.json", "c.json": "run1 c.json"},
			manifestRun: run1Dir,
			msg:         []string{"1 of 3 objects were copied (a.json)", "b.json, c.json were not", "mixes two runs", "still names the previous run", "2026-12-04T10-00-00Z"},
		},
		{
			name: "the first copy fails: latest/ as it was", names: []string{"a.json", "b.json"}, failCopy: "a.json",
			pending:     []string{"a.json", "b.json"},
			latest:      map[string]string{"a.json": "run1 a.json", "b.json": "run1 b.json", "c.json": "run1 c.json"},
			manifestRun: run1Dir,
			msg:         []string{"left as it was"},
		},
		{
			name: "the manifest write fails: every object copied, manifest old", names: []string{"a.json"}, failPut: "latest/manifest.json",
			copied:      []string{"a.json"},
			latest:      map[string]string{"a.json": "run2 a.json", "b.json": "run1 b.json", "c.json": "run1 c.json"},
			manifestRun: run1Dir,
			msg:         []string{"still names the previous run"},
		},
		{
			name: "stale removal fails: committed, says so", names: []string{"a.json"}, failRm: "latest/c.json",
			committed:   true,
			copied:      []string{"a.json"},
			latest:      map[string]string{"a.json": "run2 a.json", "c.json": "run1 c.json"},
			manifestRun: "2026-12-04T10-00-00Z",
			msg:         []string{"now holds the run", "may remain", "access denied (injected)"},
		},
		{
			name: "nothing written", names: nil,
			latest:      map[string]string{"a.json": "run1 a.json", "b.json": "run1 b.json", "c.json": "run1 c.json"},
			manifestRun: run1Dir,
			msg:         []string{"left as it was", "wrote nothing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			commitFirstRun(t, dir)
			fb := &failingBackend{backend: &localBackend{dir: dir}}
			fb.failPut = func(key string) error {
				if tt.failPut != "" && strings.HasSuffix(key, "/"+tt.failPut) || key == tt.failPut {
					return errDenied
				}
				return nil
			}
			fb.failCopy = func(src string) error {
				if tt.failCopy != "" && strings.HasSuffix(src, "/"+tt.failCopy) {
					return errDenied
				}
				return nil
			}
			fb.failRemove = func(key string) error {
				if key == tt.failRm {
					return errDenied
				}
				return nil
			}
			d := newDestination(fb, Location{Path: dir}, run2, true)
			for _, n := range tt.names {
				_, err := d.Put(context.Background(), n, writeString("run2 "+n))
				if (err != nil) != (n == tt.failPut) {
					t.Fatalf("Put %s: %v", n, err)
				}
			}
			err := d.Commit(context.Background())
			var ce *CommitError
			if !errors.As(err, &ce) {
				t.Fatalf("Commit = %v, want a *CommitError", err)
			}
			if ce.Committed != tt.committed || !reflect.DeepEqual(ce.Copied, tt.copied) || !reflect.DeepEqual(ce.Pending, tt.pending) {
				t.Errorf("CommitError committed=%v copied=%v pending=%v, want %v %v %v", ce.Committed, ce.Copied, ce.Pending, tt.committed, tt.copied, tt.pending)
			}
			if ce.Previous != filepath.Join(dir, run1Dir) {
				t.Errorf("Previous = %q", ce.Previous)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q\ndoes not say %q", err, m)
				}
			}
			got := latestContents(t, dir)
			f, _ := os.Open(filepath.Join(dir, "latest", ManifestName))
			m, merr := DecodeManifest(f)
			f.Close()
			if merr != nil {
				t.Fatal(merr)
			}
			delete(got, ManifestName)
			if !reflect.DeepEqual(got, tt.latest) {
				t.Errorf("latest/ = %v, want %v", got, tt.latest)
			}
			if m.Run != filepath.Join(dir, tt.manifestRun) {
				t.Errorf("manifest names %s, want %s", m.Run, tt.manifestRun)
			}
		})
	}
}

// A damaged previous manifest does not stop the commit, but is reported.
func TestCommitDamagedPreviousManifest(t *testing.T) {
	dir := t.TempDir()
	commitFirstRun(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "latest", ManifestName), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := newDestination(&localBackend{dir: dir}, Location{Path: dir}, run2, true)
	mustPut(t, d, "a.json", "run2")
	err := d.Commit(context.Background())
	var ce *CommitError
	if !errors.As(err, &ce) || !ce.Committed || !strings.Contains(err.Error(), "reading the previous") {
		t.Fatalf("Commit = %v", err)
	}
	if got := readFile(t, filepath.Join(dir, "latest", "a.json")); got != "run2" {
		t.Errorf("latest/a.json = %q", got)
	}
}

// A manifest is data read back from storage: names in it that are not
// valid run object names are never removed.
func TestCommitIgnoresHostileManifestNames(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "latest"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := fmt.Sprintf(`{"schema":%q,"run":"x","objects":[{"name":"../keep.txt"},{"name":"/etc/passwd"},{"name":"manifest.json"}]}`, ManifestSchema)
	if err := os.WriteFile(filepath.Join(dir, "latest", ManifestName), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	var removed []string
	fb := &failingBackend{backend: &localBackend{dir: dir}, failRemove: func(key string) error {
		removed = append(removed, key)
		return nil
	}}
	d := newDestination(fb, Location{Path: dir}, run2, true)
	mustPut(t, d, "a.json", "x")
	if err := d.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(removed) != 0 {
		t.Errorf("removed %v", removed)
	}
	if readFile(t, outside) != "keep" {
		t.Error("a file outside latest/ was touched")
	}
}

func TestConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(context.Background(), dir, Options{Time: run2, Dated: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if _, err := d.Put(context.Background(), fmt.Sprintf("f%02d.json", i), writeString(strings.Repeat("x", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := d.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	objs := d.Objects()
	if len(objs) != 16 {
		t.Fatalf("%d objects", len(objs))
	}
	for i, o := range objs {
		if o.Name != fmt.Sprintf("f%02d.json", i) || o.Size != int64(i) {
			t.Errorf("object %d: %+v", i, o)
		}
		if got := readFile(t, filepath.Join(dir, "latest", o.Name)); len(got) != i {
			t.Errorf("latest/%s has %d bytes", o.Name, len(got))
		}
	}
}

func TestReadAndListLocal(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(context.Background(), dir, Options{Time: run2, Dated: true})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, d, "findings.json", "F")
	mustPut(t, d, "evidence/x.json", "XX")
	if err := d.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "latest", ".findings.json.tmp123"), []byte("partial"), 0o644)
	rc, err := Read(context.Background(), filepath.Join(dir, "latest", "findings.json"), AWS{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "F" {
		t.Errorf("Read = %q", b)
	}
	if _, err := Read(context.Background(), filepath.Join(dir, "missing.json"), AWS{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read missing: %v", err)
	}
	objs, err := List(context.Background(), filepath.Join(dir, "latest"), AWS{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	if want := []string{"evidence/x.json", "findings.json", "manifest.json"}; !reflect.DeepEqual(names, want) {
		t.Errorf("List names %v, want %v", names, want)
	}
	if objs[0].URL != filepath.Join(dir, "latest", "evidence", "x.json") || objs[0].Size != 2 {
		t.Errorf("List[0] = %+v", objs[0])
	}
}

func TestOpenRejects(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		dest string
		opts Options
		want string
	}{
		{"s3://Bad_Bucket/", Options{}, `"s3://Bad_Bucket/"`},
		{t.TempDir(), Options{KMSKeyID: "alias/x"}, "S3 destinations only"},
		{"s3://bucket/", Options{KMSKeyID: "alias/x y"}, "KMS key"},
		{"s3://bucket/", Options{AWS: AWS{Region: "Mars"}}, `region "Mars"`},
	} {
		if _, err := Open(ctx, tt.dest, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q, %+v) = %v, want error containing %q", tt.dest, tt.opts, err, tt.want)
		}
	}
}
