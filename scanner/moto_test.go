package scanner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/inventory"
)

// motoManagement is moto's default account, the one static test
// credentials map to; it becomes the organization's management account.
const motoManagement = "123456789012"

var motoRegions = []string{"eu-west-1", "us-east-1"}

// motoEnv points the SDK at moto through AWS_ENDPOINT_URL with static
// credentials, isolated from the machine's AWS configuration.
func motoEnv(t *testing.T, url string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            url,
		"AWS_ACCESS_KEY_ID":           "AKIAMOTOTESTING00001",
		"AWS_SECRET_ACCESS_KEY":       "moto-testing-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_RETRY_MODE":              "",
		"AWS_MAX_ATTEMPTS":            "",
		"AWS_CA_BUNDLE":               "", // plain HTTP to moto; also lets a test wrap the HTTP client
	} {
		t.Setenv(k, v)
	}
}

// motoWorld is what the test built in moto.
type motoWorld struct {
	rootID, ouProd, ouProdEU string
	members                  []string // member account IDs, sorted
	scpID, rcpID             string
	// per member account
	execRole, boundaryARN, managedARN string
	secretARN                         map[string]string // account → secret ARN (us-east-1)
	keyARN                            map[string]string
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("moto setup: %s: %v", what, err)
		}
		return v
	}
}

const trustECSTasks = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// buildMotoWorld creates the organization, roles, secrets and ECS resources.
// Write calls are fine here: this is test setup, not the scanner.
func buildMotoWorld(t *testing.T, ctx context.Context) *motoWorld {
	t.Helper()
	mgmt := must[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx))
	org := organizations.NewFromConfig(mgmt)
	w := &motoWorld{secretARN: map[string]string{}, keyARN: map[string]string{}}

	must[*organizations.CreateOrganizationOutput](t, "CreateOrganization")(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	roots := must[*organizations.ListRootsOutput](t, "ListRoots")(org.ListRoots(ctx, &organizations.ListRootsInput{}))
	w.rootID = aws.ToString(roots.Roots[0].Id)
	_, _ = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(w.rootID), PolicyType: orgtypes.PolicyTypeServiceControlPolicy})

	ou := func(parent, name string) string {
		out := must[*organizations.CreateOrganizationalUnitOutput](t, "CreateOrganizationalUnit")(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)}))
		return aws.ToString(out.OrganizationalUnit.Id)
	}
	w.ouProd = ou(w.rootID, "prod")
	w.ouProdEU = ou(w.ouProd, "prod-eu")

	newAccount := func(name, parent string) string {
		out := must[*organizations.CreateAccountOutput](t, "CreateAccount")(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")}))
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		if id == "" {
			t.Fatalf("moto setup: CreateAccount returned no account ID: %+v", out.CreateAccountStatus)
		}
		must[*organizations.MoveAccountOutput](t, "MoveAccount")(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(w.rootID), DestinationParentId: aws.String(parent)}))
		return id
	}
	w.members = []string{newAccount("app-prod", w.ouProd), newAccount("app-eu", w.ouProdEU)}
	slices.Sort(w.members)

	scp := must[*organizations.CreatePolicyOutput](t, "CreatePolicy")(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("deny-leave-org"), Description: aws.String("test"), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`),
	}))
	w.scpID = aws.ToString(scp.Policy.PolicySummary.Id)
	must[*organizations.AttachPolicyOutput](t, "AttachPolicy")(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(w.scpID), TargetId: aws.String(w.ouProd)}))

	// An RCP on the first member account.
	must[*organizations.EnablePolicyTypeOutput](t, "EnablePolicyType RCP")(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(w.rootID), PolicyType: orgtypes.PolicyTypeResourceControlPolicy}))
	rcp := must[*organizations.CreatePolicyOutput](t, "CreatePolicy RCP")(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("org-only-secrets"), Description: aws.String("test"), Type: orgtypes.PolicyTypeResourceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-example"}}}]}`),
	}))
	w.rcpID = aws.ToString(rcp.Policy.PolicySummary.Id)
	must[*organizations.AttachPolicyOutput](t, "AttachPolicy RCP")(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(w.rcpID), TargetId: aws.String(w.members[0])}))

	stsClient := sts.NewFromConfig(mgmt)
	for _, acct := range w.members {
		cfg := mgmt.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, "arn:aws:iam::"+acct+":role/OrganizationAccountAccessRole"))
		buildMotoAccount(t, ctx, cfg, acct, w)
	}
	return w
}

