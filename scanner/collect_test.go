package scanner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/ecs-audit/audit/inventory"
)

func TestAssumeRoleFailureKeepsTheAccount(t *testing.T) {
	be := newFakeBackend(callerAcct)
	be.org = orgFixture(0)
	be.assumeErr[memberA] = apiErr("AccessDenied", "User is not authorized to perform: sts:AssumeRole")
	for _, id := range []string{callerAcct, memberA, memberB} {
		be.region(id, "us-east-1").ecs = ecsWorld(id, "us-east-1", 1, 1, 1, 1, 1)
	}
	res := run(t, context.Background(), be, Config{Org: true, Regions: []string{"us-east-1"}, RoleName: "audit/ReadOnly", ExternalID: "ext-123"})
	if res.err != nil {
		t.Fatal(res.err)
	}
	inv := res.inv
	if len(inv.Errors) != 1 {
		t.Fatalf("errors %+v", inv.Errors)
	}
	e := inv.Errors[0]
	if e.AccountID != memberA || e.Service != "sts" || e.Operation != "AssumeRole" || e.Code != "AccessDenied" ||
		e.Resource != "arn:aws:iam::"+memberA+":role/audit/ReadOnly" {
		t.Errorf("error %+v", e)
	}
	for _, a := range inv.Accounts {
		switch a.ID {
		case memberA:
			if a.IAM != nil || len(a.Regions) != 0 || len(a.Path) == 0 || a.Name != "eu-app" {
				t.Errorf("account without credentials: %+v (kept, path resolved, no IAM or regions)", a)
			}
		default:
			if a.IAM == nil || len(a.Regions) != 1 || len(a.Regions[0].TaskDefinitions) != 1 {
				t.Errorf("account %s not collected: %+v", a.ID, a)
			}
		}
	}
	if !inv.Complete {
		t.Errorf("a failed AssumeRole is a collection error, not an interruption")
	}
}

func TestCallerFailureIsFatal(t *testing.T) {
	be := newFakeBackend(callerAcct)
	be.caller.fail = func(string, any) error {
		return apiErr("InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	res := run(t, context.Background(), be, Config{})
	if res.err == nil || res.inv != nil || !strings.Contains(res.err.Error(), "InvalidClientTokenId") {
		t.Fatalf("want a fatal error naming the cause, got %v", res.err)
	}
}

// TestStartErrors: a scan that cannot start says why in one line, and what
// to do; an unreachable endpoint is named as such, not as a credentials
// problem.
func TestStartErrors(t *testing.T) {
	denied := apiErr("AccessDeniedException", "You don't have permissions")
	tests := []struct {
		name   string
		caller error
		org    faults
		cause  []string
		fix    string
	}{
		{name: "rejected credentials", caller: apiErr("InvalidClientTokenId", "The security token included in the request is invalid."),
			cause: []string{"AWS rejected the credentials", "InvalidClientTokenId"}, fix: fixRejected},
		{name: "expired session", caller: apiErr("ExpiredToken", "The security token included in the request is expired"),
			cause: []string{"AWS rejected the credentials", "ExpiredToken"}, fix: fixRejected},
		{name: "endpoint refuses connections", caller: &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: refused("sts.us-east-1.amazonaws.com")},
			cause: []string{"cannot reach the AWS endpoint https://sts.us-east-1.amazonaws.com (connection to 10.0.0.1:443 refused)"}, fix: fixEndpoint},
		{name: "endpoint given up on", caller: &endpointDownError{endpoint: "http://127.0.0.1:9", cause: "connection to 127.0.0.1:9 refused", failures: 3, over: time.Second},
			cause: []string{"cannot reach the AWS endpoint http://127.0.0.1:9 (connection to 127.0.0.1:9 refused)"}, fix: fixEndpoint},
		{name: "organization not readable", org: failOp("DescribeOrganization", denied),
			cause: []string{"cannot read the organization", "AccessDeniedException"}, fix: fixOrg},
		{name: "accounts not listable", org: failOp("ListAccounts", denied),
			cause: []string{"cannot list the organization's accounts", "AccessDeniedException"}, fix: fixOrg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(callerAcct)
			if tt.caller != nil {
				be.caller.fail = func(string, any) error { return tt.caller }
			}
			be.org = orgFixture(0)
			be.org.fail = tt.org
			res := run(t, context.Background(), be, Config{Org: true, Regions: []string{"us-east-1"}})
			var se *StartError
			if !errors.As(res.err, &se) || res.inv != nil {
				t.Fatalf("err = %v (%T), want a *StartError and no inventory", res.err, res.err)
			}
			for _, c := range tt.cause {
				if !strings.Contains(se.Cause, c) {
					t.Errorf("cause %q does not say %q", se.Cause, c)
				}
			}
			if se.Fix != tt.fix || strings.Contains(se.Error(), "\n") || strings.Contains(se.Cause, "credentials?") {
				t.Errorf("start error %q", se.Error())
			}
		})
	}
}

