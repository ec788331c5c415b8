package report

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedTime is the GeneratedAt of every fixture, so outputs are deterministic.
var fixedTime = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// testCatalog is the rule catalog the tests install (see withCatalog), so
// that golden files do not depend on the wording of the real rules.
func testCatalog() []findings.RuleMeta {
	return []findings.RuleMeta{
		{ID: "T001", Title: "Execution role cannot read a secret", Severity: findings.Critical,
			SeverityRange: findings.SeverityRange{Min: findings.Medium, Max: findings.Critical},
			Description:   "A secret referenced by the task definition cannot be read by the execution role.",
			Why:           "The task stops at start with ResourceInitializationError.",
			Remediation:   "Grant secretsmanager:GetSecretValue on the secret to the execution role.",
			Docs:          []string{"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"},
			Tags:          []string{"security", "availability"}, Precision: "very-high"},
		{ID: "T002", Title: "Execution role grants more than needed", Severity: findings.Medium,
			SeverityRange: findings.SeverityRange{Min: findings.Info, Max: findings.High},
			Description:   "The execution role holds permissions no task definition needs.",
			Why:           "Excess permissions widen what a compromised agent credential can do.",
			Remediation:   "Replace the role's policies by the least-privilege policy.",
			Docs:          []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html"},
			Tags:          []string{"least-privilege"}, Precision: "high"},
		{ID: "T003", Title: "Container agent too old", Severity: findings.High,
			SeverityRange: findings.SeverityRange{Min: findings.High, Max: findings.High},
			Description:   "The ECS agent on a container instance is older than a feature requires.",
			Why:           "Tasks using the feature cannot be placed on the instance.",
			Remediation:   "Update the ECS container agent.",
			Tags:          []string{"availability"}, Precision: "high"},
		{ID: "T004", Title: "Indeterminate permission", Severity: findings.Low,
			SeverityRange: findings.SeverityRange{Min: findings.Low, Max: findings.Medium},
			Description:   "Whether the role may call the action depends on request context.",
			Remediation:   "Review the conditions named in the evidence.", Precision: "medium"},
		{ID: "T005", Title: "Service uses an old platform version", Severity: findings.Info,
			SeverityRange: findings.SeverityRange{Min: findings.Info, Max: findings.Info},
			Description:   "Informational.", Remediation: "Use LATEST.", Precision: "medium"},
		{ID: "T006", Title: "Rule that never fires", Severity: findings.High,
			SeverityRange: findings.SeverityRange{Min: findings.High, Max: findings.High},
			Description:   "Present in the catalog only.", Remediation: "Nothing to do.", Precision: "medium"},
	}
}

// withCatalog installs the test catalog for the duration of a test.
func withCatalog(t testing.TB) {
	t.Helper()
	old := catalog
	catalog = testCatalog
	t.Cleanup(func() { catalog = old })
}

const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333"
)

func tdARN(acct, region, family string, rev int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, acct, family, rev)
}

func roleARN(acct, name string) string { return "arn:aws:iam::" + acct + ":role/" + name }

