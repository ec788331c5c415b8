package deploy

// End to end on moto_server: both templates are deployed through the
// CloudFormation API (member-role.yaml as a service-managed StackSet to the
// Organization's root, scanner.yaml as a stack in the management account),
// then the audit binary scans the Organization with the deployed task role's
// credentials and the deployed member role, and the scanner's own deployment
// must have no finding above info. Then the scheduled task's own command
// runs twice, as the schedule would: its reports go to the stack's bucket
// (encrypted, under dated keys, then latest/), and the second run reads the
// first's latest/findings.json back as its baseline.
//
// What moto's CloudFormation does not deploy faithfully, and what the test
// does about it:
//   - AWS::ECS::TaskDefinition: moto keeps only Family, ContainerDefinitions,
//     Volumes and Memory, dropping ExecutionRoleArn, TaskRoleArn, NetworkMode,
//     RequiresCompatibilities, Cpu and RuntimePlatform. Scanning that copy
//     would check a task definition without an execution role, i.e. nothing.
//     The test registers the template's task definition itself (its
//     properties resolved against the deployed stack) as the next revision
//     through the ECS API and deregisters moto's copy.
//   - AWS::S3::BucketPolicy is not implemented (moto warns and skips it), and
//     the bucket's VersioningConfiguration, PublicAccessBlockConfiguration and
//     OwnershipControls are ignored: templates_test.go checks them statically.
//   - The rule's ECS target keeps no NetworkConfiguration; nothing reads it.
//   - Service-managed StackSets also deploy into the management account in
//     moto (AWS deploys only to member accounts); harmless here.
//   - AWS::IAM::Role inline policies (Policies) are stored as Python dict
//     reprs ({'Version': …}) instead of JSON, which IAM never returns and
//     audit rightly reports as malformed (PL001). The test reads them back,
//     converts the repr to JSON and writes the same document again with
//     PutRolePolicy (fixInlinePolicies); when moto stores JSON, that is a
//     no-op.
//   - moto does not enforce IAM: the scan succeeding does not prove the
//     policies suffice; the policy-engine tests in templates_test.go do that.

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/inventory"
)

// pushImage creates an ECR repository and pushes a (minimal) image to it
// under tag.
func pushImage(t *testing.T, ctx context.Context, cfg aws.Config, repo, tag string) {
	t.Helper()
	e := ecr.NewFromConfig(cfg)
	check[*ecr.CreateRepositoryOutput](t, "CreateRepository")(e.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}))
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",` +
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},` +
		`"layers":[]}`
	check[*ecr.PutImageOutput](t, "PutImage")(e.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageTag: aws.String(tag), ImageManifest: aws.String(manifest)}))
}

func check[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func cfParams(m map[string]string) []cftypes.Parameter {
	var out []cftypes.Parameter
	for k, v := range m {
		out = append(out, cftypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	return out
}

func templateBody(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodePolicy reads a policy document as IAM returns it (URL-encoded
// JSON); repr says it was a Python repr (moto's CloudFormation, see above).
func decodePolicy(t *testing.T, s string) (doc map[string]any, repr bool) {
	t.Helper()
	if u, err := url.QueryUnescape(s); err == nil {
		s = u
	}
	if err := json.Unmarshal([]byte(s), &doc); err == nil {
		return doc, false
	}
	// The documents of these templates hold no quotes or apostrophes, so the
	// repr converts by swapping quotes and literals.
	if strings.HasPrefix(s, "{'") && !strings.Contains(s, `"`) {
		j := strings.NewReplacer("'", `"`, "True", "true", "False", "false", "None", "null").Replace(s)
		if err := json.Unmarshal([]byte(j), &doc); err == nil {
			return doc, true
		}
	}
	t.Fatalf("policy document %q is neither JSON nor a Python repr", s)
	return nil, false
}