// Without any credentials, Collect says so before calling AWS.
func TestNoCredentials(t *testing.T) {
	isolateEnv(t)
	for _, k := range []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(k, "")
	}
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	_, err := Collect(context.Background(), Config{})
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(se.Cause, "credentials") || se.Fix != fixCredentials {
		t.Fatalf("err = %v, want a StartError about credentials", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 0 {
		t.Errorf("%d requests to AWS without credentials", requests)
	}

	// A profile that does not exist is a configuration error.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	_, err = Collect(context.Background(), Config{Profile: "no-such-profile"})
	if ces := ConfigErrors(err); len(ces) != 1 || ces[0].Field != "Profile" || ces[0].Value != "no-such-profile" {
		t.Errorf("err = %v, want a ConfigError on Profile", err)
	}
}

func TestRegionsFromListRegions(t *testing.T) {
	tests := []struct {
		name      string
		regions   map[string]accounttypes.RegionOptStatus
		fail      faults
		want      map[string]string
		wantErrs  int
		wantCount int
	}{
		{
			name: "enabled, default and disabled",
			regions: map[string]accounttypes.RegionOptStatus{
				"us-east-1": accounttypes.RegionOptStatusEnabledByDefault, "eu-west-1": accounttypes.RegionOptStatusEnabledByDefault,
				"af-south-1": accounttypes.RegionOptStatusEnabled, "ap-east-1": accounttypes.RegionOptStatusDisabled,
				"me-south-1": accounttypes.RegionOptStatusEnabling, "il-central-1": accounttypes.RegionOptStatusDisabling,
			},
			want: map[string]string{"us-east-1": "scanned", "eu-west-1": "scanned", "af-south-1": "scanned", "il-central-1": "scanned",
				"ap-east-1": "not-enabled", "me-south-1": "not-enabled"},
		},
		{
			name:     "a region name that is not one is an error, not an endpoint",
			regions:  map[string]accounttypes.RegionOptStatus{"us-east-1": "ENABLED_BY_DEFAULT", "evil.example.com/x": "ENABLED"},
			want:     map[string]string{"us-east-1": "scanned"},
			wantErrs: 1,
		},
		{
			name:      "ListRegions fails: the default regions",
			fail:      failOp("ListRegions", apiErr("AccessDeniedException", "no")),
			wantErrs:  1,
			wantCount: len(defaultRegions["aws"]),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(callerAcct)
			be.acct(callerAcct).account.regions = tt.regions
			be.acct(callerAcct).account.fail = tt.fail
			res := run(t, context.Background(), be, Config{Regions: []string{"all"}})
			if res.err != nil {
				t.Fatal(res.err)
			}
			got := map[string]string{}
			for _, r := range res.inv.Accounts[0].Regions {
				got[r.Name] = r.Status
				if r.Status == "scanned" && be.region(callerAcct, r.Name).ecs.n("ListClusters") != 1 {
					t.Errorf("%s not scanned", r.Name)
				}
				if r.Status == "not-enabled" && be.region(callerAcct, r.Name).ecs.n("ListClusters") != 0 {
					t.Errorf("%s is not enabled but was called", r.Name)
				}
			}
			if tt.want != nil && fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("regions %v, want %v", got, tt.want)
			}
			if tt.wantCount > 0 && len(got) != tt.wantCount {
				t.Errorf("%d regions, want %d", len(got), tt.wantCount)
			}
			if len(res.inv.Errors) != tt.wantErrs {
				t.Errorf("errors %+v, want %d", res.inv.Errors, tt.wantErrs)
			}
			if !slices.Equal(res.inv.Scope.Regions, []string{"all"}) {
				t.Errorf("scope regions %v", res.inv.Scope.Regions)
			}
		})
	}
}

