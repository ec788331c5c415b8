package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ecs-audit/audit/internal/mototest"
)

// motoS3 starts moto_server, points the SDK's environment at it, and
// returns an S3 client for checking what was written (not the package's
// own code) and the configuration for other clients.
func motoS3(t *testing.T) (*s3.Client, aws.Config) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	srv := mototest.Start(t) // skips locally without moto_server; fails in CI
	mototest.Env(t, srv.URL)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	}), cfg
}

// TestS3AgainstMoto runs the S3 tests against one moto_server, each in a
// bucket of its own.
func TestS3AgainstMoto(t *testing.T) {
	c, cfg := motoS3(t)
	for _, tt := range []struct {
		bucket string
		test   func(*testing.T, *bucket)
	}{
		{"audit-runs", testS3Runs},
		{"audit-large", testS3LargeObject},
		{"audit-faults", testS3FailuresLeaveLatest},
		{"audit-kms", testS3KMS},
		{"audit-errors", testS3Errors},
	} {
		t.Run(tt.bucket, func(t *testing.T) {
			if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(tt.bucket)}); err != nil {
				t.Fatal(err)
			}
			tt.test(t, &bucket{c: c, cfg: cfg, name: tt.bucket})
		})
	}
}

// bucket is a moto bucket seen through a plain SDK client.
type bucket struct {
	c    *s3.Client
	cfg  aws.Config
	name string
}

func (bk *bucket) get(t *testing.T, key string) string {
	t.Helper()
	out, err := bk.c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bk.name), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (bk *bucket) keys(t *testing.T) []string {
	t.Helper()
	out, err := bk.c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bk.name)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// checkSSE asserts what HeadObject reports about the encryption of key.
func (bk *bucket) checkSSE(t *testing.T, key string, wantSSE types.ServerSideEncryption, wantKey string) {
	t.Helper()
	h, err := bk.c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bk.name), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HeadObject %s: %v", key, err)
	}
	if h.ServerSideEncryption != wantSSE {
		t.Errorf("%s: ServerSideEncryption %q, want %q", key, h.ServerSideEncryption, wantSSE)
	}
	if got := aws.ToString(h.SSEKMSKeyId); !strings.HasSuffix(got, wantKey) || (wantKey == "") != (got == "") {
		t.Errorf("%s: SSEKMSKeyId %q, want %q", key, got, wantKey)
	}
}

func putAll(t *testing.T, d *Destination, objs map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(objs)) {
		mustPut(t, d, name, objs[name])
	}
}