// fixInlinePolicies rewrites, as JSON, every inline policy of every role of
// the account that moto stored as a Python repr. It returns how many.
func fixInlinePolicies(t *testing.T, ctx context.Context, ic *iam.Client) int {
	t.Helper()
	n := 0
	roles := check[*iam.ListRolesOutput](t, "ListRoles")(ic.ListRoles(ctx, &iam.ListRolesInput{}))
	for _, r := range roles.Roles {
		names := check[*iam.ListRolePoliciesOutput](t, "ListRolePolicies")(ic.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: r.RoleName}))
		for _, p := range names.PolicyNames {
			got := check[*iam.GetRolePolicyOutput](t, "GetRolePolicy")(ic.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: r.RoleName, PolicyName: aws.String(p)}))
			doc, repr := decodePolicy(t, aws.ToString(got.PolicyDocument))
			if !repr {
				continue
			}
			b, _ := json.Marshal(doc)
			check[*iam.PutRolePolicyOutput](t, "PutRolePolicy")(ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: r.RoleName, PolicyName: aws.String(p), PolicyDocument: aws.String(string(b))}))
			n++
		}
	}
	return n
}

func TestDeployIntoMotoAndScan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	srv := mototest.Start(t) // skips locally without moto_server; fails in CI
	mototest.Env(t, srv.URL)
	bin := auditBinary(t)
	ctx := context.Background()
	cfg := check[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx))
	mgmt := mototest.Management
	start := time.Now()

	// An Organization: a member account under an OU.
	org := organizations.NewFromConfig(cfg)
	check[*organizations.CreateOrganizationOutput](t, "CreateOrganization")(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	rootID := aws.ToString(check[*organizations.ListRootsOutput](t, "ListRoots")(org.ListRoots(ctx, &organizations.ListRootsInput{})).Roots[0].Id)
	ou := check[*organizations.CreateOrganizationalUnitOutput](t, "CreateOrganizationalUnit")(org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("workloads")}))
	acct := check[*organizations.CreateAccountOutput](t, "CreateAccount")(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("app"), Email: aws.String("app@example.com")}))
	member := aws.ToString(acct.CreateAccountStatus.AccountId)
	check[*organizations.MoveAccountOutput](t, "MoveAccount")(org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(member), SourceParentId: aws.String(rootID), DestinationParentId: ou.OrganizationalUnit.Id}))

	// The scanner stack in the management account, as the README deploys it.
	cf := cloudformation.NewFromConfig(cfg)
	image := mgmt + ".dkr.ecr.us-east-1.amazonaws.com/audit:v1.0.0"
	repo := "arn:aws:ecr:us-east-1:" + mgmt + ":repository/audit"
	// The task runs in a subnet of moto's default VPC (its main route table
	// routes to an internet gateway) with a public IP: the scan judges the
	// scanner's own network path (NW001) and finds it open.
	subnet, sg := defaultNetwork(t, ctx, cfg)
	params := map[string]string{
		"Image": image, "ImageRepositoryArn": repo, "ExternalId": externalID,
		"Subnets": subnet, "SecurityGroups": sg, "AssignPublicIp": "ENABLED",
	}
	check[*cloudformation.CreateStackOutput](t, "CreateStack scanner")(cf.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String(stackName), TemplateBody: aws.String(templateBody(t, scannerTemplate)),
		Parameters: cfParams(params), Capabilities: []cftypes.Capability{cftypes.CapabilityCapabilityNamedIam},
	}))
	outputs := waitStack(t, ctx, cf, stackName)
	for _, k := range []string{"ScannerTaskRoleArn", "ExecutionRoleArn", "ReportBucketName", "ClusterArn", "TaskDefinitionArn", "LogGroupName"} {
		if outputs[k] == "" {
			t.Errorf("scanner stack output %s missing (outputs %v)", k, outputs)
		}
	}
	if _, ok := outputs["GitHubRoleArn"]; ok {
		t.Errorf("GitHubRoleArn output without GitHubRepository: the condition does not hold")
	}

	// The member role as a service-managed StackSet to the whole Organization.
	check[*cloudformation.CreateStackSetOutput](t, "CreateStackSet")(cf.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{
		StackSetName: aws.String("audit-member-role"), TemplateBody: aws.String(templateBody(t, memberTemplate)),
		PermissionModel: cftypes.PermissionModelsServiceManaged,
		AutoDeployment:  &cftypes.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)},
		Capabilities:    []cftypes.Capability{cftypes.CapabilityCapabilityNamedIam},
		Parameters:      cfParams(map[string]string{"ScannerAccountId": mgmt, "ScannerRoleArns": outputs["ScannerTaskRoleArn"], "ExternalId": externalID}),
	}))
	check[*cloudformation.CreateStackInstancesOutput](t, "CreateStackInstances")(cf.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{
		StackSetName: aws.String("audit-member-role"), Regions: []string{"us-east-1"},
		DeploymentTargets: &cftypes.DeploymentTargets{OrganizationalUnitIds: []string{rootID}},
	}))
	checkMemberRole(t, ctx, cfg, member, outputs["ScannerTaskRoleArn"])

	// moto's task definition lacks the roles (see the top of this file):
	// register the template's own, resolved against the deployed stack.
	taskCommand := registerTemplateTaskDefinition(t, ctx, cfg, cf, params, outputs)
	// The image the stack runs, pushed as the README says (make image): the
	// audit checks that it exists (RS001).
	pushImage(t, ctx, cfg, "audit", "v1.0.0")
	if n := fixInlinePolicies(t, ctx, iam.NewFromConfig(cfg)); n > 0 {
		t.Logf("management account: rewrote %d inline policies moto stored as Python reprs", n)
	}
	if fixRuleNetwork(t, ctx, cfg, stackName+"-schedule", subnet, sg) {
		t.Logf("moto's AWS::Events::Rule lost the target's awsvpc configuration: put it back as the template has it")
	}
	deployed := time.Since(start)

	// A scan with the deployed task role's credentials, to a local
	// directory with the snapshot, to look at what it collected.
	roleCfg := cfg.Copy()
	roleCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), outputs["ScannerTaskRoleArn"]))
	creds := check[aws.Credentials](t, "assume the scanner task role")(roleCfg.Credentials.Retrieve(ctx))
	dir := t.TempDir()
	start = time.Now()
	out, err := runErr(5*time.Minute, []string{
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=" + creds.SessionToken,
	}, bin, "scan", "--org", "--role-name", "AuditReadOnly", "--external-id", externalID, "--regions", "us-east-1",
		"--format", "json,sarif", "--out", dir, "--save-snapshot", filepath.Join(dir, "inventory.json"), "--quiet")
	if err != nil {
		// Say why: the coverage the scan wrote.
		var res struct {
			Coverage struct {
				Gaps   []string
				Errors []map[string]any
			}
		}
		if b, rerr := os.ReadFile(filepath.Join(dir, "findings.json")); rerr == nil && json.Unmarshal(b, &res) == nil {
			t.Logf("coverage gaps %q, errors %v", res.Coverage.Gaps, res.Coverage.Errors)
		}
		t.Fatalf("audit scan: %v\n%s", err, out)
	}
	t.Logf("deployed in %s, scanned in %s", deployed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	inv, err := inventory.Load(filepath.Join(dir, "inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The scan saw the deployment: the task definition with its roles.
	var td *inventory.TaskDefinition
	var execRole *inventory.Role
	accounts := map[string]bool{}
	for _, a := range inv.Accounts {
		accounts[a.ID] = true
		if a.ID != mgmt {
			continue
		}
		for _, r := range a.Regions {
			for _, d := range r.TaskDefinitions {
				if d.Family == stackName {
					td = d
				}
			}
		}
		if a.IAM != nil {
			for _, r := range a.IAM.Roles {
				if r.ARN == outputs["ExecutionRoleArn"] {
					execRole = r
				}
			}
		}
	}
	if !accounts[mgmt] || !accounts[member] {
		t.Errorf("scanned accounts %v, want %s and %s", accounts, mgmt, member)
	}
	if td == nil || td.ExecutionRoleARN != outputs["ExecutionRoleArn"] || td.TaskRoleARN != outputs["ScannerTaskRoleArn"] ||
		!slices.Equal(td.RequiresCompatibilities, []string{"FARGATE"}) {
		t.Fatalf("the scan did not collect the scanner's task definition with its roles: %+v", td)
	}
	if execRole == nil || len(execRole.InlinePolicies) != 1 {
		t.Fatalf("the scan did not collect the execution role and its policy: %+v", execRole)
	}

	var res struct {
		Coverage struct {
			Complete bool
			Errors   []json.RawMessage
			Gaps     []json.RawMessage
		}
		Summary  struct{ TaskDefinitions, Roles int }
		Findings []findings.Finding
	}
	b := check[[]byte](t, "findings.json")(os.ReadFile(filepath.Join(dir, "findings.json")))
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if !res.Coverage.Complete || len(res.Coverage.Errors) > 0 || len(res.Coverage.Gaps) > 0 {
		t.Errorf("coverage: complete %v, errors %s, gaps %s", res.Coverage.Complete, res.Coverage.Errors, res.Coverage.Gaps)
	}
	if res.Summary.TaskDefinitions != 1 || res.Summary.Roles != 1 {
		t.Errorf("evaluated %d task definitions and %d execution roles, want the scanner's 1 and 1", res.Summary.TaskDefinitions, res.Summary.Roles)
	}
	for _, f := range res.Findings {
		if f.Severity.Rank() > findings.Info.Rank() {
			t.Errorf("%s %s on %s: %s", f.RuleID, f.Severity, f.ResourceARN, f.Message)
		} else {
			t.Logf("info: %s on %s", f.RuleID, f.ResourceARN)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "findings.sarif")); err != nil {
		t.Error(err)
	}

	scheduledRuns(t, ctx, bin, taskCommand, outputs["ReportBucketName"], creds, res.Findings)
}

// scheduledRuns runs the scheduled task's command (as scanner.yaml gives
// it, resolved against the deployed stack; only --regions is added, as
// moto serves one region here) twice with the task role's credentials, and
// checks what lands in the report bucket: the first run finds no baseline
// (every finding new), each run's reports lie encrypted under its dated
// key, latest/ holds the last run, and the second run reads the first's
// latest/findings.json back: nothing new, every finding unchanged.
func scheduledRuns(t *testing.T, ctx context.Context, bin string, command []string, bucket string, creds aws.Credentials, want []findings.Finding) {
	t.Helper()
	prefix := "s3://" + bucket + "/scheduled/"
	if i := slices.Index(command, "--out"); i < 0 || command[i+1] != prefix {
		t.Fatalf("the task's command %v does not write to %s", command, prefix)
	}
	baseline := prefix + "latest/findings.json"
	env := []string{"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=" + creds.SessionToken}
	args := append(slices.Clone(command), "--regions", "us-east-1")
	var stamps []string
	for i := range 2 {
		start := time.Now()
		out, err := runErr(5*time.Minute, env, bin, args...)
		if err != nil {
			t.Fatalf("scheduled run %d: %v\n%s", i+1, err, out)
		}
		if first := strings.Contains(out, "does not exist yet (a first run)"); first != (i == 0) {
			t.Errorf("scheduled run %d: a first run %v:\n%s", i+1, first, out)
		}
		objs := mototest.Objects(t, ctx, bucket, "scheduled/")
		runs := map[string][]string{}
		for _, o := range objs {
			if o.SSE != "AES256" {
				t.Errorf("%s: server-side encryption %q, want AES256", o.Key, o.SSE)
			}
			seg, name, _ := strings.Cut(strings.TrimPrefix(o.Key, "scheduled/"), "/")
			runs[seg] = append(runs[seg], name)
		}
		if len(runs) != i+2 || !slices.Contains(runs["latest"], "manifest.json") || !slices.Contains(runs["latest"], "findings.json") {
			t.Fatalf("scheduled run %d: objects by run %v, want %d dated runs and latest/", i+1, runs, i+1)
		}
		for seg, names := range runs {
			if seg != "latest" && !slices.Contains(stamps, seg) {
				stamps = append(stamps, seg)
				// --format all: every report of the run.
				for _, n := range []string{"findings.json", "findings.sarif", "report.html", "findings.xlsx", "summary.md", "findings.csv"} {
					if !slices.Contains(names, n) {
						t.Errorf("run %s lacks %s: %v", seg, n, names)
					}
				}
			}
		}
		var res findings.Result
		if err := json.Unmarshal(mototest.Object(t, ctx, bucket, "scheduled/latest/findings.json"), &res); err != nil {
			t.Fatal(err)
		}
		b := res.Triage.Baseline
		wantCounts := findings.BaselineCounts{New: len(want)}
		if i == 1 {
			wantCounts = findings.BaselineCounts{Unchanged: len(want)}
		}
		if b == nil || b.Source != baseline || b.Counts != wantCounts {
			t.Errorf("scheduled run %d: latest/findings.json compares with %+v, want %s with %+v", i+1, b, baseline, wantCounts)
		}
		var ids, wantIDs []string
		for _, f := range res.Findings {
			ids = append(ids, f.ID)
		}
		for _, f := range want {
			wantIDs = append(wantIDs, f.ID)
		}
		if !slices.Equal(slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(wantIDs))) {
			t.Errorf("scheduled run %d found %v, the first scan %v", i+1, ids, wantIDs)
		}
		waitNextSecond(start)
	}
	t.Logf("scheduled runs %v, each reading the last as its baseline", stamps)
}

// waitNextSecond returns once the clock has entered the second after t, so
// that two runs get different dated keys.
func waitNextSecond(t time.Time) {
	time.Sleep(time.Until(t.Truncate(time.Second).Add(time.Second)))
}

// waitStack waits for CREATE_COMPLETE and returns the outputs.
func waitStack(t *testing.T, ctx context.Context, cf *cloudformation.Client, name string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out := check[*cloudformation.DescribeStacksOutput](t, "DescribeStacks")(cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)}))
		s := out.Stacks[0]
		switch s.StackStatus {
		case cftypes.StackStatusCreateComplete:
			m := map[string]string{}
			for _, o := range s.Outputs {
				m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
			}
			return m
		case cftypes.StackStatusCreateInProgress:
		default:
			t.Fatalf("stack %s: %s: %s", name, s.StackStatus, aws.ToString(s.StackStatusReason))
		}
		if time.Now().After(deadline) {
			t.Fatalf("stack %s still %s", name, s.StackStatus)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkMemberRole reads the deployed member role back from the member
// account: trust and permissions as the template and the README say.
func checkMemberRole(t *testing.T, ctx context.Context, cfg aws.Config, member, scannerRole string) {
	t.Helper()
	mc := cfg.Copy()
	mc.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::"+member+":role/OrganizationAccountAccessRole"))
	ic := iam.NewFromConfig(mc)
	role := check[*iam.GetRoleOutput](t, "GetRole AuditReadOnly in the member account")(ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AuditReadOnly")}))
	if got, want := aws.ToString(role.Role.Arn), "arn:aws:iam::"+member+":role/AuditReadOnly"; got != want {
		t.Errorf("member role %s, want %s", got, want)
	}
	trust, _ := decodePolicy(t, aws.ToString(role.Role.AssumeRolePolicyDocument))
	st := statements(trust)
	if len(st) != 1 {
		t.Fatalf("member role trust %v", trust)
	}
	cond, _ := json.Marshal(st[0]["Condition"])
	if !strings.Contains(string(cond), `"sts:ExternalId":"`+externalID+`"`) || !strings.Contains(string(cond), scannerRole) {
		t.Errorf("member role trust conditions %s: want the external ID and %s", cond, scannerRole)
	}
	names := check[*iam.ListRolePoliciesOutput](t, "ListRolePolicies")(ic.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("AuditReadOnly")}))
	if !slices.Equal(names.PolicyNames, []string{"audit-read-only"}) {
		t.Fatalf("member role policies %v", names.PolicyNames)
	}
	p := check[*iam.GetRolePolicyOutput](t, "GetRolePolicy")(ic.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("AuditReadOnly"), PolicyName: aws.String("audit-read-only")}))
	doc, _ := decodePolicy(t, aws.ToString(p.PolicyDocument))
	if got, want := sorted(strs(statements(doc)[0]["Action"])), sorted(readmeMemberActions(t)); !slices.Equal(got, want) {
		t.Errorf("deployed member role grants %v, the README lists %v", got, want)
	}
	if n := fixInlinePolicies(t, ctx, ic); n > 0 {
		t.Logf("member account: rewrote %d inline policies moto stored as Python reprs", n)
	}
}

