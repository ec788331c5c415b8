package fakeaws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ecs-audit/audit/inventory"
)

func isThrottle(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestECSTokenBuckets(t *testing.T) {
	ts := startServer(t, testWorld(), Options{ThrottleECS: true})
	client := prodECS(t, ts)
	ctx := context.Background()
	tests := []struct {
		name  string
		call  func() error
		burst int
	}{
		{"task definition read", func() error {
			_, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
			return err
		}, 50},
		{"service read", func() error {
			_, err := client.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("big")})
			return err
		}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := 0
			var first error
			start := time.Now()
			for i := 0; i < 3*tt.burst; i++ {
				if err := tt.call(); err != nil {
					first = err
					break
				}
				ok++
			}
			// The bucket refills at 20 per second while we call.
			refill := int(time.Since(start).Seconds()*20) + 2
			if first == nil || ok < tt.burst || ok > tt.burst+refill {
				t.Fatalf("%d calls passed before throttling (%v), want %d plus at most %d refilled", ok, first, tt.burst, refill)
			}
			wantCode(t, first, "ThrottlingException")
			if !isThrottle(first) || httpStatus(first) != http.StatusBadRequest || !strings.Contains(first.Error(), "Rate exceeded") {
				t.Errorf("not a throttle the SDK recognises: %v (status %d)", first, httpStatus(first))
			}
		})
	}
	// Other accounts and regions have their own buckets.
	if _, err := ecs.NewFromConfig(ts.assumeCfg(t, prodID, "us-west-2")).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")}); errCode(err) == "ThrottlingException" {
		t.Errorf("us-west-2 shares the us-east-1 bucket")
	}
	time.Sleep(200 * time.Millisecond) // refill: 20 per second
	if _, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")}); err != nil {
		t.Errorf("bucket did not refill: %v", err)
	}
	if ts.ThrottledCalls() < 2 {
		t.Errorf("ThrottledCalls = %d", ts.ThrottledCalls())
	}
}

// TestRandomFaults: rates are honoured, the decisions depend only on the
// seed and the request, and throttles are throttles to the SDK.
func TestRandomFaults(t *testing.T) {
	run := func(seed int64, workers int) map[string]string {
		ts := startServer(t, testWorld(), Options{Seed: seed, ThrottleRate: 0.3, ServerErrorRate: 0.1})
		client := prodECS(t, ts)
		var mu sync.Mutex
		got := map[string]string{}
		var wg sync.WaitGroup
		jobs := make(chan int)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					for attempt := 0; attempt < 2; attempt++ {
						_, err := client.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{fmt.Sprintf("c-%d", i)}})
						if isThrottle(err) && !strings.Contains(err.Error(), "Rate exceeded") {
							t.Errorf("throttle message: %v", err)
						}
						mu.Lock()
						got[fmt.Sprintf("%d/%d", i, attempt)] = errCode(err)
						mu.Unlock()
					}
				}
			}()
		}
		for i := 0; i < 300; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		return got
	}
	a := run(42, 1)
	b := run(42, 4)
	c := run(43, 1)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave different faults with different concurrency")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds gave identical faults")
	}
	counts := map[string]int{}
	for _, code := range a {
		counts[code]++
	}
	n := float64(len(a))
	if r := float64(counts["ThrottlingException"]) / n; r < 0.2 || r > 0.4 {
		t.Errorf("throttle rate %.2f, want about 0.3 (%v)", r, counts)
	}
	if r := float64(counts["InternalFailure"]+counts["ServiceUnavailable"]) / n; r < 0.05 || r > 0.16 {
		t.Errorf("server error rate %.2f, want about 0.1 (%v)", r, counts)
	}
	if counts["InternalFailure"] == 0 || counts["ServiceUnavailable"] == 0 {
		t.Errorf("want both 500 and 503 answers: %v", counts)
	}
}

func TestTargetedFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		fault   Fault
		call    func(ts *testServer) error
		code    string
		status  int
		hang    bool
		slowest time.Duration
	}{
		{"ECS access denied", Fault{Account: prodID, Service: "ecs", Operation: "ListClusters", Code: FaultAccessDenied},
			func(ts *testServer) error {
				_, err := prodECS(t, ts).ListClusters(ctx, &ecs.ListClustersInput{})
				return err
			}, "AccessDeniedException", 400, false, 0},
		{"IAM access denied (query)", Fault{Service: "iam", Code: FaultAccessDenied},
			func(ts *testServer) error {
				_, err := iam.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1")).GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
				return err
			}, "AccessDenied", 403, false, 0},
		{"STS AssumeRole access denied", Fault{Service: "sts", Operation: "sts:AssumeRole", Code: FaultAccessDenied},
			func(ts *testServer) error {
				_, err := sts.NewFromConfig(ts.callerCfg(t, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/" + DefaultScanRoleName), RoleSessionName: aws.String("x1")})
				return err
			}, "AccessDenied", 403, false, 0},
		{"AssumeRole into one account denied", Fault{Account: prodID, Service: "sts", Operation: "AssumeRole", Code: FaultAccessDenied},
			func(ts *testServer) error {
				_, err := sts.NewFromConfig(ts.callerCfg(t, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + prodID + ":role/" + DefaultScanRoleName), RoleSessionName: aws.String("x1")})
				return err
			}, "AccessDenied", 403, false, 0},
		{"AssumeRole into another account not affected", Fault{Account: prodID, Service: "sts", Operation: "AssumeRole", Code: FaultAccessDenied},
			func(ts *testServer) error {
				_, err := sts.NewFromConfig(ts.callerCfg(t, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + devID + ":role/" + DefaultScanRoleName), RoleSessionName: aws.String("x1")})
				return err
			}, "", 200, false, 0},
		{"Organizations throttling", Fault{Service: "organizations", Code: FaultThrottling},
			func(ts *testServer) error {
				_, err := organizations.NewFromConfig(ts.callerCfg(t, "us-east-1")).ListAccounts(ctx, &organizations.ListAccountsInput{})
				return err
			}, "TooManyRequestsException", 400, false, 0},
		{"IAM throttling", Fault{Service: "iam", Code: FaultThrottling},
			func(ts *testServer) error {
				_, err := iam.NewFromConfig(ts.callerCfg(t, "us-east-1")).ListRoles(ctx, &iam.ListRolesInput{})
				return err
			}, "Throttling", 400, false, 0},
		{"Account throttling", Fault{Service: "account", Code: FaultThrottling},
			func(ts *testServer) error {
				_, err := account.NewFromConfig(ts.callerCfg(t, "us-east-1")).ListRegions(ctx, &account.ListRegionsInput{})
				return err
			}, "TooManyRequestsException", 429, false, 0},
		{"ECS internal error in one region", Fault{Region: "us-east-1", Service: "ecs", Code: FaultInternalError},
			func(ts *testServer) error {
				_, err := prodECS(t, ts).ListClusters(ctx, &ecs.ListClustersInput{})
				return err
			}, "ServerException", 500, false, 0},
		{"fault in another region does not apply", Fault{Region: "eu-west-1", Code: FaultInternalError},
			func(ts *testServer) error {
				_, err := prodECS(t, ts).ListClusters(ctx, &ecs.ListClustersInput{})
				return err
			}, "", 200, false, 0},
		{"fault for another account does not apply", Fault{Account: devID, Code: FaultAccessDenied},
			func(ts *testServer) error {
				_, err := prodECS(t, ts).ListClusters(ctx, &ecs.ListClustersInput{})
				return err
			}, "", 200, false, 0},
		{"slow call", Fault{Service: "ecs", Code: FaultTimeout, Delay: 150 * time.Millisecond},
			func(ts *testServer) error {
				_, err := prodECS(t, ts).ListClusters(ctx, &ecs.ListClustersInput{})
				return err
			}, "", 200, false, 150 * time.Millisecond},
		{"hanging call", Fault{Service: "ecs", Operation: "ListClusters", Code: FaultTimeout},
			func(ts *testServer) error {
				c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				_, err := prodECS(t, ts).ListClusters(c, &ecs.ListClustersInput{})
				return err
			}, "", 0, true, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, testWorld(), Options{Faults: []Fault{tt.fault}})
			start := time.Now()
			err := tt.call(ts)
			took := time.Since(start)
			if took < tt.slowest {
				t.Errorf("answered after %v, want at least %v", took, tt.slowest)
			}
			if tt.hang {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("want the context deadline, got %v", err)
				}
				return
			}
			wantCode(t, err, tt.code)
			if err != nil && httpStatus(err) != tt.status {
				t.Errorf("HTTP status %d, want %d", httpStatus(err), tt.status)
			}
			if tt.fault.Code == FaultThrottling && !isThrottle(err) {
				t.Errorf("the SDK does not see a throttle: %v", err)
			}
		})
	}
}