// sampleResult is a small Result with every severity, several accounts and
// regions, each resource type, full evidence and coverage errors.
func sampleResult() *findings.Result {
	lp := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Secrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf"}]}`)
	need := &findings.Need{Feature: findings.FeatureSecretsManager, Action: "secretsmanager:GetSecretValue",
		Resource: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf", Container: "web",
		FieldPath: "containerDefinitions[0].secrets[0].valueFrom", ServedBy: findings.ServedByExecutionRole}
	deny := &policy.Result{Decision: policy.ExplicitDeny, DecidingLayer: policy.LayerSCP, Level: 1,
		Reason:     `explicit Deny in SCP level 1 (policy deny-secrets, statement 0 "DenySecrets")`,
		Statements: []policy.StatementRef{{Layer: policy.LayerSCP, Level: 1, Policy: "deny-secrets", Sid: "DenySecrets", Index: 0, Effect: "Deny"}}}
	indet := &policy.Result{Decision: policy.Indeterminate, Reason: "depends on aws:SourceVpce",
		UnknownKeys: []policy.UnknownKey{{Key: "aws:SourceVpce", Statements: []policy.StatementRef{{Layer: policy.LayerIdentity, Policy: "inline:vpce", Index: 2, Effect: "Allow", Conditional: true}}}},
		Outcomes:    &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
	res := &findings.Result{
		SchemaVersion: findings.ResultSchemaVersion,
		Tool:          findings.Tool{Name: "audit", Version: "1.2.3", InformationURI: "https://github.com/ecs-audit/audit"},
		GeneratedAt:   fixedTime,
		Scope: findings.Scope{Source: "snapshot:scan.json", CollectedAt: fixedTime.Add(-time.Hour), Partition: "aws", OrganizationID: "o-abc123",
			Accounts: []findings.AccountRef{{ID: acctB, Name: "payments-prod"}, {ID: acctA, Name: "web-prod"}, {ID: acctC}},
			Regions:  []string{"us-east-1", "eu-west-1"}},
		Coverage: findings.Coverage{Complete: false, AccountsScanned: 2, AccountsTotal: 3, RegionsScanned: 5, RegionsNotEnabled: 1, RegionsFailed: 1,
			Errors: []inventory.CollectionError{
				{AccountID: acctC, Service: "iam", Operation: "GetAccountAuthorizationDetails", Code: "AccessDenied", Message: "User is not authorized"},
				{AccountID: acctB, Region: "eu-west-1", Service: "ecs", Operation: "DescribeServices", Resource: "arn:aws:ecs:eu-west-1:222222222222:cluster/main", Code: "ThrottlingException", Message: "Rate exceeded"},
			},
			Gaps: []string{"IAM of account 333333333333 not collected: its task definitions were not evaluated"}},
		Findings: []findings.Finding{
			{ID: "f-excess-1", RuleID: "T002", Severity: findings.Medium, Title: "Execution role grants more than needed",
				Message: "Role app-exec grants s3:* on * beyond its needs", AccountID: acctA, AccountName: "web-prod",
				ResourceType: findings.ResourceRole, ResourceARN: roleARN(acctA, "app-exec"), RoleARN: roleARN(acctA, "app-exec"),
				Evidence: findings.Evidence{Excess: []findings.ExcessGrant{{Policy: "inline:legacy", Statement: "LegacyS3", Action: "s3:*", Resource: "*", Reason: "no need uses S3", Severity: findings.Medium}},
					SuggestedPolicy: lp},
				Remediation: "Replace the role's policies by the least-privilege policy."},
			{ID: "f-secret-1", RuleID: "T001", Severity: findings.Critical, Title: "Execution role cannot read a secret",
				Message: "web:3 container web cannot read secret db", AccountID: acctA, AccountName: "web-prod", Region: "eu-west-1",
				ResourceType: findings.ResourceTaskDefinition, ResourceARN: tdARN(acctA, "eu-west-1", "web", 3),
				TaskDefinitionARN: tdARN(acctA, "eu-west-1", "web", 3), RoleARN: roleARN(acctA, "app-exec"), Container: "web",
				Evidence:    findings.Evidence{Need: need, Decision: deny, SuggestedPolicy: lp},
				Remediation: "Grant secretsmanager:GetSecretValue on the secret to the execution role."},
			{ID: "f-agent-1", RuleID: "T003", Severity: findings.High, Title: "Container agent too old",
				Message: "Agent 1.15.0 is older than 1.16.0", AccountID: acctB, AccountName: "payments-prod", Region: "us-east-1",
				ResourceType: findings.ResourceContainerInstance, ResourceARN: "arn:aws:ecs:us-east-1:222222222222:container-instance/main/0f1e2d3c4b5a",
				Evidence:    findings.Evidence{Facts: map[string]string{"agentVersion": "1.15.0", "required": "1.16.0"}},
				Remediation: "Update the ECS container agent."},
			{ID: "f-indet-1", RuleID: "T004", Severity: findings.Low, Title: "Indeterminate permission",
				Message: "ssm:GetParameters on /app/db depends on aws:SourceVpce", AccountID: acctB, AccountName: "payments-prod", Region: "eu-west-1",
				ResourceType: findings.ResourceTaskDefinition, ResourceARN: tdARN(acctB, "eu-west-1", "pay", 12), TaskDefinitionARN: tdARN(acctB, "eu-west-1", "pay", 12),
				RoleARN: roleARN(acctB, "pay-exec"), Container: "pay",
				Evidence: findings.Evidence{Need: &findings.Need{Feature: findings.FeatureSSMParameter, Action: "ssm:GetParameters",
					Resource: "arn:aws:ssm:eu-west-1:222222222222:parameter/app/db", Container: "pay", FieldPath: "containerDefinitions[0].secrets[1].valueFrom",
					ServedBy: findings.ServedByExecutionRole}, Decision: indet},
				Remediation: "Review the conditions named in the evidence."},
			{ID: "f-platform-1", RuleID: "T005", Severity: findings.Info, Title: "Service uses an old platform version",
				Message: "Service api uses platform version 1.3.0", AccountID: acctB, Region: "us-east-1",
				ResourceType: findings.ResourceService, ResourceARN: "arn:aws:ecs:us-east-1:222222222222:service/main/api",
				TaskDefinitionARN: tdARN(acctB, "us-east-1", "api", 7),
				Evidence:          findings.Evidence{Facts: map[string]string{"platformVersion": "1.3.0"}},
				Remediation:       "Use LATEST."},
			{ID: "f-secret-2", RuleID: "T001", Severity: findings.Critical, Title: "Execution role cannot read a secret",
				Message: "pay:12 container pay cannot read secret card-key", AccountID: acctB, AccountName: "payments-prod", Region: "eu-west-1",
				ResourceType: findings.ResourceTaskDefinition, ResourceARN: tdARN(acctB, "eu-west-1", "pay", 12), TaskDefinitionARN: tdARN(acctB, "eu-west-1", "pay", 12),
				RoleARN: roleARN(acctB, "pay-exec"), Container: "pay",
				Evidence:    findings.Evidence{Need: need, Decision: &policy.Result{Decision: policy.ImplicitDeny, DecidingLayer: policy.LayerIdentity, Reason: "no statement allows"}},
				Remediation: "Grant secretsmanager:GetSecretValue on the secret to the execution role."},
		},
		Roles: []findings.RoleReport{
			{RoleARN: roleARN(acctB, "pay-exec"), AccountID: acctB, Exists: true, UsedBy: []string{tdARN(acctB, "eu-west-1", "pay", 12)},
				Needs: []findings.Need{*need}, LeastPrivilegePolicy: lp, Findings: 2},
			{RoleARN: roleARN(acctA, "app-exec"), AccountID: acctA, Exists: true, UsedBy: []string{tdARN(acctA, "eu-west-1", "web", 3)},
				Needs: []findings.Need{*need}, LeastPrivilegePolicy: lp, Findings: 2},
		},
		TaskDefinitions: []findings.TaskDefReport{
			{ARN: tdARN(acctB, "eu-west-1", "pay", 12), AccountID: acctB, Region: "eu-west-1", Family: "pay", Revision: 12,
				LaunchTypes: []string{"FARGATE"}, ExecutionRoleARN: roleARN(acctB, "pay-exec"), Needs: []findings.Need{*need}, Findings: 2},
			{ARN: tdARN(acctA, "eu-west-1", "web", 3), AccountID: acctA, Region: "eu-west-1", Family: "web", Revision: 3,
				LaunchTypes: []string{"EC2", "FARGATE"}, ExecutionRoleARN: roleARN(acctA, "app-exec"), Needs: []findings.Need{*need}, Findings: 1,
				UsedByServices: []string{"arn:aws:ecs:eu-west-1:111111111111:service/web/web"}},
			{ARN: tdARN(acctB, "us-east-1", "api", 7), AccountID: acctB, Region: "us-east-1", Family: "api", Revision: 7,
				LaunchTypes: []string{"FARGATE"}, Findings: 1},
		},
	}
	res.Summary = summarize(res)
	return res
}

// summarize fills Summary the way findings.Evaluate does.
func summarize(res *findings.Result) findings.Summary {
	s := findings.Summary{Total: len(res.Findings), BySeverity: map[string]int{}, ByRule: map[string]int{}, ByAccount: map[string]int{},
		TaskDefinitions: len(res.TaskDefinitions), Roles: len(res.Roles)}
	for _, f := range res.Findings {
		s.BySeverity[string(f.Severity)]++
		s.ByRule[f.RuleID]++
		s.ByAccount[f.AccountID]++
	}
	return s
}

// leakedToken is a credential that must never reach an output.
const leakedToken = "b7c1e2d3-4f5a-6789-abcd-ef0123456789"

// sampleInventory holds the resources sampleResult names, with an
// environment variable whose value was classified and dropped.
func sampleInventory() *inventory.Inventory {
	essential := true
	return &inventory.Inventory{
		Format: inventory.Format, SchemaVersion: inventory.SchemaVersion, CollectedAt: fixedTime, Partition: "aws", Complete: true,
		Accounts: []*inventory.Account{
			{ID: acctA, Name: "web-prod",
				IAM: &inventory.IAM{
					Roles: []*inventory.Role{{ARN: roleARN(acctA, "app-exec"), Name: "app-exec",
						TrustPolicy:         `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
						InlinePolicies:      []inventory.InlinePolicy{{Name: "legacy", Document: `{"Version":"2012-10-17","Statement":[{"Sid":"LegacyS3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}},
						AttachedPolicies:    []string{"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"},
						PermissionsBoundary: "arn:aws:iam::111111111111:policy/boundary"}},
					ManagedPolicies: []*inventory.ManagedPolicy{
						{ARN: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", Name: "AmazonECSTaskExecutionRolePolicy", AWSManaged: true,
							Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`},
					}},
				Regions: []*inventory.Region{{Name: "eu-west-1", Status: inventory.RegionScanned,
					TaskDefinitions: []*inventory.TaskDefinition{{ARN: tdARN(acctA, "eu-west-1", "web", 3), Family: "web", Revision: 3,
						ExecutionRoleARN: roleARN(acctA, "app-exec"), RequiresCompatibilities: []string{"FARGATE"},
						ContainerDefinitions: []inventory.ContainerDefinition{{Name: "web", Image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/web:1", Essential: &essential,
							Secrets:     []inventory.SecretRef{{Name: "DB_PASSWORD", ValueFrom: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf"}},
							Environment: []inventory.EnvVar{{Name: "API_TOKEN", ValueClass: "high-entropy", ValueLength: 40}},
							// As if a collector had forgotten to redact: the
							// evidence writer redacts again.
							LogConfiguration: &inventory.LogConfiguration{LogDriver: "splunk",
								Options: map[string]string{"splunk-token": leakedToken, "splunk-url": "https://splunk.example:8088"}}}}}}}},
			},
			{ID: acctB, Name: "payments-prod"},
		},
	}
}

// writeWithEvidence writes the formats of opts and the evidence files
// into evidenceDir, as audit scan --evidence-dir does, and returns every
// path written, sorted.
func writeWithEvidence(res *findings.Result, inv *inventory.Inventory, opts Options, evidenceDir string) ([]string, error) {
	written, err := Write(res, opts)
	ev, everr := WriteEvidence(res, inv, evidenceDir)
	written = append(written, ev...)
	slices.Sort(written)
	return written, errors.Join(err, everr)
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the output (run go test ./report -update after checking the change):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-120)
	return fmt.Sprintf("at byte %d:\nwant …%q…\ngot  …%q…", i, a[from:min(len(a), i+120)], b[from:min(len(b), i+120)])
}

// Payloads are the attacker-controlled strings of the injection tests.
var payloads = []string{
	`</script><script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`{{.}}`,
	"line\u2028sep\u2029para",
	`=HYPERLINK("http://evil.example/","x")`,
	"+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
	"<!--", "]]>", "`code` | pipe | [link](http://evil.example) @org/team *bold* _em_ &amp;",
}

// spoofPayloads are hostile strings aimed at people and spreadsheets: bidi
// controls, invisible and control characters, and formula triggers hidden
// behind them (see Reveal and neutralizeCell).
var spoofPayloads = []string{
	"evil\u202Egnp.exe",                          // right-to-left override
	"\u2066admin\u2069-role",                     // isolates
	"a\u200Fb\u200Ec\u061Cd",                     // RLM, LRM, ALM
	"prod\u200B\u200C\u200D\u2060\uFEFF",         // zero-width characters, BOM
	"\x00=1+2",                                   // NUL then a formula
	"\x1b]0;pwned\x07\x1b[2J",                    // terminal escape sequences
	"ok\rEVIL",                                   // carriage return
	"\u00A0@SUM(1,2)",                            // no-break space then a formula
	"\u200B=HYPERLINK(\"http://evil.example/\")", // zero-width space then a formula
	"\t-1+2",                // tab then a formula
	"x\U000E0041\U000E0042", // tag characters (hidden ASCII)
	"web\u2028prod\u2029",   // line and paragraph separators
	"\n+1",                  // line feed then a formula (not in a finding ID: a browser's search box drops line feeds)
	"\u0085\u009b31m",       // C1 controls (NEL, CSI)
	"sp\u3000ace\u2007",     // ideographic and figure space
	"\uFE0Fv\U000E0100s",    // variation selectors
	"\uFFFE\uFDD0\uE000",    // noncharacters, private use
}

// maliciousResult puts a payload in every string an AWS resource controls.
func maliciousResult() *findings.Result { return payloadResult(payloads) }

// hostileResult puts a spoof payload in every string an AWS resource
// controls.
func hostileResult() *findings.Result { return payloadResult(spoofPayloads) }

// payloadResult puts a string of list in every string an AWS resource
// controls.
func payloadResult(list []string) *findings.Result {
	res := sampleResult()
	p := func(i int) string { return list[i%len(list)] }
	for i := range res.Scope.Accounts {
		res.Scope.Accounts[i].Name = p(i) + " acct"
	}
	res.Scope.Source = p(3)
	res.Scope.OrganizationID = p(0)
	res.Scope.Regions = append(res.Scope.Regions, p(1))
	for i := range res.Findings {
		f := &res.Findings[i]
		f.AccountName = p(i)
		f.Message = p(i+1) + " message " + p(i+2)
		f.ResourceARN = "arn:aws:ecs:eu-west-1:" + f.AccountID + ":task-definition/" + p(i+3) + ":1"
		f.Container = p(i + 4)
		f.RoleARN = "arn:aws:iam::" + f.AccountID + ":role/" + p(i+5)
		f.ID = fmt.Sprintf("id-%d-%s", i, p(i+6))
		f.Evidence.Facts = map[string]string{p(i + 7): p(i + 8)}
		f.Evidence.Excess = []findings.ExcessGrant{{Policy: p(i), Statement: p(i + 1), Action: p(i + 2), Resource: p(i + 3), Reason: p(i + 4), Severity: findings.High}}
		f.Evidence.Decision = &policy.Result{Decision: policy.ExplicitDeny, Reason: p(i + 5),
			Statements: []policy.StatementRef{{Layer: policy.LayerSCP, Policy: p(i + 6), Sid: p(i + 7), Effect: "Deny"}}}
		f.Evidence.Need = &findings.Need{Feature: "ssm-parameter", Action: "ssm:GetParameters", Resource: p(i + 8), FieldPath: p(i + 9), Note: p(i + 10),
			ServedBy: findings.ServedByExecutionRole}
	}
	for i := range res.Coverage.Errors {
		res.Coverage.Errors[i].Message = p(i)
		res.Coverage.Errors[i].Resource = p(i + 1)
	}
	res.Coverage.Gaps = append(res.Coverage.Gaps, p(0), p(1), p(2))
	for i := range res.Roles {
		res.Roles[i].RoleARN = "arn:aws:iam::" + res.Roles[i].AccountID + ":role/" + p(i)
		res.Roles[i].UsedBy = []string{p(i + 1)}
		b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Sid": p(i + 2), "Effect": "Allow", "Action": "ssm:GetParameters", "Resource": p(i + 3)}}})
		res.Roles[i].LeastPrivilegePolicy = b
	}
	for i := range res.TaskDefinitions {
		res.TaskDefinitions[i].Family = p(i)
		res.TaskDefinitions[i].ExecutionRoleARN = p(i + 1)
	}
	res.Summary = summarize(res)
	return res
}

var (
	sevCycle  = []findings.Severity{findings.Critical, findings.High, findings.High, findings.Medium, findings.Medium, findings.Medium, findings.Low, findings.Low, findings.Info}
	rtypes    = []string{findings.ResourceTaskDefinition, findings.ResourceTaskDefinition, findings.ResourceRole, findings.ResourceContainerInstance, findings.ResourceService}
	bigRegion = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}
)

// bigResult is a synthetic Result of n findings with realistic evidence
// across 200 accounts and 6 regions.
func bigResult(n int) *findings.Result {
	res := sampleResult()
	res.Findings = make([]findings.Finding, 0, n)
	res.Scope.Accounts = nil
	for a := 0; a < 200; a++ {
		res.Scope.Accounts = append(res.Scope.Accounts, findings.AccountRef{ID: fmt.Sprintf("%012d", 100000000000+a), Name: fmt.Sprintf("team-%03d-prod", a)})
	}
	res.Scope.Regions = bigRegion
	rules := testCatalog()
	for i := 0; i < n; i++ {
		acct := res.Scope.Accounts[i%200]
		region := bigRegion[(i/200)%len(bigRegion)]
		family := fmt.Sprintf("svc-%04d", (i/7)%5000)
		rev := 1 + i%9
		td := tdARN(acct.ID, region, family, rev)
		role := roleARN(acct.ID, family+"-exec")
		r := rules[i%5]
		sev := sevCycle[i%len(sevCycle)]
		rt := rtypes[i%len(rtypes)]
		resARN := td
		switch rt {
		case findings.ResourceRole:
			resARN = role
		case findings.ResourceContainerInstance:
			resARN = fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/cluster-%d/%032x", region, acct.ID, i%11, i)
		case findings.ResourceService:
			resARN = fmt.Sprintf("arn:aws:ecs:%s:%s:service/cluster-%d/%s", region, acct.ID, i%11, family)
		}
		secret := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s/db-password-%06d", region, acct.ID, family, i)
		f := findings.Finding{
			ID: fmt.Sprintf("%s-%016x", r.ID, uint64(i)*0x9E3779B97F4A7C15), RuleID: r.ID, Severity: sev, Title: r.Title,
			Message:   fmt.Sprintf("%s:%d container app cannot call secretsmanager:GetSecretValue on %s", family, rev, secret),
			AccountID: acct.ID, AccountName: acct.Name, Region: region, ResourceType: rt, ResourceARN: resARN,
			TaskDefinitionARN: td, RoleARN: role, Container: "app", Remediation: r.Remediation,
			Evidence: findings.Evidence{
				Need: &findings.Need{Feature: findings.FeatureSecretsManager, Action: "secretsmanager:GetSecretValue", Resource: secret,
					Container: "app", FieldPath: fmt.Sprintf("containerDefinitions[0].secrets[%d].valueFrom", i%4), ServedBy: findings.ServedByExecutionRole},
				Decision: &policy.Result{Decision: policy.ExplicitDeny, DecidingLayer: policy.LayerSCP, Level: 1,
					Reason:     `explicit Deny in SCP level 1 (policy deny-secrets, statement 0 "DenyOutsideOrg")`,
					Statements: []policy.StatementRef{{Layer: policy.LayerSCP, Level: 1, Policy: "deny-secrets", Sid: "DenyOutsideOrg", Effect: "Deny"}}},
				Facts: map[string]string{"launchType": "FARGATE", "platformVersion": "1.4.0"},
			},
		}
		if i%5 == 1 {
			f.Evidence.Excess = []findings.ExcessGrant{
				{Policy: "arn:aws:iam::aws:policy/AdministratorAccess", Statement: "#0", Action: "*", Resource: "*", Reason: "grants every action", Severity: findings.High},
				{Policy: "inline:legacy", Statement: "LegacyS3", Action: "s3:*", Resource: "*", Reason: "no need uses S3", Severity: findings.Medium},
			}
		}
		res.Findings = append(res.Findings, f)
	}
	res.Roles = nil
	res.TaskDefinitions = nil
	lp := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Secrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:100000000000:secret:svc/db-password-*"},{"Sid":"Logs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:100000000000:log-group:/ecs/svc:*"}]}`)
	for i := 0; i < n/10; i++ {
		acct := res.Scope.Accounts[i%200]
		family := fmt.Sprintf("svc-%04d", i)
		region := bigRegion[i%len(bigRegion)]
		res.TaskDefinitions = append(res.TaskDefinitions, findings.TaskDefReport{ARN: tdARN(acct.ID, region, family, 1), AccountID: acct.ID,
			Region: region, Family: family, Revision: 1, LaunchTypes: []string{"FARGATE"}, ExecutionRoleARN: roleARN(acct.ID, family+"-exec"),
			Needs: []findings.Need{{Feature: findings.FeatureECRPull, Action: "ecr:BatchGetImage", Resource: "*", ServedBy: findings.ServedByExecutionRole}}, Findings: 10})
		if i%2 == 0 {
			res.Roles = append(res.Roles, findings.RoleReport{RoleARN: roleARN(acct.ID, family+"-exec"), AccountID: acct.ID, Exists: true,
				UsedBy: []string{tdARN(acct.ID, region, family, 1)}, LeastPrivilegePolicy: lp, Findings: 10})
		}
	}
	res.Summary = summarize(res)
	return res
}
