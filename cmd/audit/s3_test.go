package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/inventory"
)

// runs groups the keys under prefix by their first segment (a run's stamp,
// or latest) and returns the names below it.
func runs(objs []mototest.S3Object, prefix string) map[string][]string {
	out := map[string][]string{}
	for _, o := range objs {
		seg, name, _ := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
		out[seg] = append(out[seg], name)
	}
	return out
}

// resultFrom reads a findings.json object through a local file, so that it
// is checked against the schema as well.
func resultFrom(t *testing.T, data []byte) *findings.Result {
	t.Helper()
	p := filepath.Join(t.TempDir(), "findings.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return readResult(t, p)
}

// waitNextSecond returns once the clock has entered the second after t, so
// that two runs get different dated keys.
func waitNextSecond(t time.Time) {
	time.Sleep(time.Until(t.Truncate(time.Second).Add(time.Second)))
}

// --out s3:// against moto_server, run as a schedule would: the first run
// finds no baseline (every finding new), writes every report, the snapshot
// and the evidence under a dated key with SSE-S3 and then latest/; the
// second reads latest/findings.json back as its baseline (nothing new),
// writes with SSE-KMS, and latest/ then holds exactly its objects.
func TestScanToS3AgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	demo := absDemo(t)
	srv := mototest.Start(t) // skips locally without moto_server; fails in CI
	mototest.Env(t, srv.URL)
	dir := configEnv(t, "", nil)
	ctx := context.Background()
	const bucket = "audit-reports"
	mototest.CreateBucket(t, ctx, bucket)
	dest := "s3://" + bucket + "/daily/"
	latest := dest + "latest/findings.json"

	// Run 1: the first of a schedule.
	start := time.Now()
	code, _, stderr := run(t, "", "scan", "--snapshot", demo, "--format", "json,sarif,html", "--out", dest,
		"--save-snapshot", "inventory.json", "--evidence-dir", "evidence", "--baseline", latest, "--fail-on-new", "critical")
	if code != ExitFindings {
		t.Fatalf("first run: exit %d, want %d (every finding is new):\n%s", code, ExitFindings, stderr)
	}
	objs := mototest.Objects(t, ctx, bucket, "daily/")
	byRun := runs(objs, "daily/")
	if len(byRun) != 2 || byRun["latest"] == nil {
		t.Fatalf("runs %v, want one dated run and latest", byRun)
	}
	var stamp string
	for k := range byRun {
		if k != "latest" {
			stamp = k
		}
	}
	if ts, err := time.Parse("2006-01-02T15-04-05Z", stamp); err != nil || ts.Before(start.Truncate(time.Second)) || ts.After(time.Now()) {
		t.Errorf("dated segment %q (%v): not the run's time", stamp, err)
	}
	run1 := dest + stamp + "/"
	for _, want := range []string{
		"audit: note: baseline " + latest + " does not exist yet (a first run): every finding is new\n",
		"wrote " + run1 + "findings.json\n", "wrote " + run1 + "inventory.json\n",
		"audit: " + dest + "latest/ now holds this run (" + run1 + ")\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	dated := byRun[stamp]
	evidence := 0
	for _, n := range dated {
		if strings.HasPrefix(n, "evidence/aws/") {
			evidence++
		}
	}
	for _, n := range []string{"findings.json", "findings.sarif", "report.html", "inventory.json"} {
		if !slices.Contains(dated, n) {
			t.Errorf("run %s has no %s: %v", stamp, n, dated)
		}
	}
	if evidence == 0 {
		t.Errorf("run %s has no evidence files: %v", stamp, dated)
	}
	if want := append(slices.Clone(dated), "manifest.json"); !slices.Equal(slices.Sorted(slices.Values(byRun["latest"])), slices.Sorted(slices.Values(want))) {
		t.Errorf("latest/ holds %v, want the run's %v and manifest.json", byRun["latest"], dated)
	}
	for _, o := range objs {
		if o.SSE != "AES256" || o.KMSKeyID != "" {
			t.Errorf("%s: encryption %q %q, want AES256", o.Key, o.SSE, o.KMSKeyID)
		}
	}
	first := mototest.Object(t, ctx, bucket, "daily/"+stamp+"/findings.json")
	if !bytes.Equal(first, mototest.Object(t, ctx, bucket, "daily/latest/findings.json")) {
		t.Error("latest/findings.json is not the run's findings.json")
	}
	res := resultFrom(t, first)
	if c := res.Triage.Baseline.Counts; c != (findings.BaselineCounts{New: len(res.Findings)}) || res.Triage.Baseline.Source != latest {
		t.Errorf("first run: baseline %+v", res.Triage.Baseline)
	}
	snap := filepath.Join(dir, "inventory.json")
	if err := os.WriteFile(snap, mototest.Object(t, ctx, bucket, "daily/"+stamp+"/inventory.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inventory.Load(snap); err != nil {
		t.Errorf("the stored snapshot: %v", err)
	}

	// Run 2: reads latest/findings.json back; SSE-KMS; JSON only.
	waitNextSecond(start)
	key := mototest.CreateKey(t, ctx)
	code, _, stderr = run(t, "", "scan", "--snapshot", demo, "--format", "json", "--out", dest, "--out-kms-key", key,
		"--baseline", latest, "--fail-on-new", "critical")
	if code != ExitOK {
		t.Fatalf("second run: exit %d, want 0 (nothing new):\n%s", code, stderr)
	}
	if strings.Contains(stderr, "does not exist yet") {
		t.Errorf("the second run did not find its baseline:\n%s", stderr)
	}
	objs = mototest.Objects(t, ctx, bucket, "daily/")
	byRun = runs(objs, "daily/")
	if len(byRun) != 3 {
		t.Fatalf("runs %v, want two dated runs and latest", byRun)
	}
	var stamp2 string
	for k := range byRun {
		if k != "latest" && k != stamp {
			stamp2 = k
		}
	}
	if !slices.Equal(byRun[stamp2], []string{"findings.json"}) || !slices.Equal(byRun[stamp], dated) {
		t.Errorf("run 2 wrote %v (want findings.json), run 1 holds %v (want %v)", byRun[stamp2], byRun[stamp], dated)
	}
	// latest/ holds the second run only: the first's other reports, its
	// snapshot and evidence are gone from it (they stay under its key).
	if got := slices.Sorted(slices.Values(byRun["latest"])); !slices.Equal(got, []string{"findings.json", "manifest.json"}) {
		t.Errorf("latest/ holds %v", got)
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, "daily/"+stamp+"/") && (o.SSE != "aws:kms" || !strings.HasSuffix(o.KMSKeyID, key)) {
			t.Errorf("%s: encryption %q %q, want aws:kms under %s", o.Key, o.SSE, o.KMSKeyID, key)
		}
	}
	res = resultFrom(t, mototest.Object(t, ctx, bucket, "daily/latest/findings.json"))
	b := res.Triage.Baseline
	if b.Source != latest || b.Counts != (findings.BaselineCounts{Unchanged: len(res.Findings)}) {
		t.Errorf("second run: baseline %+v", b)
	}

	// audit report reads an S3 baseline too.
	local := filepath.Join(dir, "first.json")
	if err := os.WriteFile(local, first, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "", "report", local, "--format", "json", "--out", filepath.Join(dir, "report"), "--baseline", latest, "--fail-on-new", "info", "--quiet")
	if code != ExitOK {
		t.Errorf("audit report --baseline %s: exit %d:\n%s", latest, code, stderr)
	}

	// A bucket that does not exist: exit 2 before anything is read or
	// written.
	code, _, stderr = run(t, "", "scan", "--snapshot", demo, "--out", "s3://no-such-bucket/x/")
	if code != ExitUsage || !strings.Contains(stderr, "audit: --out: store: open s3://no-such-bucket/x/: the bucket does not exist") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
}

// S3 answers a read of a missing key with AccessDenied when the caller may
// not list it (only a prefix-limited s3:ListBucket, say). A listing of the
// key's prefix then tells a missing baseline (the first run: every finding
// new) from one that is there but refused (exit 2).
func TestBaselineAccessDeniedOnS3(t *testing.T) {
	demo := absDemo(t)
	const denied = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`
	listing := func(keys ...string) string {
		s := `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>reports</Name><Prefix>scheduled/latest/</Prefix><IsTruncated>false</IsTruncated>`
		for _, k := range keys {
			s += "<Contents><Key>" + k + "</Key><Size>10</Size></Contents>"
		}
		return s + "</ListBucketResult>"
	}
	const src = "s3://reports/scheduled/latest/findings.json"
	for _, c := range []struct {
		name    string
		list    string // "" refuses the listing too
		code    int
		message string
	}{
		{"missing: the listing shows no such key", listing("scheduled/latest/manifest.json"), ExitOK,
			"audit: note: baseline " + src + " does not exist yet (a first run): every finding is new\n"},
		{"there, but refused", listing("scheduled/latest/findings.json", "scheduled/latest/manifest.json"), ExitUsage,
			"audit: --baseline \"" + src + "\": store: read " + src + ": access denied (AccessDenied: Access Denied); reading needs s3:GetObject (and s3:ListBucket for a missing object to show as missing)\n"},
		{"the listing refused too", "", ExitUsage,
			"audit: --baseline \"" + src + "\": store: read " + src + ": access denied (AccessDenied: Access Denied); reading needs s3:GetObject (and s3:ListBucket for a missing object to show as missing)\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			url, _ := countingEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Method+" "+r.URL.Path+" "+r.URL.Query().Get("prefix"))
				mu.Unlock()
				if r.URL.Query().Get("list-type") == "2" && c.list != "" && r.URL.Path == "/reports" || r.URL.Path == "/reports/" && c.list != "" {
					w.Header().Set("Content-Type", "application/xml")
					_, _ = w.Write([]byte(c.list))
					return
				}
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(denied))
			})
			mototest.Env(t, url)
			dir := t.TempDir()
			code, _, stderr := run(t, "", "scan", "--snapshot", demo, "--out", dir, "--baseline", src, "--quiet")
			if code != c.code || !strings.Contains(stderr, c.message) {
				t.Errorf("exit %d (want %d), stderr:\n%s\nwant:\n%s\nrequests: %q", code, c.code, stderr, c.message, seen)
			}
			if !slices.ContainsFunc(seen, func(s string) bool {
				return strings.HasSuffix(s, " "+path.Dir(strings.TrimPrefix(src, "s3://reports/"))+"/")
			}) {
				t.Errorf("no listing of the key's prefix: %q", seen)
			}
			if c.code == ExitUsage {
				noReports(t, dir)
			}
		})
	}
}

// An interrupted scan (Ctrl-C, a deadline) still writes what it collected
// to S3, under its dated key, marked incomplete (exit 3), and leaves
// latest/ alone: an incomplete scan is never the next baseline. The scan
// goes to the fake AWS endpoint, the reports to moto (AWS_ENDPOINT_URL_S3).
func TestInterruptedScanToS3(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	moto := mototest.Start(t)
	mototest.Env(t, moto.URL)
	ctx := context.Background()
	mototest.CreateBucket(t, ctx, "audit-interrupted")
	world := fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: 12, Regions: []string{"us-east-1", "eu-west-1"}, TaskDefsPerRegion: 6,
		ServicesPerRegion: 3, ClustersPerRegion: 1, InstancesPerCluster: 2, Seed: 3})
	srv, err := fakeaws.New(world, fakeaws.Options{Seed: 3, Latency: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ak, sk := srv.CallerCredentials()
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_ENDPOINT_URL_S3", moto.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", ak)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sk)
	if _, err := findingsSchema(); err != nil {
		t.Fatal(err)
	}
	configEnv(t, "", nil)

	// Ctrl-C once the scan is under way: after 100 calls to the endpoint.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for sctx.Err() == nil {
			n := int64(0)
			for _, c := range srv.Calls() {
				n += c
			}
			if n >= 100 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var stdout, stderr bytes.Buffer
	code := Run(sctx, []string{"scan", "--org", "--out", "s3://audit-interrupted/p/", "--save-snapshot", "inventory.json",
		"--account-concurrency", "2", "--region-concurrency", "2", "--quiet"}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitIncomplete {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitIncomplete, stderr.String())
	}
	byRun := runs(mototest.Objects(t, ctx, "audit-interrupted", "p/"), "p/")
	if len(byRun) != 1 || byRun["latest"] != nil {
		t.Fatalf("objects by run %v: want the dated run only, no latest/\n%s", byRun, stderr.String())
	}
	for stamp, names := range byRun {
		if !slices.Equal(names, []string{"findings.json", "inventory.json"}) {
			t.Errorf("run %s holds %v", stamp, names)
		}
		res := resultFrom(t, mototest.Object(t, ctx, "audit-interrupted", "p/"+stamp+"/findings.json"))
		if res.Coverage.Complete || res.Coverage.Interrupted == "" {
			t.Errorf("findings.json of the interrupted scan: complete %v, interrupted %q", res.Coverage.Complete, res.Coverage.Interrupted)
		}
		if want := "audit: note: s3://audit-interrupted/p/latest/ left at the last complete run: this scan is incomplete (it is under s3://audit-interrupted/p/" + stamp + "/)\n"; !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// audit report writes locally: an S3 --out is refused before anything is
// read (not taken for a directory named "s3:").
func TestReportRefusesS3Out(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, _, stderr := run(t, "", "report", "findings.json", "--out", "s3://reports/x/")
	if code != ExitUsage || !strings.Contains(stderr, `audit: --out "s3://reports/x/": audit report writes to a local directory or -`) {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	noReports(t, dir)
}