// blockingECS answers nothing until its context ends.
type blockingECS struct {
	*fakeECS
	mu      sync.Mutex
	started int
	once    sync.Once
	ready   chan struct{}
}

func (b *blockingECS) ListClusters(ctx context.Context, in *ecs.ListClustersInput, o ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	b.mu.Lock()
	b.started++
	b.mu.Unlock()
	b.once.Do(func() { close(b.ready) })
	<-ctx.Done()
	return nil, &smithy.OperationError{ServiceID: "ECS", OperationName: "ListClusters", Err: ctx.Err()}
}

func TestPerCallTimeout(t *testing.T) {
	be := newFakeBackend(callerAcct)
	blk := &blockingECS{fakeECS: ecsWorld(callerAcct, "us-east-1", 1, 1, 1, 2, 1), ready: make(chan struct{})}
	be.acct(callerAcct)
	res := runWithECS(t, context.Background(), be, blk, Config{Regions: []string{"us-east-1"}, CallTimeout: 50 * time.Millisecond, MaxAttempts: 1})
	if len(res.inv.Errors) != 1 {
		t.Fatalf("errors %+v", res.inv.Errors)
	}
	if e := res.inv.Errors[0]; e.Code != CodeTimeout || e.Operation != "ListClusters" || !strings.Contains(e.Message, "50ms") {
		t.Errorf("error %+v", e)
	}
	if r := res.inv.Accounts[0].Regions[0]; len(r.TaskDefinitions) != 2 {
		t.Errorf("the task definitions should not wait for the hanging call: %v", tdNames(r))
	}
	if !res.inv.Complete {
		t.Errorf("a timeout is a collection error, not an interruption")
	}
}

func TestCancellation(t *testing.T) {
	be := newFakeBackend(callerAcct)
	blk := &blockingECS{fakeECS: ecsWorld(callerAcct, "us-east-1", 1, 1, 1, 3, 1), ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-blk.ready
		cancel()
	}()
	start := time.Now()
	res := runWithECS(t, ctx, be, blk, Config{Regions: []string{"us-east-1"}, CallTimeout: time.Hour})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Collect took %s after cancellation", d)
	}
	inv := res.inv
	if inv.Complete || inv.Interrupted != "interrupted" {
		t.Errorf("Complete=%v Interrupted=%q", inv.Complete, inv.Interrupted)
	}
	// What was not collected is listed: the hanging ListClusters (so the
	// clusters, services and instances) at least, and nothing else than
	// interrupted calls.
	listed := false
	for _, e := range inv.Errors {
		if e.Code != CodeInterrupted || !strings.Contains(e.Message, "interrupted") {
			t.Errorf("error %+v, want only Interrupted", e)
		}
		listed = listed || (e.Operation == "ListClusters" && e.Region == "us-east-1" && e.AccountID == callerAcct)
	}
	if !listed {
		t.Errorf("the interrupted ListClusters is not listed: %+v", inv.Errors)
	}
	if len(inv.Accounts) != 1 {
		t.Errorf("accounts %+v", inv.Accounts)
	}
}

