package mototest

// The Organization the moto integration tests build through the SDK. Write
// calls are fine here: this is test setup against moto, never the scanner.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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
)

// Management is moto's default account, the one static test
// credentials map to; it becomes the organization's management account.
const Management = "123456789012"

var Regions = []string{"eu-west-1", "us-east-1"}

// Env points the SDK at moto through AWS_ENDPOINT_URL with static
// credentials, isolated from the machine's AWS configuration.
func Env(t *testing.T, url string) {
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

// Org is what BuildOrg built in moto: an organization with two OUs (prod,
// prod/prod-eu), two member accounts, an SCP on prod and an RCP on the first
// member; in each member an execution role with inline, managed and
// boundary policies, a KMS key, a secret, a SecureString parameter, and in
// each of Regions task definitions, a cluster, a service and a container
// instance.
type Org struct {
	RootID, OUProd, OUProdEU string
	Members                  []string // member account IDs, sorted
	SCPID, RCPID             string
	// per member account
	ExecRole, BoundaryARN, ManagedARN string
	SecretARN                         map[string]string // account → secret ARN (us-east-1)
	KeyARN                            map[string]string
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

// BuildOrg creates the organization, roles, secrets and ECS resources.
// Write calls are fine here: this is test setup, not the scanner.
func BuildOrg(t *testing.T, ctx context.Context) *Org {
	t.Helper()
	mgmt := must[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx))
	org := organizations.NewFromConfig(mgmt)
	w := &Org{SecretARN: map[string]string{}, KeyARN: map[string]string{}}

	must[*organizations.CreateOrganizationOutput](t, "CreateOrganization")(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	roots := must[*organizations.ListRootsOutput](t, "ListRoots")(org.ListRoots(ctx, &organizations.ListRootsInput{}))
	w.RootID = aws.ToString(roots.Roots[0].Id)
	_, _ = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(w.RootID), PolicyType: orgtypes.PolicyTypeServiceControlPolicy})

	ou := func(parent, name string) string {
		out := must[*organizations.CreateOrganizationalUnitOutput](t, "CreateOrganizationalUnit")(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parent), Name: aws.String(name)}))
		return aws.ToString(out.OrganizationalUnit.Id)
	}
	w.OUProd = ou(w.RootID, "prod")
	w.OUProdEU = ou(w.OUProd, "prod-eu")

	newAccount := func(name, parent string) string {
		out := must[*organizations.CreateAccountOutput](t, "CreateAccount")(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")}))
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		if id == "" {
			t.Fatalf("moto setup: CreateAccount returned no account ID: %+v", out.CreateAccountStatus)
		}
		must[*organizations.MoveAccountOutput](t, "MoveAccount")(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(w.RootID), DestinationParentId: aws.String(parent)}))
		return id
	}
	w.Members = []string{newAccount("app-prod", w.OUProd), newAccount("app-eu", w.OUProdEU)}
	slices.Sort(w.Members)

	scp := must[*organizations.CreatePolicyOutput](t, "CreatePolicy")(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("deny-leave-org"), Description: aws.String("test"), Type: orgtypes.PolicyTypeServiceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`),
	}))
	w.SCPID = aws.ToString(scp.Policy.PolicySummary.Id)
	must[*organizations.AttachPolicyOutput](t, "AttachPolicy")(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(w.SCPID), TargetId: aws.String(w.OUProd)}))

	// An RCP on the first member account.
	must[*organizations.EnablePolicyTypeOutput](t, "EnablePolicyType RCP")(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(w.RootID), PolicyType: orgtypes.PolicyTypeResourceControlPolicy}))
	rcp := must[*organizations.CreatePolicyOutput](t, "CreatePolicy RCP")(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{
		Name: aws.String("org-only-secrets"), Description: aws.String("test"), Type: orgtypes.PolicyTypeResourceControlPolicy,
		Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-example"}}}]}`),
	}))
	w.RCPID = aws.ToString(rcp.Policy.PolicySummary.Id)
	must[*organizations.AttachPolicyOutput](t, "AttachPolicy RCP")(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(w.RCPID), TargetId: aws.String(w.Members[0])}))

	stsClient := sts.NewFromConfig(mgmt)
	for _, acct := range w.Members {
		cfg := mgmt.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, "arn:aws:iam::"+acct+":role/OrganizationAccountAccessRole"))
		buildAccount(t, ctx, cfg, acct, w)
	}
	return w
}