func buildMotoAccount(t *testing.T, ctx context.Context, cfg aws.Config, acct string, w *motoWorld) {
	iamc := iam.NewFromConfig(cfg)
	boundary := must[*iam.CreatePolicyOutput](t, "CreatePolicy boundary")(iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName:     aws.String("ecs-boundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*","logs:*","secretsmanager:GetSecretValue","ssm:GetParameters","kms:Decrypt"],"Resource":"*"}]}`),
	}))
	managed := must[*iam.CreatePolicyOutput](t, "CreatePolicy managed")(iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("app-secrets"), Path: aws.String("/app/"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:` + acct + `:parameter/app/*"}]}`),
	}))
	w.boundaryARN = aws.ToString(boundary.Policy.Arn)
	w.managedARN = aws.ToString(managed.Policy.Arn)
	role := must[*iam.CreateRoleOutput](t, "CreateRole")(iamc.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("ecsTaskExecutionRole"), AssumeRolePolicyDocument: aws.String(trustECSTasks),
		PermissionsBoundary: boundary.Policy.Arn,
		Tags:                []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
	}))
	w.execRole = aws.ToString(role.Role.RoleName)
	must[*iam.PutRolePolicyOutput](t, "PutRolePolicy")(iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: role.Role.RoleName, PolicyName: aws.String("read-db-secret"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:` + acct + `:secret:db-password-??????"}]}`),
	}))
	for _, arn := range []string{w.managedARN, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"} {
		must[*iam.AttachRolePolicyOutput](t, "AttachRolePolicy")(iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role.Role.RoleName, PolicyArn: aws.String(arn)}))
	}
	roleARN := aws.ToString(role.Role.Arn)

	east := cfg.Copy()
	east.Region = "us-east-1"
	key := must[*kms.CreateKeyOutput](t, "CreateKey")(kms.NewFromConfig(east).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("secrets key")}))
	w.keyARN[acct] = aws.ToString(key.KeyMetadata.Arn)
	must[*kms.CreateAliasOutput](t, "CreateAlias")(kms.NewFromConfig(east).CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app-secrets"), TargetKeyId: key.KeyMetadata.KeyId}))
	sec := must[*secretsmanager.CreateSecretOutput](t, "CreateSecret")(secretsmanager.NewFromConfig(east).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("db-password"), SecretString: aws.String("do-not-copy-this-value"), KmsKeyId: key.KeyMetadata.Arn,
	}))
	w.secretARN[acct] = aws.ToString(sec.ARN)
	must[*secretsmanager.PutResourcePolicyOutput](t, "PutResourcePolicy")(secretsmanager.NewFromConfig(east).PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{
		SecretId:       sec.ARN,
		ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`),
	}))

	for _, region := range motoRegions {
		rc := cfg.Copy()
		rc.Region = region
		// The task definitions name the parameter without an ARN, so it
		// must exist in each region.
		must[*ssm.PutParameterOutput](t, "PutParameter")(ssm.NewFromConfig(rc).PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String("/app/api-token"), Value: aws.String("do-not-copy-either"), Type: ssmtypes.ParameterTypeSecureString,
		}))
		e := ecs.NewFromConfig(rc)
		for _, td := range motoTaskDefinitions(acct, region, roleARN, w.secretARN[acct]) {
			must[*ecs.RegisterTaskDefinitionOutput](t, "RegisterTaskDefinition")(e.RegisterTaskDefinition(ctx, td))
		}
		cl := must[*ecs.CreateClusterOutput](t, "CreateCluster")(e.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("main")}))
		must[*ecs.CreateServiceOutput](t, "CreateService")(e.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: cl.Cluster.ClusterArn, ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"),
			DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeEc2,
		}))
		doc := fmt.Sprintf(`{"instanceId":%q,"region":%q}`, motoRunInstance(t, ctx, rc), region)
		must[*ecs.RegisterContainerInstanceOutput](t, "RegisterContainerInstance")(e.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
			Cluster: cl.Cluster.ClusterArn, InstanceIdentityDocument: aws.String(doc),
		}))
	}
}

// motoRunInstance starts an EC2 instance in moto (ECS registers container
// instances only for existing instances). The EC2 SDK module is not a
// dependency of this project, so the Query API request is signed by hand.
func motoRunInstance(t *testing.T, ctx context.Context, cfg aws.Config) string {
	t.Helper()
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatalf("moto setup: credentials: %v", err)
	}
	body := "Action=RunInstances&Version=2016-11-15&ImageId=ami-03cf127a&MinCount=1&MaxCount=1&InstanceType=t3.micro"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, aws.ToString(cfg.BaseEndpoint)+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", cfg.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("moto setup: RunInstances: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`<instanceId>(i-[0-9a-f]+)</instanceId>`).FindSubmatch(out)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("moto setup: RunInstances: HTTP %d: %.500s", resp.StatusCode, out)
	}
	return string(m[1])
}

// motoTaskDefinitions: family web with two revisions (revision 1 is used by
// the service, 2 is the latest), and family worker with secrets, awslogs and
// an ECR image.
func motoTaskDefinitions(acct, region, roleARN, secretARN string) []*ecs.RegisterTaskDefinitionInput {
	web := func(tag string) *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{
			Family: aws.String("web"), ExecutionRoleArn: aws.String(roleARN), NetworkMode: ecstypes.NetworkModeBridge,
			RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityEc2},
			ContainerDefinitions: []ecstypes.ContainerDefinition{{
				Name: aws.String("web"), Image: aws.String(acct + ".dkr.ecr." + region + ".amazonaws.com/web:" + tag),
				Memory: aws.Int32(256), Essential: aws.Bool(true),
				Environment: []ecstypes.KeyValuePair{
					{Name: aws.String("LOG_LEVEL"), Value: aws.String("info")},
					{Name: aws.String("AWS_SECRET_ACCESS_KEY"), Value: aws.String("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")},
				},
				LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
					"awslogs-group": "/ecs/web", "awslogs-region": region, "awslogs-stream-prefix": "web",
				}},
			}},
		}
	}
	worker := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("worker"), ExecutionRoleArn: aws.String(roleARN), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("worker"), Image: aws.String(acct + ".dkr.ecr." + region + ".amazonaws.com/worker:1"), Memory: aws.Int32(256),
			Secrets: []ecstypes.Secret{
				{Name: aws.String("DB_PASSWORD"), ValueFrom: aws.String(secretARN)},
				{Name: aws.String("API_TOKEN"), ValueFrom: aws.String("/app/api-token")},
			},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverSplunk,
				Options:       map[string]string{"splunk-url": "https://splunk.example.com", "splunk-token": "00000000-1111-2222-3333-444444444444"},
				SecretOptions: []ecstypes.Secret{{Name: aws.String("splunk-token"), ValueFrom: aws.String(secretARN)}},
			},
		}},
	}
	return []*ecs.RegisterTaskDefinitionInput{web("1"), web("2"), worker}
}

// TestMotoIntegration builds an organization in moto through the SDK and
// scans it. The moto 5.2.1 gaps it meets, and what the test does about them:
//
//   - account:ListRegions is not implemented (HTTP 404 with an HTML body):
//     the main scan names its regions; a subtest checks the recorded HTTP404
//     error and the fallback to the default regions.
//   - AWS managed policies exist only with MOTO_IAM_LOAD_MANAGED_POLICIES
//     (mototest sets it); GetAccountAuthorizationDetails then returns every
//     AWS managed policy (the scanner keeps the attached ones) and never
//     truncates, whatever MaxItems: paging is covered by the unit tests.
//   - ListTaskDefinitions ignores sort and maxResults: the scanner picks the
//     latest revision itself.
//   - RegisterContainerInstance needs an existing EC2 instance; the EC2 SDK
//     module is not a dependency, so RunInstances is signed by hand. The
//     instance then reports agent 1.0.0, "DockerVersion: 1.5.0" and
//     ecs.os-type windows, and task definitions have no requiresAttributes.
//   - DescribeParameters returns no ARN, and DescribeKey on alias/aws/ssm
//     answers with a CUSTOMER key (AWS says AWS).
//   - CreateService uses the EC2 launch type with bridge networking (awsvpc
//     would need subnets and security groups).
func TestMotoIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	srv := mototest.Start(t)
	motoEnv(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := buildMotoWorld(t, ctx)

	var progress []Progress
	start := time.Now()
	wire := newOpCounter(awshttp.NewBuildableClient())
	inv, err := Collect(ctx, Config{
		Org: true, Regions: motoRegions, ResolveResources: true, HTTPClient: wire,
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Progress: func(p Progress) { progress = append(progress, p) },
	})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	t.Logf("Collect took %s", time.Since(start))
	if path := os.Getenv("AUDIT_MOTO_DUMP"); path != "" {
		// For a look at what moto answered: AUDIT_MOTO_DUMP=/tmp/inv.json.
		if err := inventory.Save(path, inv); err != nil {
			t.Errorf("dump: %v", err)
		}
	}
	if err := inv.Validate(); err != nil {
		t.Errorf("the inventory does not validate: %v", err)
	}
	if !inv.Complete || inv.Interrupted != "" {
		t.Errorf("Complete=%v Interrupted=%q, want a complete scan", inv.Complete, inv.Interrupted)
	}
	if inv.Partition != "aws" || inv.Scope.CallerAccount != motoManagement {
		t.Errorf("partition %q caller %q", inv.Partition, inv.Scope.CallerAccount)
	}
	// The moto gaps this scan meets are all worked around (see
	// TestMotoIntegration's comment), so there is no collection error.
	for _, e := range inv.Errors {
		t.Errorf("unexpected collection error: %+v", e)
	}

	// Organization and paths.
	org := inv.Organization
	if org == nil || org.RootID != w.rootID || org.ManagementAccountID != motoManagement {
		t.Fatalf("organization = %+v", org)
	}
	if !org.RCPsEnabled {
		t.Errorf("RCPsEnabled = false; RCPs are enabled on the root")
	}
	if p := org.Policies[w.rcpID]; p == nil || p.Type != inventory.PolicyTypeRCP || !strings.Contains(p.Document, "aws:PrincipalOrgID") {
		t.Errorf("RCP %s = %+v", w.rcpID, p)
	}
	if p := org.Policies[w.scpID]; p == nil || p.Type != inventory.PolicyTypeSCP || !strings.Contains(p.Document, "LeaveOrganization") {
		t.Errorf("SCP %s = %+v", w.scpID, p)
	}
	ids := []string{}
	for _, a := range inv.Accounts {
		ids = append(ids, a.ID)
	}
	wantIDs := append([]string{motoManagement}, w.members...)
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("accounts = %v, want %v", ids, wantIDs)
	}
	byID := map[string]*inventory.Account{}
	for _, a := range inv.Accounts {
		byID[a.ID] = a
	}
	wantPath := map[string][]string{
		motoManagement: {w.rootID, motoManagement},
		w.members[0]:   nil, w.members[1]: nil,
	}
	for _, a := range inv.Accounts {
		var got []string
		for _, n := range a.Path {
			got = append(got, n.ID)
		}
		if want := wantPath[a.ID]; want != nil && !slices.Equal(got, want) {
			t.Errorf("account %s path = %v, want %v", a.ID, got, want)
		}
		if len(a.Path) < 2 || a.Path[0].Type != inventory.NodeRoot || a.Path[len(a.Path)-1].ID != a.ID {
			t.Errorf("account %s path = %+v", a.ID, a.Path)
		}
	}
	// Which member is in prod-eu depends on the sorted IDs: check both ways.
	for _, a := range inv.Accounts {
		if a.ID == motoManagement {
			continue
		}
		var ous []string
		scpAt := ""
		for _, n := range a.Path {
			if n.Type == inventory.NodeOU {
				ous = append(ous, n.Name)
			}
			if slices.Contains(n.SCPs, w.scpID) {
				scpAt = n.ID
			}
		}
		if !slices.Equal(ous, []string{"prod"}) && !slices.Equal(ous, []string{"prod", "prod-eu"}) {
			t.Errorf("account %s OUs = %v", a.ID, ous)
		}
		var rcps []string
		for _, n := range a.Path {
			for _, id := range n.RCPs {
				if !org.Policies[id].AWSManaged { // RCPFullAWSAccess sits everywhere
					rcps = append(rcps, id)
				}
			}
		}
		if wantRCP := a.ID == w.members[0]; slices.Contains(rcps, w.rcpID) != wantRCP || (!wantRCP && len(rcps) > 0) {
			t.Errorf("account %s RCPs on the path = %v (the RCP %s is attached to %s only)", a.ID, rcps, w.rcpID, w.members[0])
		}
		if scpAt != w.ouProd {
			t.Errorf("account %s: SCP %s found at %q, want the prod OU %s", a.ID, w.scpID, scpAt, w.ouProd)
		}
	}

	// IAM of the members.
	for _, id := range w.members {
		a := byID[id]
		if a.IAM == nil {
			t.Fatalf("account %s: no IAM", id)
		}
		var role *inventory.Role
		for _, r := range a.IAM.Roles {
			if r.Name == w.execRole {
				role = r
			}
		}
		if role == nil {
			t.Fatalf("account %s: role %s missing", id, w.execRole)
		}
		if !json.Valid([]byte(role.TrustPolicy)) || !strings.Contains(role.TrustPolicy, "ecs-tasks.amazonaws.com") {
			t.Errorf("trust policy not decoded: %q", role.TrustPolicy)
		}
		if len(role.InlinePolicies) != 1 || !strings.Contains(role.InlinePolicies[0].Document, "db-password-??????") || !json.Valid([]byte(role.InlinePolicies[0].Document)) {
			t.Errorf("inline policies = %+v", role.InlinePolicies)
		}
		wantAttached := []string{"arn:aws:iam::" + id + ":policy/app/app-secrets", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}
		if !slices.Equal(role.AttachedPolicies, wantAttached) {
			t.Errorf("attached = %v, want %v", role.AttachedPolicies, wantAttached)
		}
		if role.PermissionsBoundary != "arn:aws:iam::"+id+":policy/ecs-boundary" {
			t.Errorf("boundary = %q", role.PermissionsBoundary)
		}
		if role.Tags["team"] != "platform" {
			t.Errorf("tags = %v", role.Tags)
		}
		pols := map[string]*inventory.ManagedPolicy{}
		for _, p := range a.IAM.ManagedPolicies {
			pols[p.ARN] = p
			if p.AWSManaged && !slices.Contains(wantAttached, p.ARN) {
				t.Errorf("unattached AWS managed policy kept: %s", p.ARN)
			}
			if !json.Valid([]byte(p.Document)) {
				t.Errorf("policy %s document not decoded: %q", p.ARN, p.Document)
			}
		}
		for _, arn := range append(wantAttached, role.PermissionsBoundary) {
			if p := pols[arn]; p == nil || p.Name == "" || p.Document == "" {
				t.Errorf("managed policy %s = %+v", arn, p)
			}
		}
		if p := pols[wantAttached[1]]; p != nil && (!p.AWSManaged || !strings.Contains(p.Document, "ecr:GetAuthorizationToken")) {
			t.Errorf("AWS managed policy = %+v", p)
		}
	}

	// ECS per region.
	for _, id := range w.members {
		a := byID[id]
		var names []string
		for _, r := range a.Regions {
			names = append(names, r.Name)
		}
		if !slices.Equal(names, motoRegions) {
			t.Fatalf("account %s regions = %v", id, names)
		}
		for _, r := range a.Regions {
			if r.Status != inventory.RegionScanned {
				t.Errorf("%s/%s status %s", id, r.Name, r.Status)
			}
			var tds []string
			for _, td := range r.TaskDefinitions {
				tds = append(tds, fmt.Sprintf("%s:%d", td.Family, td.Revision))
			}
			// web:1 (used by the service), web:2 (latest), worker:1 (latest).
			if want := []string{"web:1", "web:2", "worker:1"}; !slices.Equal(tds, want) {
				t.Errorf("%s/%s task definitions = %v, want %v", id, r.Name, tds, want)
			}
			if len(r.Clusters) != 1 || len(r.Clusters[0].Services) != 1 || len(r.Clusters[0].ContainerInstances) != 1 {
				t.Fatalf("%s/%s clusters = %+v", id, r.Name, r.Clusters)
			}
			svc := r.Clusters[0].Services[0]
			if svc.Name != "web" || !strings.HasSuffix(svc.TaskDefinition, ":task-definition/web:1") || svc.LaunchType != "EC2" {
				t.Errorf("service = %+v", svc)
			}
			for _, td := range r.TaskDefinitions {
				checkNoLeak(t, td)
				if td.Family == "worker" {
					c := td.ContainerDefinitions[0]
					if len(c.Secrets) != 2 || c.LogConfiguration == nil || c.LogConfiguration.Options["splunk-token"] != inventory.Redacted {
						t.Errorf("worker container = %+v", c)
					}
				}
				if td.Family == "web" {
					env := td.ContainerDefinitions[0].Environment
					if len(env) != 2 || env[1].ValueClass != inventory.ValueAWSSecretKey || env[1].ValueLength != 40 {
						t.Errorf("web environment = %+v", env)
					}
				}
			}
		}
		// Resources: the secret, parameter and key live in us-east-1.
		east := a.Regions[slices.Index(names, "us-east-1")]
		if len(east.Secrets) != 1 || east.Secrets[0].ARN != w.secretARN[id] || east.Secrets[0].KMSKeyID == "" ||
			!strings.Contains(east.Secrets[0].ResourcePolicy, "GetSecretValue") {
			t.Errorf("%s secrets = %+v", id, east.Secrets)
		}
		if len(east.Parameters) != 1 || east.Parameters[0].Name != "/app/api-token" || east.Parameters[0].Type != "SecureString" {
			t.Errorf("%s parameters = %+v", id, east.Parameters)
		}
		var keys []string
		for _, k := range east.KMSKeys {
			keys = append(keys, k.ARN)
		}
		if !slices.Contains(keys, w.keyARN[id]) {
			t.Errorf("%s keys = %v, want %s among them", id, keys, w.keyARN[id])
		}
	}
	// What went over the wire: reads only, each thing asked for once.
	for _, k := range wire.keys() {
		if op := k[strings.Index(k, ":")+1:]; !readOnlyOperation(op) {
			t.Errorf("the scanner sent %s (%d times), which is not a read operation", k, wire.count(k))
		}
	}
	for op, want := range map[string]int{
		"sts:GetCallerIdentity":                    1,
		"sts:AssumeRole":                           len(w.members),
		"iam:GetAccountAuthorizationDetails":       3, // one page per account: moto never truncates
		"ecs:DescribeTaskDefinition":               len(w.members) * len(motoRegions) * 3,
		"ecs:ListTaskDefinitions":                  3 * len(motoRegions),
		"ecs:DescribeServices":                     len(w.members) * len(motoRegions),
		"ecs:DescribeContainerInstances":           len(w.members) * len(motoRegions),
		"organizations:DescribePolicy":             4, // FullAWSAccess, RCPFullAWSAccess, the SCP, the RCP
		"organizations:ListParents":                3 + 2,
		"organizations:DescribeOrganizationalUnit": 2,
		"secretsmanager:DescribeSecret":            len(w.members), // eu-west-1 names the us-east-1 ARN
		"ssm:DescribeParameters":                   len(w.members) * len(motoRegions),
	} {
		if got := wire.count(op); got != want {
			t.Errorf("%s sent %d times, want %d", op, got, want)
		}
	}
	t.Run("all regions without ListRegions", func(t *testing.T) {
		// moto has no account:ListRegions: the scanner records the failure
		// and falls back to the regions enabled by default.
		one := w.members[0]
		inv, err := Collect(ctx, Config{Org: true, Accounts: []string{one}})
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if len(inv.Errors) != 1 || inv.Errors[0].Service != "account" || inv.Errors[0].Operation != "ListRegions" || inv.Errors[0].AccountID != one {
			t.Fatalf("errors = %+v, want the one ListRegions failure", inv.Errors)
		}
		t.Logf("moto answers account:ListRegions with %s: %s", inv.Errors[0].Code, inv.Errors[0].Message)
		if len(inv.Accounts) != 1 || inv.Accounts[0].ID != one {
			t.Fatalf("accounts = %+v", inv.Accounts)
		}
		var names []string
		for _, r := range inv.Accounts[0].Regions {
			names = append(names, r.Name)
			want := 0
			if slices.Contains(motoRegions, r.Name) {
				want = 3
			}
			if r.Status != inventory.RegionScanned || len(r.TaskDefinitions) != want {
				t.Errorf("%s: status %s, %d task definitions, want scanned with %d", r.Name, r.Status, len(r.TaskDefinitions), want)
			}
		}
		if !slices.Equal(names, defaultRegions["aws"]) {
			t.Errorf("regions = %v, want the default regions %v", names, defaultRegions["aws"])
		}
		if !slices.Equal(inv.Scope.Regions, []string{"all"}) {
			t.Errorf("scope regions = %v", inv.Scope.Regions)
		}
	})

	t.Run("whole-organization lookups", func(t *testing.T) {
		// The same scan with the bulk Organizations lookups (ListChildren,
		// ListPolicies, ListTargetsForPolicy) that large scans use.
		wire := newOpCounter(awshttp.NewBuildableClient())
		bulk, err := Collect(ctx, Config{Org: true, Regions: []string{"us-east-1"}, HTTPClient: wire, forceBulk: true})
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if len(bulk.Errors) != 0 {
			t.Fatalf("errors: %+v", bulk.Errors)
		}
		for i, a := range bulk.Accounts {
			got, _ := json.Marshal(a.Path)
			want, _ := json.Marshal(inv.Accounts[i].Path)
			if string(got) != string(want) {
				t.Errorf("account %s path\n got %s\nwant %s", a.ID, got, want)
			}
		}
		if n := wire.count("organizations:ListParents") + wire.count("organizations:ListPoliciesForTarget"); n != 0 {
			t.Errorf("%d per-account lookups; the bulk lookups should answer all (moto attaches FullAWSAccess and RCPFullAWSAccess everywhere)", n)
		}
		if wire.count("organizations:ListTargetsForPolicy") != 4 {
			t.Errorf("ListTargetsForPolicy sent %d times, want 4 (one per policy)", wire.count("organizations:ListTargetsForPolicy"))
		}
	})

	if len(progress) == 0 {
		t.Errorf("Progress was never called")
	} else if last := progress[len(progress)-1]; last.AccountsDone != 3 || last.RegionsDone != 6 || last.Calls == 0 {
		t.Errorf("last progress = %+v", last)
	}
}

// checkNoLeak fails when a value set in the test world reached the inventory.
func checkNoLeak(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"wJalrXUtnFEMI", "do-not-copy", "00000000-1111-2222-3333-444444444444"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("a secret value reached the inventory: %s", secret)
		}
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