func TestDeadline(t *testing.T) {
	be := newFakeBackend(callerAcct)
	blk := &blockingECS{fakeECS: ecsWorld(callerAcct, "us-east-1", 1, 1, 1, 1, 1), ready: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res := runWithECS(t, ctx, be, blk, Config{Regions: []string{"us-east-1"}, CallTimeout: time.Hour})
	if res.inv.Complete || res.inv.Interrupted != "deadline" {
		t.Errorf("Complete=%v Interrupted=%q", res.inv.Complete, res.inv.Interrupted)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	be := newFakeBackend(callerAcct)
	be.caller.fail = func(string, any) error { return context.Canceled }
	res := run(t, ctx, be, Config{})
	if res.err == nil || !strings.Contains(res.err.Error(), "interrupted") {
		t.Errorf("err = %v", res.err)
	}
}

func TestManyAccountsInterruptedLeavesOthersUnstarted(t *testing.T) {
	be := newFakeBackend(callerAcct)
	be.org = orgFixture(40)
	be.block = true // every AssumeRole hangs
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res := run(t, ctx, be, Config{Org: true, Regions: []string{"us-east-1"}, AccountConcurrency: 4, CallTimeout: time.Hour})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.inv.Complete || len(res.inv.Accounts) != 43 {
		t.Errorf("complete=%v accounts=%d", res.inv.Complete, len(res.inv.Accounts))
	}
	// Each account is listed as not collected, once: the AssumeRole that
	// was cut short, or the scan of it that never started.
	per := map[string][]string{}
	for _, e := range res.inv.Errors {
		if e.Code != CodeInterrupted || !strings.Contains(e.Message, "deadline") {
			t.Errorf("error %+v, want Interrupted (deadline)", e)
		}
		per[e.AccountID] = append(per[e.AccountID], e.Service+"/"+e.Operation)
	}
	started := 0
	for _, a := range res.inv.Accounts {
		switch got := per[a.ID]; {
		case slices.Equal(got, []string{"sts/AssumeRole"}):
			started++
		case slices.Equal(got, []string{"scanner/ScanAccount"}):
		default:
			t.Errorf("account %s listed as %v", a.ID, got)
		}
	}
	if started < 4 || started > 8 {
		t.Errorf("%d accounts started with 4 at a time", started)
	}
}

// A region the scan was stopped before is listed as such, and marked as
// not collected.
func TestInterruptedBeforeARegionStarted(t *testing.T) {
	be := newFakeBackend(callerAcct)
	blk := &blockingECS{fakeECS: ecsWorld(callerAcct, "us-east-1", 1, 1, 1, 1, 1), ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-blk.ready
		cancel()
	}()
	res := runWithECS(t, ctx, be, blk, Config{Regions: []string{"eu-west-1", "us-east-1"}, RegionConcurrency: 1, CallTimeout: time.Hour})
	var regionErrs []string
	for _, e := range res.inv.Errors {
		if e.Service == "scanner" {
			regionErrs = append(regionErrs, e.Region+"/"+e.Operation)
		}
	}
	if len(regionErrs) != 1 || regionErrs[0] != "us-east-1/ScanRegion" && regionErrs[0] != "eu-west-1/ScanRegion" {
		t.Fatalf("regions listed as not started: %v (all errors %+v)", regionErrs, res.inv.Errors)
	}
	for _, r := range res.inv.Accounts[0].Regions {
		if r.Name == strings.Split(regionErrs[0], "/")[0] && r.Status != inventory.RegionFailed {
			t.Errorf("region %s not started but %q", r.Name, r.Status)
		}
	}
}

// ecsOverride serves one ECS client for every region.
type ecsOverride struct {
	*fakeBackend
	api ecsAPI
}

func (b ecsOverride) session(ctx context.Context, id, role string) (session, error) {
	s, err := b.fakeBackend.session(ctx, id, role)
	if err != nil {
		return nil, err
	}
	return ecsSession{s, b.api}, nil
}

type ecsSession struct {
	session
	api ecsAPI
}

func (s ecsSession) regional(region string) regionalClients {
	rc := s.session.regional(region)
	rc.ecs = s.api
	return rc
}

func runWithECS(t *testing.T, ctx context.Context, be *fakeBackend, api ecsAPI, cfg Config) *inventoryResult {
	t.Helper()
	cfg.unlimited = true
	cfg, err := cfg.normalize()
	if err != nil {
		t.Fatal(err)
	}
	st := &stats{}
	inv, err := collect(ctx, cfg, ecsOverride{be, api}, st)
	if err != nil {
		t.Fatal(err)
	}
	return &inventoryResult{inv: inv, stats: st}
}

// A scan of the same world gives byte-identical JSON, whatever the
// goroutine scheduling.
func TestDeterministicOutput(t *testing.T) {
	build := func() *fakeBackend {
		be := newFakeBackend(callerAcct)
		be.org = orgFixture(12)
		for _, a := range be.org.accounts {
			id := aws.ToString(a.Id)
			be.acct(id).iam = iamFixture(id)
			for _, r := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
				f := ecsWorld(id, r, 3, 12, 4, 7, 3)
				f.shuffleTDs = true
				be.region(id, r).ecs = f
			}
		}
		be.assumeErr[memberB] = apiErr("AccessDenied", "no")
		return be
	}
	var first []byte
	for i := range 3 {
		res := run(t, context.Background(), build(), Config{Org: true, Regions: []string{"us-east-1", "eu-west-1", "ap-south-1"},
			AccountConcurrency: 5, RegionConcurrency: 7})
		if res.err != nil {
			t.Fatal(res.err)
		}
		res.inv.CollectedAt = time.Time{}
		b, err := json.Marshal(res.inv)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
			continue
		}
		if string(b) != string(first) {
			t.Fatalf("run %d differs from run 0", i)
		}
	}
}