// registerTemplateTaskDefinition registers scanner.yaml's task definition,
// resolved against the deployed stack, as the family's next revision and
// deregisters the copy moto's CloudFormation made. It returns the
// container's command.
func registerTemplateTaskDefinition(t *testing.T, ctx context.Context, cfg aws.Config, cf *cloudformation.Client, params, outputs map[string]string) []string {
	t.Helper()
	tp := loadTemplate(t, scannerTemplate)
	r := newResolver(t, tp, params, map[string]string{"AWS::AccountId": mototest.Management, "AWS::Region": "us-east-1", "AWS::StackName": stackName})
	res := check[*cloudformation.DescribeStackResourcesOutput](t, "DescribeStackResources")(cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(stackName)}))
	ic := iam.NewFromConfig(cfg)
	for _, sr := range res.StackResources {
		id, phys := aws.ToString(sr.LogicalResourceId), aws.ToString(sr.PhysicalResourceId)
		if id == "" {
			continue // moto lists the skipped bucket policy without an ID
		}
		r.refs[id] = phys
		if aws.ToString(sr.ResourceType) == "AWS::IAM::Role" {
			role := check[*iam.GetRoleOutput](t, "GetRole "+phys)(ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(phys)}))
			r.attrs[id+".Arn"] = aws.ToString(role.Role.Arn)
		}
	}
	if r.refs["TaskDefinition"] != outputs["TaskDefinitionArn"] || r.attrs["ExecutionRole.Arn"] != outputs["ExecutionRoleArn"] {
		t.Fatalf("stack resources %v / %v disagree with the outputs %v", r.refs, r.attrs, outputs)
	}
	props := r.properties(t, "TaskDefinition")
	b, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	// CloudFormation's property names are the ECS API's, capitalised; the
	// SDK input decodes them (case-insensitively), and a property the API
	// does not know fails here.
	var in ecs.RegisterTaskDefinitionInput
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("scanner.yaml TaskDefinition as RegisterTaskDefinition input: %v\n%s", err, b)
	}
	e := ecs.NewFromConfig(cfg)
	reg := check[*ecs.RegisterTaskDefinitionOutput](t, "RegisterTaskDefinition")(e.RegisterTaskDefinition(ctx, &in))
	if aws.ToString(reg.TaskDefinition.ExecutionRoleArn) != outputs["ExecutionRoleArn"] {
		t.Fatalf("registered task definition has execution role %q", aws.ToString(reg.TaskDefinition.ExecutionRoleArn))
	}
	check[*ecs.DeregisterTaskDefinitionOutput](t, "DeregisterTaskDefinition")(e.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(outputs["TaskDefinitionArn"])}))
	// The schedule rule runs the task definition: point its ECS target at
	// the registered revision, as the stack would in AWS (the scanner
	// collects the revisions rules run).
	ev := eventbridge.NewFromConfig(cfg)
	rules := check[*eventbridge.ListRulesOutput](t, "ListRules")(ev.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(stackName)}))
	for _, r := range rules.Rules {
		targets := check[*eventbridge.ListTargetsByRuleOutput](t, "ListTargetsByRule")(ev.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: r.Name}))
		for i, tg := range targets.Targets {
			if p := tg.EcsParameters; p != nil && aws.ToString(p.TaskDefinitionArn) == outputs["TaskDefinitionArn"] {
				p.TaskDefinitionArn = reg.TaskDefinition.TaskDefinitionArn
				check[*eventbridge.PutTargetsOutput](t, "PutTargets")(ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: r.Name, Targets: targets.Targets[i : i+1]}))
			}
		}
	}
	if len(in.ContainerDefinitions) != 1 {
		t.Fatalf("%d containers", len(in.ContainerDefinitions))
	}
	return in.ContainerDefinitions[0].Command
}

