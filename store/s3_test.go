package store

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ecs-audit/audit/internal/mototest"
)

func apiErr(status int, code, msg string, header http.Header) error {
	resp := &http.Response{StatusCode: status, Header: header}
	var inner error = errors.New("no body")
	if code != "" {
		inner = &smithy.GenericAPIError{Code: code, Message: msg}
	}
	return &smithy.OperationError{ServiceID: "S3", OperationName: "Op",
		Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: inner}}
}

func TestS3Error(t *testing.T) {
	const url = "s3://bkt/audit/x.json"
	tests := []struct {
		name string
		op   string
		err  error
		is   []error
		want []string
	}{
		{"no bucket", "read", apiErr(404, "NoSuchBucket", "The specified bucket does not exist", nil),
			[]error{ErrNoBucket}, []string{"the bucket does not exist", "NoSuchBucket"}},
		{"no key", "read", apiErr(404, "NoSuchKey", "The specified key does not exist.", nil),
			[]error{fs.ErrNotExist}, []string{"no such object (NoSuchKey: The specified key does not exist.)"}},
		{"head 404 without body", "read", apiErr(404, "", "", nil),
			[]error{fs.ErrNotExist}, []string{"no such object (HTTP 404)"}},
		{"access denied on write", "write", apiErr(403, "AccessDenied", "Access Denied", nil),
			[]error{fs.ErrPermission}, []string{"access denied (AccessDenied: Access Denied)", "s3:PutObject"}},
		{"access denied on copy", "copy", apiErr(403, "AccessDenied", "Access Denied", nil),
			[]error{fs.ErrPermission}, []string{"s3:GetObject on the run's objects and s3:PutObject on latest/"}},
		{"access denied on read", "read", apiErr(403, "AccessDenied", "Access Denied", nil),
			[]error{fs.ErrPermission}, []string{"s3:ListBucket for a missing object"}},
		{"access denied on list", "list", apiErr(403, "AccessDenied", "Access Denied", nil),
			[]error{fs.ErrPermission}, []string{"listing needs s3:ListBucket"}},
		{"access denied on remove", "remove", apiErr(403, "AccessDenied", "Access Denied", nil),
			[]error{fs.ErrPermission}, []string{"s3:DeleteObject"}},
		{"head 403 without body", "open", apiErr(403, "", "", nil),
			[]error{fs.ErrPermission}, []string{"access denied (HTTP 403)"}},
		{"kms", "write", apiErr(403, "AccessDenied", "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: kms:GenerateDataKey", nil),
			[]error{fs.ErrPermission}, []string{"the KMS key cannot be used", "kms:GenerateDataKey (write)"}},
		{"kms not found", "write", apiErr(400, "KMS.NotFoundException", "Invalid keyId alias/nope", nil),
			[]error{fs.ErrPermission}, []string{"the KMS key cannot be used (KMS.NotFoundException: Invalid keyId alias/nope)"}},
		{"bad key id", "write", apiErr(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", nil),
			[]error{fs.ErrPermission}, []string{"the AWS credentials were refused"}},
		{"expired", "read", apiErr(400, "ExpiredToken", "The provided token has expired.", nil),
			[]error{fs.ErrPermission}, []string{"the AWS credentials were refused (ExpiredToken"}},
		{"redirect", "read", apiErr(301, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.", nil),
			[]error{ErrWrongRegion}, []string{"another region", "set the bucket's region"}},
		{"credentials", "write", &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: errors.New("get identity: failed to refresh cached credentials, no EC2 IMDS role found")},
			[]error{ErrNoCredentials}, []string{"no usable AWS credentials: operation error S3: PutObject, get identity"}},
		{"other API error", "write", apiErr(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", nil),
			nil, []string{"EntityTooLarge: Your proposed upload exceeds"}},
		{"network", "read", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"),
			nil, []string{"connection refused"}},
		{"cancelled", "read", &smithy.OperationError{Err: context.Canceled},
			[]error{context.Canceled}, []string{"context canceled"}},
		{"hostile message", "read", apiErr(403, "AccessDenied", "line\nbreak\x1b[31m", nil),
			[]error{fs.ErrPermission}, []string{"line break [31m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s3Error(tt.op, url, tt.err)
			var se *Error
			if !errors.As(err, &se) || se.Op != tt.op || se.URL != url {
				t.Fatalf("s3Error = %#v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "store: "+tt.op+" "+url+": ") {
				t.Errorf("%q does not name the operation and location", msg)
			}
			for _, is := range tt.is {
				if !errors.Is(err, is) {
					t.Errorf("%q is not %v", msg, is)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q\ndoes not say %q", msg, w)
				}
			}
			if strings.ContainsAny(msg, "\n\x1b") {
				t.Errorf("control characters in %q", msg)
			}
			if strings.Contains(msg, "RequestID") {
				t.Errorf("the whole SDK error in %q", msg)
			}
		})
	}
	if s3Error("read", url, nil) != nil {
		t.Error("s3Error(nil) != nil")
	}
}

// regionServer is an S3 endpoint whose bucket lives in eu-west-1: a request
// signed for another region gets S3's 301 with x-amz-bucket-region.
type regionServer struct {
	mu      sync.Mutex
	regions []string // region of each request, in order
	objects map[string]string
	header  bool // send x-amz-bucket-region with the redirect
}

func (s *regionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	region := ""
	if _, rest, ok := strings.Cut(auth, "Credential="); ok {
		parts := strings.Split(rest, "/")
		if len(parts) > 2 {
			region = parts[2]
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions = append(s.regions, r.Method+" "+region)
	if region != "eu-west-1" {
		if s.header {
			w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMovedPermanently)
		if r.Method != http.MethodHead {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>`)
		}
		return
	}
	switch r.Method {
	case http.MethodHead:
	case http.MethodGet:
		body, ok := s.objects[r.URL.Path]
		if !ok {
			w.WriteHeader(404)
			io.WriteString(w, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
			return
		}
		io.WriteString(w, body)
	case http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		s.objects[r.URL.Path] = string(b)
	}
}

func TestBucketInAnotherRegion(t *testing.T) {
	rs := &regionServer{objects: map[string]string{"/eu-bucket/latest/findings.json": "baseline"}, header: true}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	mototest.Env(t, srv.URL) // static credentials, region us-east-1, endpoint srv
	ctx := context.Background()

	rc, err := Read(ctx, "s3://eu-bucket/latest/findings.json", AWS{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "baseline" {
		t.Errorf("Read = %q", b)
	}
	if got := strings.Join(rs.regions, ","); got != "GET us-east-1,GET eu-west-1" {
		t.Errorf("requests %s", got)
	}

	rs.regions = nil
	d, err := Open(ctx, "s3://eu-bucket/", Options{Time: run2})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, d, "findings.json", "new")
	mustPut(t, d, "report.html", "new")
	// One redirect, then every request goes to the bucket's region.
	if got := strings.Join(rs.regions, ","); got != "HEAD us-east-1,HEAD eu-west-1,PUT eu-west-1,PUT eu-west-1" {
		t.Errorf("requests %s", got)
	}
	if rs.objects["/eu-bucket/2026-12-04T10-00-00Z/findings.json"] != "new" {
		t.Errorf("objects %v", rs.objects)
	}

	// Without the header the error says what to do.
	rs.header = false
	_, err = Read(ctx, "s3://eu-bucket/latest/findings.json", AWS{})
	if !errors.Is(err, ErrWrongRegion) || !strings.Contains(err.Error(), "s3://eu-bucket/latest/findings.json") || !strings.Contains(err.Error(), "set the bucket's region") {
		t.Errorf("Read without x-amz-bucket-region: %v", err)
	}
	// A region from the configuration goes straight there.
	rs.regions = nil
	if _, err := Read(ctx, "s3://eu-bucket/latest/findings.json", AWS{Region: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rs.regions, ","); got != "GET eu-west-1" {
		t.Errorf("requests %s", got)
	}
}

func TestEscapeKey(t *testing.T) {
	for in, want := range map[string]string{
		"audit/2026-12-04T10-00-00Z/findings.json": "audit/2026-12-04T10-00-00Z/findings.json",
		"a b+c=d/é?#%": "a%20b%2Bc%3Dd/%C3%A9%3F%23%25",
		"(x)'y'!*":     "%28x%29%27y%27%21%2A",
	} {
		if got := escapeKey(in); got != want {
			t.Errorf("escapeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"findings.json":  "application/json",
		"findings.sarif": "application/sarif+json",
		"report.html":    "text/html; charset=utf-8",
		"summary.md":     "text/markdown; charset=utf-8",
		"findings.csv":   "text/csv; charset=utf-8",
		"findings.xlsx":  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"x/evidence.bin": "application/octet-stream",
	} {
		if got := contentType("p/2026/" + name); got != want {
			t.Errorf("contentType(%s) = %s, want %s", name, got, want)
		}
	}
}

// The plain AWS options reach the client: a profile's region, an endpoint
// given in code rather than the environment, path-style addressing on a
// host name.
func TestAWSOptions(t *testing.T) {
	rs := &regionServer{objects: map[string]string{"/eu-bucket/x.json": "x"}}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	mototest.Env(t, srv.URL)
	// The environment's region would win over the profile's.
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
	}
	localhost := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	cfgFile := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfgFile, []byte("[profile eu]\nregion = eu-west-1\naws_access_key_id = AKIAPROFILETEST00001\naws_secret_access_key = profile-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		aws  AWS
	}{
		{"endpoint and region", AWS{Endpoint: srv.URL, Region: "eu-west-1"}},
		{"profile", AWS{Endpoint: srv.URL, Profile: "eu"}},
		{"path style on a host name", AWS{Endpoint: localhost, Region: "eu-west-1", PathStyle: true}},
	} {
		rs.regions = nil
		rc, err := Read(ctx, "s3://eu-bucket/x.json", tt.aws)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		rc.Close()
		if got := strings.Join(rs.regions, ","); got != "GET eu-west-1" {
			t.Errorf("%s: requests %s", tt.name, got)
		}
	}
	if _, err := Read(ctx, "s3://eu-bucket/x.json", AWS{Endpoint: srv.URL, Profile: "missing"}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unknown profile: %v", err)
	}
}