func TestProgress(t *testing.T) {
	be := newFakeBackend(callerAcct)
	be.org = orgFixture(5)
	be.assumeErr[memberB] = apiErr("AccessDenied", "no")
	var mu sync.Mutex
	var seen []Progress
	res := run(t, context.Background(), be, Config{Org: true, Regions: []string{"us-east-1", "eu-west-1"},
		Progress: func(p Progress) { mu.Lock(); seen = append(seen, p); mu.Unlock() }})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(seen) < 5 {
		t.Fatalf("only %d progress reports", len(seen))
	}
	last := seen[len(seen)-1]
	// 8 accounts; one without credentials, so 7×2 regions.
	if last.AccountsDone != 8 || last.AccountsTotal != 8 || last.RegionsDone != 14 || last.RegionsTotal != 14 || last.Errors != 1 || last.Calls == 0 {
		t.Errorf("last progress %+v", last)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].AccountsDone < seen[i-1].AccountsDone || seen[i].RegionsDone < seen[i-1].RegionsDone || seen[i].Calls < seen[i-1].Calls {
			t.Errorf("progress went backwards: %+v then %+v", seen[i-1], seen[i])
		}
	}
}

func TestProgressETA(t *testing.T) {
	st := &stats{}
	p := newProgress(nil, st)
	p.start = time.Now().Add(-10 * time.Second)
	p.accountsTotal = 4
	p.addRegions(5) // one account known: 5 regions; 3 more assumed alike
	p.regionsDone = 5
	got := p.snapshot()
	// 5 of ~20 in 10 s: ~30 s left.
	if got.ETA < 29*time.Second || got.ETA > 31*time.Second {
		t.Errorf("ETA %s, want about 30s", got.ETA)
	}
	p.regionsDone = 0
	if p.snapshot().ETA != 0 {
		t.Errorf("no ETA before anything is done")
	}
}