func TestFaultTimesAndRetries(t *testing.T) {
	ts := startServer(t, testWorld(), Options{Faults: []Fault{{Service: "ecs", Operation: "ListClusters", Code: FaultThrottling, Times: 2}}})
	// With retries the SDK gets through the two throttles.
	cfg := ts.assumeCfg(t, prodID, "us-east-1")
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	out, err := ecs.NewFromConfig(cfg).ListClusters(context.Background(), &ecs.ListClustersInput{})
	if err != nil || len(out.ClusterArns) != 2 {
		t.Fatalf("after retries: %v", err)
	}
	if got := ts.Calls()["ecs:ListClusters"]; got != 3 {
		t.Errorf("ecs:ListClusters calls = %d, want 3 (two throttled, one served)", got)
	}
	if ts.ThrottledCalls() != 2 {
		t.Errorf("ThrottledCalls = %d, want 2", ts.ThrottledCalls())
	}
}

func TestLatency(t *testing.T) {
	ts := startServer(t, testWorld(), Options{Latency: 60 * time.Millisecond})
	client := prodECS(t, ts) // AssumeRole also waits
	start := time.Now()
	if _, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 60*time.Millisecond {
		t.Errorf("call took %v, want at least the latency", took)
	}
}

// TestMutatingCallsRefused: writes and secret-value reads are refused with
// an access-denied error and recorded; the world is unchanged.
func TestMutatingCallsRefused(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	ctx := context.Background()
	cfg := ts.assumeCfg(t, prodID, "us-east-1")
	tests := []struct {
		op   string
		call func() error
		code string
	}{
		{"ecs:RegisterTaskDefinition", func() error {
			_, err := ecs.NewFromConfig(cfg).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("evil"),
				ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("x"), Image: aws.String("x")}}})
			return err
		}, "AccessDeniedException"},
		{"ssm:GetParameters", func() error {
			_, err := ssm.NewFromConfig(cfg).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/p01"}, WithDecryption: aws.Bool(true)})
			return err
		}, "AccessDeniedException"},
		{"secretsmanager:GetSecretValue", func() error {
			_, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db")})
			return err
		}, "AccessDeniedException"},
		{"iam:CreateRole", func() error {
			_, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("evil"), AssumeRolePolicyDocument: aws.String("{}")})
			return err
		}, "AccessDenied"},
		{"account:PutAccountName", func() error {
			_, err := account.NewFromConfig(cfg).PutAccountName(ctx, &account.PutAccountNameInput{AccountName: aws.String("evil")})
			return err
		}, "AccessDeniedException"},
		{"organizations:CreateAccount", func() error {
			_, err := organizations.NewFromConfig(ts.callerCfg(t, "us-east-1")).CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("evil"), Email: aws.String("e@example.com")})
			return err
		}, "AccessDeniedException"},
		{"sts:GetSessionToken", func() error {
			_, err := sts.NewFromConfig(ts.callerCfg(t, "us-east-1")).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
			return err
		}, "AccessDenied"},
	}
	var want []string
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			err := tt.call()
			wantCode(t, err, tt.code)
			if !strings.Contains(err.Error(), tt.op) {
				t.Errorf("message does not name the operation: %v", err)
			}
		})
		want = append(want, tt.op)
	}
	got := ts.MutatingCalls()
	if strings.Join(got, ",") != strings.Join(sortedCopy(want), ",") {
		t.Errorf("MutatingCalls = %v, want %v", got, sortedCopy(want))
	}
	if n, err := ecs.NewFromConfig(cfg).ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{}); err != nil || len(n.Families) != 3 {
		t.Errorf("world changed: %v %v", err, n)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func TestUnknownOperationsAndCounters(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	ctx := context.Background()
	cfg := ts.assumeCfg(t, prodID, "us-east-1")
	ts.ResetCounters()
	if len(ts.Calls()) != 0 || len(ts.CallsByAccount()) != 0 {
		t.Fatal("ResetCounters left counts")
	}
	_, err := ecs.NewFromConfig(cfg).DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{})
	wantCode(t, err, "UnknownOperationException")
	_, err = iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "InvalidAction")
	_, err = account.NewFromConfig(cfg).GetContactInformation(ctx, &account.GetContactInformationInput{})
	wantCode(t, err, "UnknownOperationException")
	for i := 0; i < 3; i++ {
		if _, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int64{
		"ecs:DescribeCapacityProviders": 1, "iam:ListUsers": 1, "account:GetContactInformation": 1, "ecs:ListClusters": 3,
	}
	if got := ts.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("Calls = %v, want %v", got, want)
	}
	if got := ts.CallsByAccount(); !reflect.DeepEqual(got, map[string]int64{prodID: 6}) {
		t.Errorf("CallsByAccount = %v", got)
	}
	if len(ts.MutatingCalls()) != 0 {
		t.Errorf("reads recorded as mutating: %v", ts.MutatingCalls())
	}
}