func buildAccount(t *testing.T, ctx context.Context, cfg aws.Config, acct string, w *Org) {
	iamc := iam.NewFromConfig(cfg)
	boundary := must[*iam.CreatePolicyOutput](t, "CreatePolicy boundary")(iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName:     aws.String("ecs-boundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*","logs:*","secretsmanager:GetSecretValue","ssm:GetParameters","kms:Decrypt"],"Resource":"*"}]}`),
	}))
	managed := must[*iam.CreatePolicyOutput](t, "CreatePolicy managed")(iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("app-secrets"), Path: aws.String("/app/"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:*:` + acct + `:parameter/app/*"}]}`),
	}))
	w.BoundaryARN = aws.ToString(boundary.Policy.Arn)
	w.ManagedARN = aws.ToString(managed.Policy.Arn)
	role := must[*iam.CreateRoleOutput](t, "CreateRole")(iamc.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("ecsTaskExecutionRole"), AssumeRolePolicyDocument: aws.String(trustECSTasks),
		PermissionsBoundary: boundary.Policy.Arn,
		Tags:                []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
	}))
	w.ExecRole = aws.ToString(role.Role.RoleName)
	must[*iam.PutRolePolicyOutput](t, "PutRolePolicy")(iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: role.Role.RoleName, PolicyName: aws.String("read-db-secret"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:` + acct + `:secret:db-password-??????"}]}`),
	}))
	for _, arn := range []string{w.ManagedARN, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"} {
		must[*iam.AttachRolePolicyOutput](t, "AttachRolePolicy")(iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role.Role.RoleName, PolicyArn: aws.String(arn)}))
	}
	roleARN := aws.ToString(role.Role.Arn)

	east := cfg.Copy()
	east.Region = "us-east-1"
	key := must[*kms.CreateKeyOutput](t, "CreateKey")(kms.NewFromConfig(east).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("secrets key")}))
	w.KeyARN[acct] = aws.ToString(key.KeyMetadata.Arn)
	must[*kms.CreateAliasOutput](t, "CreateAlias")(kms.NewFromConfig(east).CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app-secrets"), TargetKeyId: key.KeyMetadata.KeyId}))
	sec := must[*secretsmanager.CreateSecretOutput](t, "CreateSecret")(secretsmanager.NewFromConfig(east).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("db-password"), SecretString: aws.String("do-not-copy-this-value"), KmsKeyId: key.KeyMetadata.Arn,
	}))
	w.SecretARN[acct] = aws.ToString(sec.ARN)
	must[*secretsmanager.PutResourcePolicyOutput](t, "PutResourcePolicy")(secretsmanager.NewFromConfig(east).PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{
		SecretId:       sec.ARN,
		ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`),
	}))

	for _, region := range Regions {
		rc := cfg.Copy()
		rc.Region = region
		// The task definitions name the parameter without an ARN, so it
		// must exist in each region.
		must[*ssm.PutParameterOutput](t, "PutParameter")(ssm.NewFromConfig(rc).PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String("/app/api-token"), Value: aws.String("do-not-copy-either"), Type: ssmtypes.ParameterTypeSecureString,
		}))
		e := ecs.NewFromConfig(rc)
		for _, td := range taskDefinitions(acct, region, roleARN, w.SecretARN[acct]) {
			must[*ecs.RegisterTaskDefinitionOutput](t, "RegisterTaskDefinition")(e.RegisterTaskDefinition(ctx, td))
		}
		cl := must[*ecs.CreateClusterOutput](t, "CreateCluster")(e.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("main")}))
		must[*ecs.CreateServiceOutput](t, "CreateService")(e.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: cl.Cluster.ClusterArn, ServiceName: aws.String("web"), TaskDefinition: aws.String("web:1"),
			DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeEc2,
		}))
		doc := fmt.Sprintf(`{"instanceId":%q,"region":%q}`, runInstance(t, ctx, rc), region)
		must[*ecs.RegisterContainerInstanceOutput](t, "RegisterContainerInstance")(e.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
			Cluster: cl.Cluster.ClusterArn, InstanceIdentityDocument: aws.String(doc),
		}))
	}
}

// runInstance starts an EC2 instance in moto (ECS registers container
// instances only for existing instances). The EC2 SDK module is not a
// dependency of this project, so the Query API request is signed by hand.
func runInstance(t *testing.T, ctx context.Context, cfg aws.Config) string {
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

// taskDefinitions: family web with two revisions (revision 1 is used by
// the service, 2 is the latest), and family worker with secrets, awslogs and
// an ECR image.
func taskDefinitions(acct, region, roleARN, secretARN string) []*ecs.RegisterTaskDefinitionInput {
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