func TestClassify(t *testing.T) {
	timeoutErr := &net.OpError{Op: "read", Err: &timeoutNetErr{}}
	tests := []struct {
		name string
		err  error
		code string
		msg  string
	}{
		{"API error", &smithy.OperationError{ServiceID: "ECS", OperationName: "ListClusters", Err: apiErr("AccessDeniedException", "no access")}, "AccessDeniedException", "no access"},
		{"API error without message", apiErr("ThrottlingException", ""), "ThrottlingException", "api error ThrottlingException:"},
		{"our timeout", &timeoutError{after: time.Second, err: context.DeadlineExceeded}, CodeTimeout, "no answer within 1s"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), CodeTimeout, "deadline"},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), CodeCanceled, "canceled"},
		{"network timeout", timeoutErr, CodeTimeout, "read"},
		{"scanner's own", newScanError(CodePagination, "loop"), CodePagination, "loop"},
		{"anything else", errors.New("connection refused"), CodeRequestError, "connection refused"},
		{"refused connection names the endpoint", &smithy.OperationError{ServiceID: "ECS", OperationName: "ListClusters", Err: refused("ecs.eu-west-1.amazonaws.com")},
			CodeEndpointUnreachable, "cannot connect to endpoint https://ecs.eu-west-1.amazonaws.com: connection to 10.0.0.1:443 refused"},
		{"endpoint given up on", &endpointDownError{endpoint: "https://sts.amazonaws.com", cause: "connection refused", failures: 3, over: time.Second},
			CodeEndpointUnreachable, "endpoint https://sts.amazonaws.com is not answering (connection refused)"},
		{"control characters and a long message", apiErr("X", "a\x1b[31mb\nc"+strings.Repeat("é", 2000)), "X", "a [31mb c"},
	}
	for _, tt := range tests {
		code, msg := classify(tt.err)
		if code != tt.code || !strings.HasPrefix(msg, tt.msg) && !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: classify = %q, %q; want %q, %q", tt.name, code, msg, tt.code, tt.msg)
		}
		if len(msg) > maxMessage+4 || strings.ContainsAny(msg, "\x1b\n") {
			t.Errorf("%s: message not sanitised: %q", tt.name, msg)
		}
	}
}

type timeoutNetErr struct{}

func (timeoutNetErr) Error() string   { return "i/o timeout" }
func (timeoutNetErr) Timeout() bool   { return true }
func (timeoutNetErr) Temporary() bool { return true }