// TestWorldErrorsReplayed: collection errors in the world answer again.
func TestWorldErrorsReplayed(t *testing.T) {
	w := testWorld()
	w.Errors = []inventory.CollectionError{
		{AccountID: prodID, Region: "us-east-1", Service: "ecs", Operation: "DescribeTaskDefinition", Resource: eastARN + ":task-definition/web:2", Code: "AccessDeniedException", Message: "denied by SCP"},
		{AccountID: prodID, Service: "iam", Operation: "GetAccountAuthorizationDetails", Code: "AccessDenied", Message: "no iam"},
		{AccountID: devID, Service: "sts", Operation: "AssumeRole", Code: "AccessDenied", Message: "role missing"},
	}
	ctx := context.Background()
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignore=%v", ignore), func(t *testing.T) {
			ts := startServer(t, w, Options{IgnoreWorldErrors: ignore})
			client := prodECS(t, ts)
			want := func(code string) string {
				if ignore {
					return ""
				}
				return code
			}
			_, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:2")})
			wantCode(t, err, want("AccessDeniedException"))
			if _, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:3")}); err != nil {
				t.Errorf("another resource failed: %v", err)
			}
			_, err = iam.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1")).GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
			wantCode(t, err, want("AccessDenied"))
			_, err = sts.NewFromConfig(ts.callerCfg(t, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + devID + ":role/" + DefaultScanRoleName), RoleSessionName: aws.String("s1")})
			wantCode(t, err, want("AccessDenied"))
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"throttle rate", Options{ThrottleRate: 1.5}, "ThrottleRate"},
		{"rates sum", Options{ThrottleRate: 0.6, ServerErrorRate: 0.6}, "more than 1"},
		{"fault code", Options{Faults: []Fault{{Code: "Boom"}}}, "Faults[0].Code"},
		{"fault service", Options{Faults: []Fault{{Service: "sqs", Code: FaultThrottling}}}, "Faults[0].Service"},
		{"role ARN", Options{ScanRoleName: "arn:aws:iam::111111111111:role/x"}, "ScanRoleName"},
		{"latency", Options{Latency: -time.Second}, "Latency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(testWorld(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %s", err, tt.want)
			}
		})
	}
}

func TestWorldValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(w *inventory.Inventory)
		want   string
	}{
		{"nil world", nil, "world is nil"},
		{"inventory validation", func(w *inventory.Inventory) { w.Partition = "" }, "partition"},
		{"unknown value class", func(w *inventory.Inventory) {
			w.Accounts[1].Regions[0].TaskDefinitions[0].ContainerDefinitions[0].Environment[0].ValueClass = "mystery"
		}, "environment[0].valueClass"},
		{"OU under two parents", func(w *inventory.Inventory) {
			w.Accounts[2].Path = []inventory.PathNode{w.Accounts[2].Path[0], w.Accounts[1].Path[1], w.Accounts[2].Path[1], w.Accounts[2].Path[2]}
		}, "is under"},
		{"OU with different SCPs", func(w *inventory.Inventory) {
			w.Accounts[3].Path[1].SCPs = nil
		}, "accounts[3].path[1].scps"},
		{"path not starting at root", func(w *inventory.Inventory) { w.Accounts[1].Path = w.Accounts[1].Path[1:] }, "accounts[1].path[0].type"},
		{"account node of another account", func(w *inventory.Inventory) { w.Accounts[1].Path[2].ID = devID }, "accounts[1].path[2].id"},
		{"bad management account", func(w *inventory.Inventory) { w.Organization.ManagementAccountID = "x" }, "managementAccountId"},
		{"region name", func(w *inventory.Inventory) { w.Accounts[1].Regions[1].Name = "moon" }, "regions[1].name"},
		{"duplicate task definition", func(w *inventory.Inventory) {
			r := w.Accounts[1].Regions[0]
			td := *r.TaskDefinitions[0]
			td.ARN += "x"
			r.TaskDefinitions = append(r.TaskDefinitions, &td)
		}, "web:1 is listed twice"},
		{"account status", func(w *inventory.Inventory) { w.Accounts[0].Status = "asleep" }, "accounts[0].status"},
		{"huge environment value", func(w *inventory.Inventory) {
			w.Accounts[1].Regions[0].TaskDefinitions[0].ContainerDefinitions[0].Environment[0].ValueLength = 1 << 30
		}, "environment[0].valueLength"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w *inventory.Inventory
			if tt.mutate != nil {
				w = testWorld()
				tt.mutate(w)
			}
			_, err := New(w, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