// defaultNetwork returns a subnet of moto's default VPC and the VPC's
// default security group.
func defaultNetwork(t *testing.T, ctx context.Context, cfg aws.Config) (subnet, sg string) {
	t.Helper()
	ec := ec2.NewFromConfig(cfg)
	subs := check[*ec2.DescribeSubnetsOutput](t, "DescribeSubnets")(ec.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
		Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}}))
	if len(subs.Subnets) == 0 {
		t.Fatal("moto has no default subnet")
	}
	vpc := aws.ToString(subs.Subnets[0].VpcId)
	// A default VPC in AWS routes 0.0.0.0/0 of its main route table to its
	// internet gateway; moto's has no such route: add it as AWS has it.
	igws := check[*ec2.DescribeInternetGatewaysOutput](t, "DescribeInternetGateways")(ec.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{
		Filters: []ec2types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{vpc}}}}))
	igw := ""
	if len(igws.InternetGateways) > 0 {
		igw = aws.ToString(igws.InternetGateways[0].InternetGatewayId)
	} else {
		igw = aws.ToString(check[*ec2.CreateInternetGatewayOutput](t, "CreateInternetGateway")(ec.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
		check[*ec2.AttachInternetGatewayOutput](t, "AttachInternetGateway")(ec.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igw), VpcId: aws.String(vpc)}))
	}
	mains := check[*ec2.DescribeRouteTablesOutput](t, "DescribeRouteTables")(ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("association.main"), Values: []string{"true"}}}}))
	if len(mains.RouteTables) == 0 {
		t.Fatalf("moto's default VPC %s has no main route table", vpc)
	}
	hasDefault := false
	for _, r := range mains.RouteTables[0].Routes {
		hasDefault = hasDefault || aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0"
	}
	if !hasDefault {
		check[*ec2.CreateRouteOutput](t, "CreateRoute")(ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: mains.RouteTables[0].RouteTableId,
			DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(igw)}))
	}
	sgs := check[*ec2.DescribeSecurityGroupsOutput](t, "DescribeSecurityGroups")(ec.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}}}}))
	if len(sgs.SecurityGroups) == 0 {
		t.Fatalf("moto's default VPC %s has no default security group", vpc)
	}
	return aws.ToString(subs.Subnets[0].SubnetId), aws.ToString(sgs.SecurityGroups[0].GroupId)
}

