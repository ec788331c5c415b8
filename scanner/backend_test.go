package scanner

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/ecs-audit/audit/internal/mototest"
)

// recorder is an endpoint that records which services reached it and
// answers every request with an error.
type recorder struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	svc := "?"
	if m := scopeRe.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		svc = m[1]
	}
	r.mu.Lock()
	r.seen[svc] = true
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","message":"recorder"}`))
}

func (r *recorder) services() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for s := range r.seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestEndpointFromEnvironment checks that AWS_ENDPOINT_URL (and a
// service-specific AWS_ENDPOINT_URL_ECS) reach every client the scanner
// creates, including the STS client behind AssumeRole.
func TestEndpointFromEnvironment(t *testing.T) {
	all := &recorder{seen: map[string]bool{}}
	ecsOnly := &recorder{seen: map[string]bool{}}
	srvAll := httptest.NewServer(all)
	defer srvAll.Close()
	srvECS := httptest.NewServer(ecsOnly)
	defer srvECS.Close()
	mototest.Env(t, srvAll.URL)
	t.Setenv("AWS_ENDPOINT_URL_ECS", srvECS.URL)

	ctx := context.Background()
	cfg, err := Config{MaxAttempts: 1}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	be, err := newSDKBackend(ctx, cfg, &stats{}, newEndpoints(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = be.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	_, _ = be.organizations().DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if _, err := be.session(ctx, memberA, "arn:aws:iam::"+memberA+":role/x"); err == nil {
		t.Errorf("AssumeRole against the recorder should fail")
	}
	s, err := be.session(ctx, callerAcct, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.iam().GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	_, _ = s.account().ListRegions(ctx, &account.ListRegionsInput{})
	rc := s.regional("eu-west-1")
	_, _ = rc.ecs.ListClusters(ctx, &ecs.ListClustersInput{})
	_, _ = rc.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")})
	_, _ = rc.ssm.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	_, _ = rc.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("x")})

	if got, want := all.services(), []string{"account", "iam", "kms", "organizations", "secretsmanager", "ssm", "sts"}; !slices.Equal(got, want) {
		t.Errorf("AWS_ENDPOINT_URL reached %v, want %v", got, want)
	}
	if got := ecsOnly.services(); !slices.Equal(got, []string{"ecs"}) {
		t.Errorf("AWS_ENDPOINT_URL_ECS reached %v, want [ecs]", got)
	}
}

// TestThrottleCounter checks that throttled attempts are counted (the
// retries absorb them) through the SDK's middleware stack.
func TestThrottleCounter(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		n++
		first := n <= 2
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if first {
			w.Header().Set("X-Amz-Retry-After", "800") // ms: the SDK waits at least this long
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		_, _ = w.Write([]byte(`{"clusterArns":[]}`))
	}))
	defer srv.Close()
	mototest.Env(t, srv.URL)
	// The backoff between throttled attempts (at least 0.8 s each) does not
	// count against the per-attempt timeout.
	cfg, err := Config{RetryMode: RetryStandard, CallTimeout: 500 * time.Millisecond}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	st := &stats{}
	be, err := newSDKBackend(context.Background(), cfg, st, newEndpoints(nil))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := be.session(context.Background(), callerAcct, "")
	start := time.Now()
	if _, err := s.regional("us-east-1").ecs.ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("the retries should absorb two throttles: %v", err)
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("took %s; the server asked for two waits of 0.8 s", d)
	}
	if got := st.throttles.Load(); got != 2 {
		t.Errorf("%d throttles counted, want 2", got)
	}
}

// TestAttemptTimeout: an endpoint that never answers costs one CallTimeout
// and one request, and is classified as a Timeout.
func TestAttemptTimeout(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		select {
		case <-req.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	mototest.Env(t, srv.URL)
	cfg, err := Config{CallTimeout: 200 * time.Millisecond, MaxAttempts: 5}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	be, err := newSDKBackend(context.Background(), cfg, &stats{}, newEndpoints(nil))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := be.session(context.Background(), callerAcct, "")
	start := time.Now()
	_, err = s.regional("us-east-1").ecs.ListClusters(context.Background(), &ecs.ListClustersInput{})
	d := time.Since(start)
	if err == nil {
		t.Fatal("no error from a hanging endpoint")
	}
	if code, msg := classify(err); code != CodeTimeout || !strings.Contains(msg, "200ms") {
		t.Errorf("classify = %s, %s", code, msg)
	}
	if !errors.As(err, new(*timeoutError)) {
		t.Errorf("not a timeoutError: %v", err)
	}
	if d > 2*time.Second {
		t.Errorf("took %s; a hanging attempt should not be retried", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Errorf("%d requests, want 1", requests)
	}
}

// TestSDKLoggerToScanLog: what the SDK logs goes to the scan's logger as
// debug lines, its text made safe to print, never to standard error.
func TestSDKLoggerToScanLog(t *testing.T) {
	var buf bytes.Buffer
	l := sdkLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Logf(logging.Warn, "failed to discard %s\x1b[31m", "body")
	got := buf.String()
	if !strings.Contains(got, "level=DEBUG") || !strings.Contains(got, "class=WARN") || !strings.Contains(got, "failed to discard body") || strings.Contains(got, "\x1b") {
		t.Errorf("logged %q", got)
	}
	buf.Reset()
	quiet := sdkLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	quiet.Logf(logging.Warn, "noise")
	sdkLogger{}.Logf(logging.Warn, "no logger") // no panic
	if buf.Len() != 0 {
		t.Errorf("an info-level log printed the SDK's debug line: %q", buf.String())
	}
}