func TestConfigNormalize(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		check func(t *testing.T, c Config)
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.RoleName != DefaultRoleName || c.AccountConcurrency != 16 || c.RegionConcurrency != 64 || c.MaxAttempts != 10 ||
				c.RetryMode != RetryStandard || c.CallTimeout != 30*time.Second || c.Logger == nil || c.Regions != nil {
				t.Errorf("%+v", c)
			}
		}},
		{name: "all is nil", cfg: Config{Regions: []string{"ALL"}}, check: func(t *testing.T, c Config) {
			if c.Regions != nil {
				t.Errorf("regions %v", c.Regions)
			}
		}},
		{name: "sorted and unique", cfg: Config{Regions: []string{"us-east-1", "eu-west-1", "us-east-1"}, Accounts: []string{memberB, memberA, memberB}},
			check: func(t *testing.T, c Config) {
				if !slices.Equal(c.Regions, []string{"eu-west-1", "us-east-1"}) || !slices.Equal(c.Accounts, []string{memberA, memberB}) {
					t.Errorf("%v %v", c.Regions, c.Accounts)
				}
			}},
		{name: "role with path", cfg: Config{RoleName: "audit/ReadOnly"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.cfg.normalize()
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestConfigValidate: every invalid configuration is found before any call,
// as one *ConfigError per problem naming the field and the value.
func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // Field=Value of each ConfigError
	}{
		{name: "valid", cfg: Config{Org: true, OUs: []string{ouProd}, Accounts: []string{memberA}, Regions: []string{"eu-west-1"}, RoleName: "audit/ReadOnly", ExternalID: "ext-123", Region: "us-east-1"}},
		{name: "all alone", cfg: Config{Regions: []string{"all"}}},
		{name: "bad region", cfg: Config{Regions: []string{"us-east-1", "attacker.example.com"}}, want: []string{"Regions=attacker.example.com"}},
		{name: "garbage region", cfg: Config{Regions: []string{"garbage"}}, want: []string{"Regions=garbage"}},
		{name: "empty region", cfg: Config{Regions: []string{""}}, want: []string{"Regions="}},
		{name: "all with others", cfg: Config{Regions: []string{"all", "us-east-1"}}, want: []string{"Regions=all"}},
		{name: "bad account", cfg: Config{Accounts: []string{"12345"}}, want: []string{"Accounts=12345"}},
		{name: "bad excluded account", cfg: Config{ExcludeAccounts: []string{"abc"}}, want: []string{"ExcludeAccounts=abc"}},
		{name: "OU without org", cfg: Config{OUs: []string{ouProd}}, want: []string{"OUs=" + ouProd}},
		{name: "bad OU", cfg: Config{Org: true, OUs: []string{"r-1234"}}, want: []string{"OUs=r-1234"}},
		{name: "role name with a space", cfg: Config{RoleName: "a role"}, want: []string{"RoleName=a role"}},
		{name: "role name with slashes around", cfg: Config{RoleName: "/bad/"}, want: []string{"RoleName=/bad/"}},
		{name: "role name with an empty path segment", cfg: Config{RoleName: "a//b"}, want: []string{"RoleName=a//b"}},
		{name: "bad external ID (not shown)", cfg: Config{ExternalID: "x"}, want: []string{"ExternalID="}},
		{name: "bad retry mode", cfg: Config{RetryMode: "yolo"}, want: []string{"RetryMode=yolo"}},
		{name: "negative concurrency", cfg: Config{AccountConcurrency: -1, RegionConcurrency: -2, RegionCallConcurrency: -3}, want: []string{"AccountConcurrency=-1", "RegionConcurrency=-2", "RegionCallConcurrency=-3"}},
		{name: "negative attempts", cfg: Config{MaxAttempts: -1}, want: []string{"MaxAttempts=-1"}},
		{name: "negative timeout", cfg: Config{CallTimeout: -time.Second}, want: []string{"CallTimeout=-1s"}},
		{name: "bad home region", cfg: Config{Region: "moon"}, want: []string{"Region=moon"}},
		{name: "several at once, in field order", cfg: Config{Regions: []string{"garbage"}, RoleName: "/bad/", Region: "moon"},
			want: []string{"Region=moon", "Regions=garbage", "RoleName=/bad/"}},
		{name: "control characters are not echoed", cfg: Config{Regions: []string{"us\x1b[31m"}}, want: []string{"Regions=us [31m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var got []string
			for _, ce := range ConfigErrors(err) {
				got = append(got, ce.Field+"="+ce.Value)
				if ce.Reason == "" || !strings.Contains(ce.Error(), ce.Field) {
					t.Errorf("error without a reason or field: %q", ce.Error())
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors %v, want %v (err %v)", got, tt.want, err)
			}
			if (err == nil) != (len(tt.want) == 0) {
				t.Errorf("err = %v", err)
			}
			// normalize refuses what Validate refuses, and keeps the type.
			if _, nerr := tt.cfg.normalize(); len(ConfigErrors(nerr)) != len(tt.want) {
				t.Errorf("normalize: %v", nerr)
			}
		})
	}
	var ce *ConfigError
	if err := (Config{OUs: []string{ouProd}}).Validate(); !errors.As(err, &ce) || ce.Needs != "Org" {
		t.Errorf("OUs without Org: %v", err)
	}
}

func TestInventoryValidatesAndHasNoSecrets(t *testing.T) {
	be := newFakeBackend(callerAcct)
	f := ecsWorld(callerAcct, "us-east-1", 0, 0, 0, 1, 1)
	f.tds[0].ContainerDefinitions[0].Environment = append(f.tds[0].ContainerDefinitions[0].Environment,
		envKV("DB_PASSWORD", "hunter2-very-secret-PASSWORD-1234567890"), envKV("LEVEL", "debug"))
	be.region(callerAcct, "us-east-1").ecs = f
	res := run(t, context.Background(), be, Config{Regions: []string{"us-east-1"}})
	b, _ := json.Marshal(res.inv)
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "debug") {
		t.Errorf("an environment value reached the inventory")
	}
	env := res.inv.Accounts[0].Regions[0].TaskDefinitions[0].ContainerDefinitions[0].Environment
	if len(env) != 2 || env[0].ValueClass != inventory.ValueHighEntropy || env[0].ValueLength != 39 || env[1].ValueLength != 5 {
		t.Errorf("environment %+v", env)
	}
	if err := res.inv.Validate(); err != nil {
		t.Error(err)
	}
}