// Two scheduled runs to s3://audit-reports/audit/: dated keys, SSE-S3 on
// every object (dated and latest/), latest/ following the last complete
// run without the previous run's stale report, and the baseline read back.
func testS3Runs(t *testing.T, bk *bucket) {
	ctx := context.Background()
	dest := "s3://" + bk.name + "/audit/"

	d1, err := Open(ctx, dest, Options{Time: run1})
	if err != nil {
		t.Fatal(err)
	}
	if d1.RunURL() != dest+"2026-12-03T10-00-00Z/" || d1.LatestURL() != dest+"latest/" {
		t.Errorf("RunURL %s LatestURL %s", d1.RunURL(), d1.LatestURL())
	}
	putAll(t, d1, map[string]string{
		"findings.json":              `{"run":1}`,
		"report.html":                "<p>run 1</p>",
		"evidence/aws/1/role.json":   "{}",
		"findings.sarif":             `{"version":"2.1.0"}`,
		"inventory.json":             `{"schemaVersion":1}`,
		"summary.md":                 "# run 1",
		"findings.csv":               "a,b",
		"findings.xlsx":              "PK",
		"evidence/aws/1/task/1.json": `{"family":"web"}`,
	})
	var urls []string
	for _, o := range d1.Objects() {
		urls = append(urls, o.URL)
	}
	wantURLs := []string{
		dest + "2026-12-03T10-00-00Z/evidence/aws/1/role.json",
		dest + "2026-12-03T10-00-00Z/evidence/aws/1/task/1.json",
		dest + "2026-12-03T10-00-00Z/findings.csv",
		dest + "2026-12-03T10-00-00Z/findings.json",
		dest + "2026-12-03T10-00-00Z/findings.sarif",
		dest + "2026-12-03T10-00-00Z/findings.xlsx",
		dest + "2026-12-03T10-00-00Z/inventory.json",
		dest + "2026-12-03T10-00-00Z/report.html",
		dest + "2026-12-03T10-00-00Z/summary.md",
	}
	if !reflect.DeepEqual(urls, wantURLs) {
		t.Errorf("Objects URLs\n%v\nwant\n%v", urls, wantURLs)
	}
	// Nothing in latest/ before Commit.
	for _, k := range bk.keys(t) {
		if strings.Contains(k, "/latest/") {
			t.Errorf("%s exists before Commit", k)
		}
	}
	if err := d1.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for _, k := range bk.keys(t) {
		bk.checkSSE(t, k, types.ServerSideEncryptionAes256, "")
	}
	h, err := bk.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bk.name), Key: aws.String("audit/latest/report.html")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(h.ContentType); got != "text/html; charset=utf-8" {
		t.Errorf("latest/report.html Content-Type %q", got)
	}

	// Run 2 writes only JSON: latest/ holds run 2 and no report.html.
	d2, err := Open(ctx, dest, Options{Time: run2})
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, d2, map[string]string{"findings.json": `{"run":2}`, "inventory.json": `{"schemaVersion":2}`})
	if err := d2.Commit(ctx); err != nil {
		t.Fatalf("Commit 2: %v", err)
	}
	var latest []string
	for _, k := range bk.keys(t) {
		if strings.HasPrefix(k, "audit/latest/") {
			latest = append(latest, k)
		}
	}
	if want := []string{"audit/latest/findings.json", "audit/latest/inventory.json", "audit/latest/manifest.json"}; !reflect.DeepEqual(latest, want) {
		t.Errorf("latest/ = %v, want %v", latest, want)
	}
	if got := bk.get(t, "audit/2026-12-03T10-00-00Z/report.html"); got != "<p>run 1</p>" {
		t.Errorf("run 1's dated report.html = %q", got)
	}
	m, err := DecodeManifest(strings.NewReader(bk.get(t, "audit/latest/manifest.json")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Run != dest+"2026-12-04T10-00-00Z/" || !m.Time.Equal(run2) || len(m.Objects) != 2 || m.Objects[0].Name != "findings.json" || m.Objects[0].Size != 9 {
		t.Errorf("manifest %+v", m)
	}
	bk.checkSSE(t, "audit/latest/manifest.json", types.ServerSideEncryptionAes256, "")

	// The next scan's baseline.
	rc, err := Read(ctx, dest+"latest/findings.json", AWS{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != `{"run":2}` {
		t.Errorf("Read latest/findings.json = %q", b)
	}
	_, err = Read(ctx, dest+"latest/report.html", AWS{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dest+"latest/report.html") {
		t.Errorf("Read of a removed object: %v", err)
	}

	objs, err := List(ctx, dest+"latest", AWS{})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 || objs[0].Name != "findings.json" || objs[0].URL != dest+"latest/findings.json" || objs[0].Size != 9 {
		t.Errorf("List latest = %+v", objs)
	}
	// Every page of a listing, with a folder marker and a key that cannot
	// be read back safely.
	for _, k := range []string{"audit/folder/", "audit/x/../y.json"} {
		if _, err := bk.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bk.name), Key: aws.String(k), Body: strings.NewReader("")}); err != nil {
			t.Fatal(err)
		}
	}
	listPageSize = aws.Int32(2)
	defer func() { listPageSize = nil }()
	objs, err = List(ctx, dest, AWS{})
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	want := []string{
		"2026-12-03T10-00-00Z/evidence/aws/1/role.json", "2026-12-03T10-00-00Z/evidence/aws/1/task/1.json",
		"2026-12-03T10-00-00Z/findings.csv", "2026-12-03T10-00-00Z/findings.json", "2026-12-03T10-00-00Z/findings.sarif",
		"2026-12-03T10-00-00Z/findings.xlsx", "2026-12-03T10-00-00Z/inventory.json", "2026-12-03T10-00-00Z/report.html",
		"2026-12-03T10-00-00Z/summary.md", "2026-12-04T10-00-00Z/findings.json", "2026-12-04T10-00-00Z/inventory.json",
		"latest/findings.json", "latest/inventory.json", "latest/manifest.json",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("List %s:\n%v\nwant\n%v", dest, names, want)
	}
	if err == nil || !strings.Contains(err.Error(), `1 key(s) left out`) || !strings.Contains(err.Error(), `"audit/x/../y.json"`) {
		t.Errorf("List error %v", err)
	}
}

// A large report streams through a temporary file: its content and length
// arrive intact.
func testS3LargeObject(t *testing.T, bk *bucket) {
	ctx := context.Background()
	d, err := Open(ctx, "s3://"+bk.name, Options{Time: run1, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	const size = 8 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	o, err := d.Put(ctx, "report.html", func(w io.Writer) error {
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	// The report goes through a file: the upload allocates a small part of
	// its size, not a copy of it.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Put of %d MiB allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
	if alloc > size/4 {
		t.Errorf("Put of %d bytes allocated %d bytes", size, alloc)
	}
	if o.Size != size || o.URL != "s3://"+bk.name+"/2026-12-03T10-00-00Z/report.html" {
		t.Errorf("Put = %+v", o)
	}
	h, err := bk.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bk.name), Key: aws.String("2026-12-03T10-00-00Z/report.html")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(h.ContentLength) != size {
		t.Errorf("ContentLength %d", aws.ToInt64(h.ContentLength))
	}
	if err := d.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got := bk.get(t, "latest/report.html")
	if len(got) != size || got[size-16:] != "0123456789abcdef" {
		t.Errorf("latest/report.html: %d bytes", len(got))
	}
}

// faultTransport answers requests that match fail with S3's AccessDenied,
// and passes the others to moto.
type faultTransport struct {
	fail  func(*http.Request) bool
	count atomic.Int32
}

func (f *faultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.fail(r) {
		f.count.Add(1)
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		body := `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>INJECTED</RequestId></Error>`
		return &http.Response{StatusCode: 403, Status: "403 Forbidden", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)), Request: r}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

func isPut(key string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "" && strings.HasSuffix(r.URL.Path, "/"+key)
	}
}

func isCopy(key string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && strings.HasSuffix(r.URL.Path, "/latest/"+key)
	}
}

// latest/ is not updated when a write of the run fails part-way, and a
// failure while copying into latest/ says exactly what happened.
func testS3FailuresLeaveLatest(t *testing.T, bk *bucket) {
	ctx := context.Background()
	dest := "s3://" + bk.name + "/audit/"
	run1Objs := map[string]string{"findings.json": "run1 json", "findings.sarif": "run1 sarif", "report.html": "run1 html"}
	d1, err := Open(ctx, dest, Options{Time: run1})
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, d1, run1Objs)
	if err := d1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	latestIs := func(want map[string]string, manifestRun string) {
		t.Helper()
		for name, content := range want {
			if got := bk.get(t, "audit/latest/"+name); got != content {
				t.Errorf("latest/%s = %q, want %q", name, got, content)
			}
		}
		m, err := DecodeManifest(strings.NewReader(bk.get(t, "audit/latest/manifest.json")))
		if err != nil {
			t.Fatal(err)
		}
		if m.Run != dest+manifestRun+"/" {
			t.Errorf("manifest names %s, want %s", m.Run, manifestRun)
		}
	}

	t.Run("a Put fails", func(t *testing.T) {
		ft := &faultTransport{fail: isPut("findings.sarif")}
		d, err := Open(ctx, dest, Options{Time: run2, AWS: AWS{HTTPClient: &http.Client{Transport: ft}}})
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, d, "findings.json", "run2 json")
		_, err = d.Put(ctx, "findings.sarif", writeString("run2 sarif"))
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), dest+"2026-12-04T10-00-00Z/findings.sarif") ||
			!strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "s3:PutObject") {
			t.Errorf("Put error %v", err)
		}
		mustPut(t, d, "report.html", "run2 html")
		err = d.Commit(ctx)
		var ce *CommitError
		if !errors.As(err, &ce) || ce.Committed || len(ce.Copied) != 0 || !strings.Contains(err.Error(), "left as it was") {
			t.Fatalf("Commit = %v", err)
		}
		if ft.count.Load() == 0 {
			t.Fatal("the fault was never injected")
		}
		latestIs(run1Objs, "2026-12-03T10-00-00Z")
	})

	t.Run("a copy fails part-way", func(t *testing.T) {
		ft := &faultTransport{fail: isCopy("findings.sarif")}
		d, err := Open(ctx, dest, Options{Time: run2, AWS: AWS{HTTPClient: &http.Client{Transport: ft}}})
		if err != nil {
			t.Fatal(err)
		}
		putAll(t, d, map[string]string{"findings.json": "run2 json", "findings.sarif": "run2 sarif", "report.html": "run2 html"})
		err = d.Commit(ctx)
		var ce *CommitError
		if !errors.As(err, &ce) || ce.Committed {
			t.Fatalf("Commit = %v", err)
		}
		if !reflect.DeepEqual(ce.Copied, []string{"findings.json"}) || !reflect.DeepEqual(ce.Pending, []string{"findings.sarif", "report.html"}) {
			t.Errorf("copied %v pending %v", ce.Copied, ce.Pending)
		}
		for _, want := range []string{"mixes two runs", dest + "latest/manifest.json still names the previous run " + dest + "2026-12-03T10-00-00Z/", "s3:GetObject"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		latestIs(map[string]string{"findings.json": "run2 json", "findings.sarif": "run1 sarif", "report.html": "run1 html"}, "2026-12-03T10-00-00Z")
		// The run itself is complete under its dated prefix.
		if got := bk.get(t, "audit/2026-12-04T10-00-00Z/report.html"); got != "run2 html" {
			t.Errorf("dated report.html = %q", got)
		}
	})

	t.Run("the next complete run repairs latest/", func(t *testing.T) {
		d, err := Open(ctx, dest, Options{Time: run2.Add(3600e9)})
		if err != nil {
			t.Fatal(err)
		}
		putAll(t, d, map[string]string{"findings.json": "run3 json", "findings.sarif": "run3 sarif", "report.html": "run3 html"})
		if err := d.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		latestIs(map[string]string{"findings.json": "run3 json", "findings.sarif": "run3 sarif", "report.html": "run3 html"}, "2026-12-04T11-00-00Z")
	})
}

