package fakeaws

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/ecs-audit/audit/inventory"
)

const (
	mgmtID   = "111111111111"
	prodID   = "222222222222"
	devID    = "333333333333"
	suspID   = "444444444444"
	rootID   = "r-ab12"
	ouProd   = "ou-ab12-prod0001"
	ouDev    = "ou-ab12-devl0001"
	scpFull  = "p-FullAWSAccess"
	scpDeny  = "p-denyregion1"
	rcpTrust = "p-rcptrust01"
)

// trickyDoc has characters that URL encoding must round-trip: spaces, +,
// %, &, quotes, slashes, unicode and a newline.
const trickyDoc = `{"Version": "2012-10-17", "Statement": [{"Sid": "A + B & 100% \"quoted\" / ü","Effect": "Allow",
"Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:*:222222222222:secret:app/*"}]}`

// testWorld is a small organization: a management account, a prod account
// under OU prod with a big us-east-1, a dev account under OU dev and a
// suspended account.
func testWorld() *inventory.Inventory {
	root := inventory.PathNode{ID: rootID, Name: "Root", Type: inventory.NodeRoot, SCPs: []string{scpFull}}
	prodOU := inventory.PathNode{ID: ouProd, Name: "Prod", Type: inventory.NodeOU, SCPs: []string{scpFull, scpDeny}, RCPs: []string{rcpTrust}}
	devOU := inventory.PathNode{ID: ouDev, Name: "Dev", Type: inventory.NodeOU, SCPs: []string{scpFull}}
	acctNode := func(id string) inventory.PathNode {
		return inventory.PathNode{ID: id, Type: inventory.NodeAccount, SCPs: []string{scpFull}}
	}
	region := func(acct, name string) string { return "arn:aws:ecs:" + name + ":" + acct }

	// prod / us-east-1: one big cluster (25 services, 120 instances) and a small one.
	big := &inventory.Cluster{ARN: region(prodID, "us-east-1") + ":cluster/big", Name: "big", Status: "ACTIVE"}
	for i := 1; i <= 25; i++ {
		svc := &inventory.Service{
			ARN:  fmt.Sprintf("%s:service/big/svc-%02d", region(prodID, "us-east-1"), i),
			Name: fmt.Sprintf("svc-%02d", i), Status: "ACTIVE", DesiredCount: 1, RunningCount: 1,
			TaskDefinition: region(prodID, "us-east-1") + ":task-definition/web:3",
		}
		if i%2 == 0 {
			svc.LaunchType, svc.PlatformVersion, svc.PlatformFamily = inventory.LaunchFargate, "1.4.0", "Linux"
		} else {
			svc.LaunchType = inventory.LaunchEC2
		}
		big.Services = append(big.Services, svc)
	}
	big.Services[0].LaunchType = ""
	big.Services[0].CapacityProviders = []string{"FARGATE_SPOT", "FARGATE"}
	big.Services[0].Deployments = []inventory.Deployment{
		{ID: "ecs-svc/1111111111111111111", Status: "PRIMARY", TaskDefinition: region(prodID, "us-east-1") + ":task-definition/web:3", CapacityProviders: []string{"FARGATE_SPOT", "FARGATE"}, PlatformVersion: "LATEST"},
		{ID: "ecs-svc/2222222222222222222", Status: "ACTIVE", TaskDefinition: region(prodID, "us-east-1") + ":task-definition/web:2", LaunchType: inventory.LaunchFargate, PlatformVersion: "1.3.0"},
	}
	big.Services[1].Deployments = []inventory.Deployment{
		{ID: "ts-blue", Status: "PRIMARY", TaskDefinition: region(prodID, "us-east-1") + ":task-definition/web:3", LaunchType: inventory.LaunchFargate},
		{ID: "ts-green", Status: "ACTIVE", TaskDefinition: region(prodID, "us-east-1") + ":task-definition/web:1", LaunchType: inventory.LaunchFargate},
	}
	for i := 1; i <= 120; i++ {
		st := "ACTIVE"
		if i%10 == 0 {
			st = "DRAINING"
		}
		big.ContainerInstances = append(big.ContainerInstances, &inventory.ContainerInstance{
			ARN:           fmt.Sprintf("%s:container-instance/big/%032x", region(prodID, "us-east-1"), i),
			EC2InstanceID: fmt.Sprintf("i-%017x", i), Status: st, AgentConnected: i != 7,
			AgentVersion: "1.70.2", AgentHash: "abc1234", DockerVersion: "DockerVersion: 20.10.25",
			Attributes: []inventory.Attribute{{Name: "ecs.capability.execution-role-awslogs"}, {Name: "ecs.os-type", Value: "linux"}},
		})
	}
	small := &inventory.Cluster{ARN: region(prodID, "us-east-1") + ":cluster/small", Name: "small", Status: "ACTIVE"}

	essentialFalse := false
	var tds []*inventory.TaskDefinition
	for rev := 1; rev <= 3; rev++ {
		st := "ACTIVE"
		if rev == 1 {
			st = "INACTIVE"
		}
		tds = append(tds, &inventory.TaskDefinition{
			ARN: fmt.Sprintf("%s:task-definition/web:%d", region(prodID, "us-east-1"), rev), Family: "web", Revision: int32(rev), Status: st,
			ExecutionRoleARN: "arn:aws:iam::" + prodID + ":role/exec", TaskRoleARN: "arn:aws:iam::" + prodID + ":role/app",
			NetworkMode: "awsvpc", RequiresCompatibilities: []string{"FARGATE"}, Compatibilities: []string{"EC2", "FARGATE"},
			RequiresAttributes: []inventory.Attribute{{Name: "ecs.capability.execution-role-awslogs"}, {Name: "com.amazonaws.ecs.capability.ecr-auth"}},
			RuntimePlatform:    &inventory.RuntimePlatform{OperatingSystemFamily: "LINUX", CPUArchitecture: "ARM64"},
			ContainerDefinitions: []inventory.ContainerDefinition{{
				Name: "app", Image: prodID + ".dkr.ecr.us-east-1.amazonaws.com/web:1." + fmt.Sprint(rev),
				RepositoryCredentials: &inventory.RepositoryCredentials{CredentialsParameter: "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:registry-AbCdEf"},
				LogConfiguration: &inventory.LogConfiguration{LogDriver: "splunk", Options: map[string]string{"splunk-url": "https://splunk.example.com", "splunk-token": inventory.Redacted},
					SecretOptions: []inventory.SecretRef{{Name: "splunk-token", ValueFrom: "/app/splunk"}}},
				Secrets:          []inventory.SecretRef{{Name: "DB", ValueFrom: "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:app/db-AbCdEf:password::"}},
				EnvironmentFiles: []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg/web.env", Type: "s3"}},
				Environment:      envForAllClasses(),
			}, {
				Name: "log_router", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", Essential: &essentialFalse,
				FirelensConfiguration: &inventory.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::cfg/fb.conf"}},
			}},
			Volumes: []inventory.Volume{{Name: "scratch"}, {Name: "fsx", FSxWindowsFileServerVolumeConfiguration: &inventory.FSxWindowsFileServerVolumeConf{
				FileSystemID: "fs-0123456789abcdef0", RootDirectory: `share`,
				AuthorizationConfig: &inventory.FSxAuthorizationConfig{CredentialsParameter: "arn:aws:ssm:us-east-1:" + prodID + ":parameter/fsx", Domain: "corp.example.com"},
			}}},
		})
	}
	tds = append(tds, &inventory.TaskDefinition{
		ARN: region(prodID, "us-east-1") + ":task-definition/api:1", Family: "api", Revision: 1,
		ContainerDefinitions: []inventory.ContainerDefinition{{Name: "api", Image: "nginx"}},
	}, &inventory.TaskDefinition{
		ARN: region(prodID, "us-east-1") + ":task-definition/old:1", Family: "old", Revision: 1, Status: "INACTIVE",
		ContainerDefinitions: []inventory.ContainerDefinition{{Name: "old", Image: "busybox"}},
	})

	keyID := "1234abcd-12ab-34cd-56ef-1234567890ab"
	prodEast := &inventory.Region{
		Name: "us-east-1", Status: inventory.RegionScanned,
		Clusters: []*inventory.Cluster{big, small}, TaskDefinitions: tds,
		Secrets: []*inventory.Secret{
			{ARN: "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:app/db-AbCdEf", Name: "app/db", KMSKeyID: "arn:aws:kms:us-east-1:" + prodID + ":key/" + keyID,
				ResourcePolicy: `{"Version":"2012-10-17","Statement":[]}`},
			{ARN: "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:registry-XyZ123"},
		},
		KMSKeys: []*inventory.KMSKey{{ARN: "arn:aws:kms:us-east-1:" + prodID + ":key/" + keyID, KeyID: keyID, Manager: "CUSTOMER",
			Aliases: []string{"alias/app", "alias/app-old"}, Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"}]}`}},
	}
	for i := 1; i <= 60; i++ {
		p := &inventory.Parameter{Name: fmt.Sprintf("/app/p%02d", i), Type: "String"}
		if i%3 == 0 {
			p.Type, p.KeyID = "SecureString", "alias/aws/ssm"
		}
		prodEast.Parameters = append(prodEast.Parameters, p)
	}
	prodEast.Parameters = append(prodEast.Parameters, &inventory.Parameter{Name: "/app/deep/nested", Type: "String"}, &inventory.Parameter{Name: "flat", Type: "String"})

	prodIAM := &inventory.IAM{
		Roles: []*inventory.Role{
			{ARN: "arn:aws:iam::" + prodID + ":role/exec", Name: "exec", RoleID: "AROAEXEC0000000000001",
				TrustPolicy:         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
				InlinePolicies:      []inventory.InlinePolicy{{Name: "tricky", Document: trickyDoc}},
				AttachedPolicies:    []string{"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", "arn:aws:iam::" + prodID + ":policy/local"},
				PermissionsBoundary: "arn:aws:iam::" + prodID + ":policy/local",
				Tags:                map[string]string{"team": "web", "cost-center": "42"}},
			{ARN: "arn:aws:iam::" + prodID + ":role/service-role/app", Name: "app", Path: "/service-role/", TrustPolicy: `{"Version":"2012-10-17","Statement":[]}`},
			{ARN: "arn:aws:iam::" + prodID + ":role/third", Name: "third", TrustPolicy: `{}`},
		},
		ManagedPolicies: []*inventory.ManagedPolicy{
			{ARN: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", Name: "AmazonECSTaskExecutionRolePolicy", AWSManaged: true, DefaultVersionID: "v1",
				Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","logs:PutLogEvents"],"Resource":"*"}]}`},
			{ARN: "arn:aws:iam::" + prodID + ":policy/local", Name: "local", DefaultVersionID: "v4", Document: trickyDoc},
		},
	}

	return &inventory.Inventory{
		Format: inventory.Format, SchemaVersion: inventory.SchemaVersion, Partition: "aws",
		CollectedAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		Organization: &inventory.Organization{
			ID: "o-abcdef1234", ManagementAccountID: mgmtID, RootID: rootID,
			Policies: map[string]*inventory.OrgPolicy{
				scpFull:  {ID: scpFull, Name: "FullAWSAccess", Type: inventory.PolicyTypeSCP, AWSManaged: true, Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
				scpDeny:  {ID: scpDeny, Name: "DenyRegions", Type: inventory.PolicyTypeSCP, Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}]}`},
				rcpTrust: {ID: rcpTrust, Name: "TrustedOnly", Type: inventory.PolicyTypeRCP, Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`},
			},
		},
		Accounts: []*inventory.Account{
			{ID: mgmtID, Name: "management", Email: "mgmt@example.com", Status: "ACTIVE", Path: []inventory.PathNode{root, acctNode(mgmtID)},
				Regions: []*inventory.Region{{Name: "us-east-1", Status: inventory.RegionScanned}}},
			{ID: prodID, Name: "prod", Email: "prod@example.com", Status: "ACTIVE", Path: []inventory.PathNode{root, prodOU, acctNode(prodID)}, IAM: prodIAM,
				Regions: []*inventory.Region{prodEast, {Name: "us-west-2", Status: inventory.RegionScanned}, {Name: "ap-east-1", Status: inventory.RegionNotEnabled}, {Name: "eu-south-1", Status: inventory.RegionScanned}}},
			{ID: devID, Name: "dev", Status: "ACTIVE", Path: []inventory.PathNode{root, devOU, acctNode(devID)},
				Regions: []*inventory.Region{{Name: "us-east-1", Status: inventory.RegionScanned, Clusters: []*inventory.Cluster{{ARN: region(devID, "us-east-1") + ":cluster/dev-only", Name: "dev-only"}}}}},
			{ID: suspID, Name: "gone", Status: "SUSPENDED", Path: []inventory.PathNode{root, devOU, acctNode(suspID)}},
		},
	}
}

// envForAllClasses is one environment variable per value class, with
// lengths, including an empty class without a length.
func envForAllClasses() []inventory.EnvVar {
	var out []inventory.EnvVar
	for i, c := range valueClasses {
		n := map[string]int{
			"": 12, inventory.ValueAWSAccessKey: 20, inventory.ValueAWSSecretKey: 40, inventory.ValuePrivateKey: 200,
			inventory.ValueGitHubToken: 40, inventory.ValueSlackToken: 50, inventory.ValueStripeKey: 32, inventory.ValueGoogleAPIKey: 39,
			inventory.ValueJWT: 120, inventory.ValueURLCredentials: 60, inventory.ValueHighEntropy: 40,
		}[c]
		out = append(out, inventory.EnvVar{Name: fmt.Sprintf("VAR_%02d", i), ValueClass: c, ValueLength: n})
	}
	return append(out, inventory.EnvVar{Name: "PLAIN"})
}

type testServer struct {
	*Server
	url string
}

func startServer(t testing.TB, world *inventory.Inventory, opts Options) *testServer {
	t.Helper()
	s, err := New(world, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	url, err := s.Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &testServer{Server: s, url: url}
}

// cfg builds an SDK config for the fake endpoint with the given credentials
// and no retries.
func (ts *testServer) cfg(t testing.TB, region string, creds aws.Credentials) aws.Config {
	t.Helper()
	c, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithBaseEndpoint(ts.url),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: creds}),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	return c
}

// callerCfg is the management account's config.
func (ts *testServer) callerCfg(t testing.TB, region string) aws.Config {
	ak, sk := ts.CallerCredentials()
	return ts.cfg(t, region, aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk})
}

// assumeCfg assumes the scan role in account and returns a config using the session.
func (ts *testServer) assumeCfg(t testing.TB, account, region string) aws.Config {
	t.Helper()
	// Retry, so that tests with random faults still get their session.
	stsCfg := ts.callerCfg(t, "us-east-1")
	stsCfg.RetryMaxAttempts = 0
	stsCfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 20
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	out, err := sts.NewFromConfig(stsCfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + DefaultScanRoleName), RoleSessionName: aws.String("audit"),
	})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", account, err)
	}
	c := out.Credentials
	return ts.cfg(t, region, aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken})
}

// errCode returns the API error code of err, or "" when there is none.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}