// fixRuleNetwork puts back the awsvpc configuration of the rule's ECS
// target where moto's CloudFormation lost it (moto 5 stores the template's
// property names, AwsVpcConfiguration, where the API has
// awsvpcConfiguration, so the SDK reads no configuration) — test setup, not
// the scanner — and reports whether it had to.
func fixRuleNetwork(t *testing.T, ctx context.Context, cfg aws.Config, rule, subnet, sg string) bool {
	t.Helper()
	eb := eventbridge.NewFromConfig(cfg)
	out := check[*eventbridge.ListTargetsByRuleOutput](t, "ListTargetsByRule")(eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule)}))
	var fixed []ebtypes.Target
	for _, tg := range out.Targets {
		if tg.EcsParameters == nil || (tg.EcsParameters.NetworkConfiguration != nil && tg.EcsParameters.NetworkConfiguration.AwsvpcConfiguration != nil) {
			continue
		}
		tg.EcsParameters.NetworkConfiguration = &ebtypes.NetworkConfiguration{AwsvpcConfiguration: &ebtypes.AwsVpcConfiguration{
			Subnets: []string{subnet}, SecurityGroups: []string{sg}, AssignPublicIp: ebtypes.AssignPublicIpEnabled}}
		fixed = append(fixed, tg)
	}
	if len(fixed) == 0 {
		return false
	}
	put := check[*eventbridge.PutTargetsOutput](t, "PutTargets")(eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: fixed}))
	if put.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %+v", put.FailedEntries)
	}
	return true
}