// SSE-KMS with a key created in moto: every object, dated and latest/,
// carries the key.
func testS3KMS(t *testing.T, bk *bucket) {
	ctx := context.Background()
	key, err := kms.NewFromConfig(bk.cfg).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("audit reports")})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	d, err := Open(ctx, "s3://"+bk.name+"/kms/", Options{Time: run1, KMSKeyID: keyARN})
	if err != nil {
		t.Fatal(err)
	}
	putAll(t, d, map[string]string{"findings.json": "{}", "report.html": "<p>"})
	if err := d.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	keys := bk.keys(t)
	if len(keys) != 5 {
		t.Errorf("keys %v", keys)
	}
	for _, k := range keys {
		bk.checkSSE(t, k, types.ServerSideEncryptionAwsKms, aws.ToString(key.KeyMetadata.KeyId))
	}
}

// Errors name the location and say what is wrong in plain words.
func testS3Errors(t *testing.T, bk *bucket) {
	ctx := context.Background()

	_, err := Open(ctx, "s3://no-such-bucket-here/audit/", Options{})
	if !errors.Is(err, ErrNoBucket) || !strings.Contains(err.Error(), "s3://no-such-bucket-here/audit/") {
		t.Errorf("Open of a missing bucket: %v", err)
	}
	_, err = Read(ctx, "s3://no-such-bucket-here/latest/findings.json", AWS{})
	if !errors.Is(err, ErrNoBucket) || !strings.Contains(err.Error(), "s3://no-such-bucket-here/latest/findings.json") {
		t.Errorf("Read from a missing bucket: %v", err)
	}
	_, err = Read(ctx, "s3://"+bk.name+"/audit/latest/findings.json", AWS{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no such object") {
		t.Errorf("Read of a missing object: %v", err)
	}
	_, err = List(ctx, "s3://no-such-bucket-here/", AWS{})
	if !errors.Is(err, ErrNoBucket) {
		t.Errorf("List of a missing bucket: %v", err)
	}

	// Access denied on every call: Open does not fail on HeadBucket's 403
	// (a writer may lack s3:ListBucket), the Put does, with a hint.
	deny := &http.Client{Transport: &faultTransport{fail: func(*http.Request) bool { return true }}}
	d, err := Open(ctx, "s3://"+bk.name+"/", Options{AWS: AWS{HTTPClient: deny}})
	if err != nil {
		t.Fatalf("Open with HeadBucket denied: %v", err)
	}
	_, err = d.Put(ctx, "findings.json", writeString("{}"))
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("Put denied: %v", err)
	}
	_, err = Read(ctx, "s3://"+bk.name+"/x.json", AWS{HTTPClient: deny})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "s3:GetObject") {
		t.Errorf("Read denied: %v", err)
	}

	// No credentials anywhere.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, "")
	}
	_, err = Open(ctx, "s3://"+bk.name+"/audit/", Options{})
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "s3://"+bk.name+"/audit/") {
		t.Errorf("Open without credentials: %v", err)
	}
	_, err = Read(ctx, "s3://"+bk.name+"/x.json", AWS{})
	if !errors.Is(err, ErrNoCredentials) {
		t.Errorf("Read without credentials: %v", err)
	}
}
