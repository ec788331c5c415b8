package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
	"github.com/ecs-audit/audit/triage"
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
		{ID: "T007", Title: "Plaintext credentials in the task definition", Severity: findings.High,
			SeverityRange: findings.SeverityRange{Min: findings.Medium, Max: findings.Critical},
			Description:   "A value in the task definition looks like a credential.",
			Why:           "Anyone who can describe the task definition can read it.",
			Remediation:   "Move the value into Secrets Manager.", Tags: []string{"secrets"}, Precision: "medium"},
		{ID: "T008", Title: "A policy of the role cannot be read", Severity: findings.Medium,
			SeverityRange: findings.SeverityRange{Min: findings.Low, Max: findings.High},
			Description:   "A policy attached to the role is malformed, names an unknown action, or was not collected.",
			Remediation:   "Fix the policy, or let the scanner read it.", Precision: "high"},
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

// sampleResult is a small Result of root-cause findings with every
// severity, several accounts and regions, each resource type and each kind
// of item list (needs with decisions, unknowns, constraints, features,
// values, policy problems, excess grants), affected resources, structured
// fixes with a suggested policy, and coverage errors.
func sampleResult() *findings.Result {
	lp := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Secrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf"}]}`)
	lpPay := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Secrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:eu-west-1:222222222222:secret:card-key-Zy9Xw8"}]}`)
	need := &findings.Need{Feature: findings.FeatureSecretsManager, Action: "secretsmanager:GetSecretValue",
		Resource: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf", Container: "web",
		FieldPath: "containerDefinitions[0].secrets[0].valueFrom", ServedBy: findings.ServedByExecutionRole}
	kmsNeed := findings.Need{Feature: findings.FeatureKMSDecrypt, Action: "kms:Decrypt",
		Resource: "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", Container: "web",
		FieldPath: "containerDefinitions[0].secrets[0].valueFrom", ServedBy: findings.ServedByExecutionRole,
		Note: "the secret is encrypted with this customer managed key"}
	payNeed := findings.Need{Feature: findings.FeatureSecretsManager, Action: "secretsmanager:GetSecretValue",
		Resource: "arn:aws:secretsmanager:eu-west-1:222222222222:secret:card-key-Zy9Xw8", Container: "pay",
		FieldPath: "containerDefinitions[0].secrets[0].valueFrom", ServedBy: findings.ServedByExecutionRole}
	ssmNeed := findings.Need{Feature: findings.FeatureSSMParameter, Action: "ssm:GetParameters",
		Resource: "arn:aws:ssm:eu-west-1:222222222222:parameter/app/db", Container: "pay", FieldPath: "containerDefinitions[0].secrets[1].valueFrom",
		ServedBy: findings.ServedByExecutionRole}
	deny := &policy.Result{Decision: policy.ExplicitDeny, DecidingLayer: policy.LayerSCP, Level: 1,
		Reason:     `explicit Deny in SCP level 1 (policy deny-secrets (p-deny123), statement 0 "DenySecrets")`,
		Statements: []policy.StatementRef{{Layer: policy.LayerSCP, Level: 1, Policy: "deny-secrets (p-deny123)", Sid: "DenySecrets", Index: 0, Effect: "Deny"}}}
	implicit := &policy.Result{Decision: policy.ImplicitDeny, DecidingLayer: policy.LayerIdentity, Reason: "no statement allows"}
	indet := &policy.Result{Decision: policy.Indeterminate, Reason: "depends on aws:SourceVpce",
		UnknownKeys: []policy.UnknownKey{{Key: "aws:SourceVpce", Statements: []policy.StatementRef{{Layer: policy.LayerIdentity, Policy: "inline:vpce", Index: 2, Effect: "Allow", Conditional: true}}}},
		Outcomes:    &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
	webTD, payTD := tdARN(acctA, "eu-west-1", "web", 3), tdARN(acctB, "eu-west-1", "pay", 12)
	apiTD, batchTD := tdARN(acctB, "us-east-1", "api", 7), tdARN(acctB, "us-east-1", "batch", 2)
	instance := "arn:aws:ecs:us-east-1:222222222222:container-instance/main/0f1e2d3c4b5a"
	apiService := "arn:aws:ecs:us-east-1:222222222222:service/main/api"
	webService := "arn:aws:ecs:eu-west-1:111111111111:service/web/web"
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
			Collected: []findings.AccountRegion{{AccountID: acctA}, {AccountID: acctA, Region: "eu-west-1"}, {AccountID: acctA, Region: "us-east-1"},
				{AccountID: acctB}, {AccountID: acctB, Region: "eu-west-1", Errors: 1}, {AccountID: acctB, Region: "us-east-1"}},
			Gaps: []string{"IAM of account 333333333333 not collected: its task definitions were not evaluated"}},
		Findings: []findings.Finding{
			{ID: "f-excess-1", RuleID: "T002", Severity: findings.Medium, Title: "Execution role grants more than needed",
				Message: "Role app-exec grants s3:* on * and secretsmanager:GetSecretValue on * beyond the needs of its 1 task definition", AccountID: acctA, AccountName: "web-prod",
				ResourceType: findings.ResourceRole, ResourceARN: roleARN(acctA, "app-exec"), RoleARN: roleARN(acctA, "app-exec"),
				Evidence: findings.Evidence{Excess: []findings.ExcessGrant{
					{Policy: "inline:legacy", Statement: "LegacyS3", Kind: findings.ExcessUnrelatedService, Action: "s3:*", Resource: "*", Reason: "no need uses S3", Severity: findings.Medium},
					{Policy: "inline:legacy", Statement: "#1", Kind: findings.ExcessWiderResource, Action: "secretsmanager:GetSecretValue", Resource: "*", Reason: "reads every secret; the exact ARN would serve", Severity: findings.Medium}},
					SuggestedPolicy: lp},
				Impact:      findings.Impact{Summary: "1 role × 1 task definition; 2 excess grants", Resources: map[string]int{findings.ResourceRole: 1, findings.ResourceTaskDefinition: 1}, Items: 2, ItemKind: findings.ItemGrant},
				Affected:    []findings.ResourceRef{{Type: findings.ResourceTaskDefinition, ARN: webTD, Name: "web:3"}},
				Remediation: "Replace the identity policies of role app-exec by the least-privilege policy.",
				Fix: findings.Fix{Layer: findings.FixIdentity, Summary: "Replace the identity policies of role app-exec by the least-privilege policy.",
					Target:          &findings.FixTarget{Type: findings.ResourceRole, ARN: roleARN(acctA, "app-exec"), Name: "app-exec"},
					SuggestedPolicy: lp, SuggestedPolicyLayer: findings.FixIdentity, SuggestedPolicyTarget: "the identity policies of role " + roleARN(acctA, "app-exec") + " (replacing them)"},
				MemberIDs: []string{"f-excess-1"}},
			{ID: "f-secret-1", RuleID: "T001", Severity: findings.Critical, Title: "A service control policy denies what the task definition needs",
				Message: "web:3 container web cannot read secret db: statement DenySecrets of SCP deny-secrets denies it", AccountID: acctA, AccountName: "web-prod", Region: "eu-west-1",
				ResourceType: findings.ResourceTaskDefinition, ResourceARN: webTD, TaskDefinitionARN: webTD, RoleARN: roleARN(acctA, "app-exec"), Container: "web",
				Evidence: findings.Evidence{Need: need, Decision: deny,
					Needs: []findings.NeedEvidence{{Need: *need, Severity: findings.Critical, Decision: deny}, {Need: kmsNeed, Severity: findings.Critical, Decision: deny}},
					Facts: map[string]string{"fieldPath": "containerDefinitions[0].secrets[0].valueFrom"}},
				Impact:      findings.Impact{Summary: "1 task definition × 1 service; 2 needs", Resources: map[string]int{findings.ResourceTaskDefinition: 1, findings.ResourceService: 1}, Items: 2, ItemKind: findings.ItemNeed},
				Affected:    []findings.ResourceRef{{Type: findings.ResourceService, ARN: webService, Name: "web"}},
				Remediation: "Statement DenySecrets of SCP deny-secrets (p-deny123), attached to OU Production, denies it; no grant to role app-exec can override it. Move the secret to an account the policy permits, in a new task definition revision. Or ask for an exception in that statement.",
				Fix: findings.Fix{Layer: findings.FixSCP, Summary: "Statement DenySecrets of SCP deny-secrets (p-deny123), attached to OU Production, denies it; no grant to role app-exec can override it.",
					Steps: []string{"Move the secret to an account the policy permits, in a new task definition revision.", "Or ask for an exception in that statement."},
					Target: &findings.FixTarget{Type: findings.TargetSCP, ID: "p-deny123", Name: "deny-secrets", Statement: "DenySecrets",
						AttachedTo: &findings.OrgNode{ID: "ou-abcd-prod0001", Name: "Production", Type: inventory.NodeOU}}},
				MemberIDs: []string{"m-secret-1a", "m-secret-1b"}},
			{ID: "f-agent-1", RuleID: "T003", Severity: findings.High, Title: "Container agent too old",
				Message: "Container instance 0f1e2d3c4b5a cannot take the tasks of 2 task definitions: agent 1.15.0 is older than 1.16.0 and lacks an attribute", AccountID: acctB, AccountName: "payments-prod", Region: "us-east-1",
				ResourceType: findings.ResourceContainerInstance, ResourceARN: instance,
				Evidence: findings.Evidence{Constraints: []findings.Constraint{
					{RuleID: "T003", Feature: "task execution role", Minimum: "1.16.0", FieldPath: "executionRoleArn", Source: "ECS Developer Guide, task_execution_IAM_role",
						TaskDefinitions: []string{"api:7", "batch:2"}, Severity: findings.High},
					{RuleID: "T003", Attribute: "ecs.capability.secrets.ssm.environment-variables", Source: "derived from the task definition",
						TaskDefinitions: []string{"batch:2"}, Severity: findings.High}},
					Facts: map[string]string{"agentVersion": "1.15.0", "required": "1.16.0"}},
				Impact: findings.Impact{Summary: "1 container instance × 2 task definitions; 2 unmet constraints",
					Resources: map[string]int{findings.ResourceContainerInstance: 1, findings.ResourceTaskDefinition: 2}, Items: 2, ItemKind: findings.ItemConstraint},
				Affected:    []findings.ResourceRef{{Type: findings.ResourceTaskDefinition, ARN: apiTD, Name: "api:7"}, {Type: findings.ResourceTaskDefinition, ARN: batchTD, Name: "batch:2"}},
				Remediation: "Update the ECS container agent on 0f1e2d3c4b5a to 1.22.0 or later.",
				Fix: findings.Fix{Layer: findings.FixContainerInstance, Summary: "Update the ECS container agent on 0f1e2d3c4b5a to 1.22.0 or later.",
					Steps:  []string{"Update the container agent from 1.15.0 to 1.22.0 or later (UpdateContainerAgent).", "Then restart the agent."},
					Target: &findings.FixTarget{Type: findings.ResourceContainerInstance, ARN: instance, Name: "0f1e2d3c4b5a"}},
				MemberIDs: []string{"m-agent-a", "m-agent-b"}},
			{ID: "f-indet-1", RuleID: "T004", Severity: findings.Low, Title: "Indeterminate permission",
				Message: "ssm:GetParameters on /app/db depends on aws:SourceVpce", AccountID: acctB, AccountName: "payments-prod", Region: "eu-west-1",
				ResourceType: findings.ResourceTaskDefinition, ResourceARN: payTD, TaskDefinitionARN: payTD, RoleARN: roleARN(acctB, "pay-exec"), Container: "pay",
				Evidence: findings.Evidence{Need: &ssmNeed, Decision: indet,
					Needs: []findings.NeedEvidence{{Need: ssmNeed, Severity: findings.Low, Decision: indet}},
					Unknowns: []findings.Unknown{{Kind: findings.UnknownConditionKeys, Subject: "aws:SourceVpce", Description: "the VPC endpoint the call goes through is not known",
						Settle: "Confirm that the task reaches SSM through the VPC endpoint that statement #2 of inline:vpce names."}}},
				Impact:      findings.Impact{Summary: "1 task definition; 1 need", Resources: map[string]int{findings.ResourceTaskDefinition: 1}, Items: 1, ItemKind: findings.ItemNeed},
				Remediation: "Confirm that the task reaches SSM through the VPC endpoint that statement #2 of inline:vpce names.",
				Fix: findings.Fix{Layer: findings.FixConfirm, Summary: "Confirm that the task reaches SSM through the VPC endpoint that statement #2 of inline:vpce names.",
					Target: &findings.FixTarget{Type: findings.ResourceRole, ARN: roleARN(acctB, "pay-exec"), Name: "pay-exec"}},
				MemberIDs: []string{"f-indet-1"}},
			{ID: "f-platform-1", RuleID: "T005", Severity: findings.Info, Title: "Service uses an old platform version",
				Message: "Service api uses platform version 1.3.0, which does not serve EFS volumes", AccountID: acctB, Region: "us-east-1",
				ResourceType: findings.ResourceService, ResourceARN: apiService, TaskDefinitionARN: apiTD,
				Evidence: findings.Evidence{Features: []findings.FeatureGap{{Feature: "EFS volumes", FieldPath: "volumes[0].efsVolumeConfiguration", OS: "Linux",
					PlatformVersion: "1.3.0", Minimum: "1.4.0", Source: "Fargate platform versions", Severity: findings.Info}},
					Facts: map[string]string{"platformVersion": "1.3.0"}},
				Impact:      findings.Impact{Summary: "1 service × 1 task definition; 1 feature", Resources: map[string]int{findings.ResourceService: 1, findings.ResourceTaskDefinition: 1}, Items: 1, ItemKind: findings.ItemFeature},
				Affected:    []findings.ResourceRef{{Type: findings.ResourceTaskDefinition, ARN: apiTD, Name: "api:7"}},
				Remediation: "Use LATEST.",
				Fix: findings.Fix{Layer: findings.FixService, Summary: "Run service api on platform version 1.4.0 or LATEST.",
					Target: &findings.FixTarget{Type: findings.ResourceService, ARN: apiService, Name: "api"}},
				MemberIDs: []string{"f-platform-1"}},
			{ID: "f-secret-2", RuleID: "T001", Severity: findings.Critical, Title: "Execution role cannot read a secret",
				Message: "pay:12 container pay cannot read secret card-key", AccountID: acctB, AccountName: "payments-prod", Region: "eu-west-1",
				ResourceType: findings.ResourceTaskDefinition, ResourceARN: payTD, TaskDefinitionARN: payTD, RoleARN: roleARN(acctB, "pay-exec"), Container: "pay",
				Evidence: findings.Evidence{Need: &payNeed, Decision: implicit,
					Needs:           []findings.NeedEvidence{{Need: payNeed, Severity: findings.Critical, Decision: implicit}},
					SuggestedPolicy: lpPay},
				Impact:      findings.Impact{Summary: "1 task definition; 1 need", Resources: map[string]int{findings.ResourceTaskDefinition: 1}, Items: 1, ItemKind: findings.ItemNeed},
				Remediation: "Add to an identity policy of role pay-exec: secretsmanager:GetSecretValue on secret card-key.",
				Fix: findings.Fix{Layer: findings.FixIdentity, Summary: "Add to an identity policy of role pay-exec: secretsmanager:GetSecretValue on secret card-key.",
					Target:          &findings.FixTarget{Type: findings.ResourceRole, ARN: roleARN(acctB, "pay-exec"), Name: "pay-exec"},
					SuggestedPolicy: lpPay, SuggestedPolicyLayer: findings.FixIdentity, SuggestedPolicyTarget: "an identity policy of role " + roleARN(acctB, "pay-exec")},
				MemberIDs: []string{"f-secret-2"}},
			{ID: "f-values-1", RuleID: "T007", Severity: findings.High, Title: "Plaintext credentials in the task definition",
				Message: "web:3 holds 2 values that look like credentials in plain text: environment variable API_TOKEN and log option splunk-token", AccountID: acctA, AccountName: "web-prod", Region: "eu-west-1",
				ResourceType: findings.ResourceTaskDefinition, ResourceARN: webTD, TaskDefinitionARN: webTD,
				Evidence: findings.Evidence{Values: []findings.PlaintextValue{
					{Container: "web", Kind: findings.ValueEnvironmentVariable, Name: "API_TOKEN", ValueClass: "high-entropy", Why: "its name and its value look like a token",
						FieldPath: "containerDefinitions[0].environment[0].value", Severity: findings.High},
					{Container: "web", Kind: findings.ValueLogOption, Name: "splunk-token", Why: "its name says it is a token",
						FieldPath: "containerDefinitions[0].logConfiguration.options.splunk-token", Severity: findings.High}}},
				Impact:      findings.Impact{Summary: "1 task definition; 2 values", Resources: map[string]int{findings.ResourceTaskDefinition: 1}, Items: 2, ItemKind: findings.ItemValue},
				Remediation: "Move the 2 values into Secrets Manager and reference them under secrets and secretOptions, in a new task definition revision.",
				Fix: findings.Fix{Layer: findings.FixTaskDefinition, Summary: "Move the 2 values into Secrets Manager, in a new task definition revision.",
					Steps:  []string{"Store each value as a secret.", "Reference it under secrets (API_TOKEN) and secretOptions (splunk-token).", "Rotate the values: they were readable by anyone who could describe the task definition."},
					Target: &findings.FixTarget{Type: findings.ResourceTaskDefinition, ARN: webTD, Name: "web:3"}},
				MemberIDs: []string{"m-values-a", "m-values-b"}},
			{ID: "f-policy-1", RuleID: "T008", Severity: findings.Medium, Title: "A policy of the role cannot be read",
				Message: "The permissions boundary of role app-exec was not collected: what it denies is not known", AccountID: acctA, AccountName: "web-prod",
				ResourceType: findings.ResourceRole, ResourceARN: roleARN(acctA, "app-exec"), RoleARN: roleARN(acctA, "app-exec"),
				Evidence:    findings.Evidence{Problems: []findings.PolicyProblem{{Kind: "missing", Detail: "boundary arn:aws:iam::111111111111:policy/boundary was not collected", Severity: findings.Medium}}},
				Impact:      findings.Impact{Summary: "1 role; 1 problem", Resources: map[string]int{findings.ResourceRole: 1}, Items: 1, ItemKind: findings.ItemProblem},
				Remediation: "Let the scanning role read the boundary (iam:GetPolicyVersion) and scan again.",
				Fix: findings.Fix{Layer: findings.FixConfirm, Summary: "Let the scanning role read the boundary (iam:GetPolicyVersion) and scan again.",
					Target: &findings.FixTarget{Type: findings.ResourcePolicy, ARN: "arn:aws:iam::111111111111:policy/boundary", Name: "boundary"}},
				MemberIDs: []string{"f-policy-1"}},
		},
		Roles: []findings.RoleReport{
			{RoleARN: roleARN(acctB, "pay-exec"), AccountID: acctB, Exists: true, UsedBy: []string{payTD},
				Needs: []findings.Need{payNeed, ssmNeed}, LeastPrivilegePolicy: lpPay, Findings: 2},
			{RoleARN: roleARN(acctA, "app-exec"), AccountID: acctA, Exists: true, UsedBy: []string{webTD},
				Needs: []findings.Need{*need, kmsNeed}, LeastPrivilegePolicy: lp, Findings: 3},
		},
		TaskDefinitions: []findings.TaskDefReport{
			{ARN: payTD, AccountID: acctB, Region: "eu-west-1", Family: "pay", Revision: 12,
				LaunchTypes: []string{"FARGATE"}, ExecutionRoleARN: roleARN(acctB, "pay-exec"), Needs: []findings.Need{payNeed, ssmNeed}, Findings: 2},
			{ARN: webTD, AccountID: acctA, Region: "eu-west-1", Family: "web", Revision: 3,
				LaunchTypes: []string{"EC2", "FARGATE"}, ExecutionRoleARN: roleARN(acctA, "app-exec"), Needs: []findings.Need{*need, kmsNeed}, Findings: 3,
				UsedByServices: []string{webService}},
			{ARN: apiTD, AccountID: acctB, Region: "us-east-1", Family: "api", Revision: 7,
				LaunchTypes: []string{"FARGATE", "EC2"}, UsedByServices: []string{apiService}, Findings: 2},
			{ARN: batchTD, AccountID: acctB, Region: "us-east-1", Family: "batch", Revision: 2,
				LaunchTypes: []string{"EC2"}, Findings: 1},
		},
	}
	res.Summary = summarize(res)
	return res
}

// summarize fills Summary the way findings.Evaluate does.
func summarize(res *findings.Result) findings.Summary {
	s := findings.Summary{Total: len(res.Findings), BySeverity: map[string]int{}, ByRule: map[string]int{}, ByAccount: map[string]int{},
		TaskDefinitions: len(res.TaskDefinitions), Roles: len(res.Roles)}
	list := make([]*findings.Finding, len(res.Findings))
	for i := range res.Findings {
		f := &res.Findings[i]
		list[i] = f
		s.BySeverity[string(f.Severity)]++
		s.ByRule[f.RuleID]++
		s.ByAccount[f.AccountID]++
	}
	s.Affected, s.Items = affectedCounts(list)
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
// controls, and in what a suppressions file or a baseline says (a
// justification, an owner, a past finding).
func payloadResult(list []string) *findings.Result {
	res := triagedResult()
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
		f.MemberIDs = []string{f.ID, fmt.Sprintf("member-%d-%s", i, p(i+7))}
		f.Evidence.Facts = map[string]string{p(i + 7): p(i + 8)}
		f.Evidence.Excess = []findings.ExcessGrant{{Policy: p(i), Statement: p(i + 1), Kind: findings.ExcessWiderResource, Action: p(i + 2), Resource: p(i + 3), Reason: p(i + 4), Severity: findings.High}}
		f.Evidence.Decision = &policy.Result{Decision: policy.ExplicitDeny, Reason: p(i + 5),
			Statements: []policy.StatementRef{{Layer: policy.LayerSCP, Policy: p(i + 6), Sid: p(i + 7), Effect: "Deny"}}}
		f.Evidence.Need = &findings.Need{Feature: "ssm-parameter", Action: "ssm:GetParameters", Resource: p(i + 8), FieldPath: p(i + 9), Note: p(i + 10),
			ServedBy: findings.ServedByExecutionRole}
		f.Evidence.Needs = []findings.NeedEvidence{{Need: findings.Need{Feature: "ssm-parameter", Action: "ssm:GetParameters", Resource: p(i + 9),
			Container: p(i + 10), FieldPath: p(i + 11), Note: p(i + 12), ServedBy: findings.ServedByExecutionRole}, Severity: findings.High, Decision: f.Evidence.Decision}}
		f.Evidence.Unknowns = []findings.Unknown{{Kind: findings.UnknownResourcePolicy, Subject: p(i + 1), Description: p(i + 2), Settle: p(i + 3)}}
		f.Evidence.Constraints = []findings.Constraint{{RuleID: f.RuleID, Attribute: p(i + 4), Value: p(i + 5), Source: p(i + 6), TaskDefinitions: []string{p(i + 7)}, Severity: findings.High}}
		f.Evidence.Features = []findings.FeatureGap{{Feature: p(i + 8), FieldPath: p(i + 9), OS: "Linux", PlatformVersion: p(i + 10), Minimum: "1.4.0", Source: p(i + 11), Severity: findings.High}}
		f.Evidence.Values = []findings.PlaintextValue{{Container: p(i + 12), Kind: findings.ValueLogOption, Name: p(i), Why: p(i + 1), FieldPath: p(i + 2), Severity: findings.High}}
		f.Evidence.Problems = []findings.PolicyProblem{{Kind: "malformed", Detail: p(i + 3), Severity: findings.High}}
		f.Impact.Summary = p(i+4) + " impact"
		f.Affected = []findings.ResourceRef{{Type: findings.ResourceService, ARN: "arn:aws:ecs:eu-west-1:" + f.AccountID + ":service/" + p(i+5), Name: p(i + 6)}}
		f.Fix.Summary = p(i+7) + " fix " + p(i+8)
		f.Fix.Steps = []string{p(i + 9), p(i + 10)}
		f.Fix.Target = &findings.FixTarget{Type: findings.TargetSCP, ID: p(i + 11), Name: p(i + 12), Statement: p(i), AttachedTo: &findings.OrgNode{ID: p(i + 1), Name: p(i + 2), Type: inventory.NodeOU}}
		f.Fix.SuggestedPolicyTarget = p(i + 3)
		if f.Suppression != nil {
			f.Suppression.Justification, f.Suppression.Owner, f.Suppression.Source = p(i+4), p(i+5), p(i+6)
		}
		if f.SuppressionExpired != nil {
			f.SuppressionExpired.Justification, f.SuppressionExpired.Owner, f.SuppressionExpired.Source = p(i+4), p(i+5), p(i+6)
		}
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
	if s := res.Triage.Suppressions; s != nil {
		for i := range s.Entries {
			e := &s.Entries[i]
			e.Justification, e.Owner, e.Source, e.Rule = p(i), p(i+1), p(i+2), p(i+3)
		}
	}
	if b := res.Triage.Baseline; b != nil {
		b.Source, b.ToolVersion = p(4), p(5)
		for i := range b.Fixed {
			pf := &b.Fixed[i]
			pf.ID, pf.Message, pf.Title, pf.ResourceARN, pf.AccountName = "fixed-"+p(i), p(i+1), p(i+2), p(i+3), p(i+4)
		}
		for i := range b.Unknown {
			pf := &b.Unknown[i]
			pf.ID, pf.Message, pf.ResourceARN, pf.Reason, pf.RoleARN = "unknown-"+p(i), p(i+5), p(i+6), p(i+7), p(i+8)
		}
	}
	res.Summary = summarize(res)
	return res
}

// The triage of the fixtures: the suppressions file and the baseline that
// triagedResult applies to sampleResult, at fixedTime.
//
//   - accepted.yaml:2 accepts the excess grants of role app-exec until
//     2025-12-31 (active);
//   - accepted.yaml:8 accepts the old platform of service api until
//     2025-04-01 (active, expiring within 30 days);
//   - accepted.yaml:14 accepted the indeterminate permission of pay until
//     2025-03-01 (expired: the finding counts again);
//   - accepted.yaml:20 names a family that no longer exists (stale).
//
// The baseline (an earlier scan) had every finding but f-values-1 (new),
// had f-agent-1's items as per-item findings (m-agent-a: unchanged through
// the member IDs), and two findings that are gone: one where this scan
// collected everything (fixed), one in a region collected with errors and
// one in an account whose IAM was not collected (unknown).
func sampleSuppressions() *triage.Suppressions {
	day := func(s string) time.Time {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return &triage.Suppressions{List: []triage.Suppression{
		{Rule: "T002", Role: []string{"app-exec"}, Justification: "Legacy S3 access is removed in WEB-42.", Owner: "web-team@example.com",
			Expires: day("2025-12-31"), Source: "accepted.yaml:2"},
		{Rule: "T005", Resource: []string{"arn:aws:ecs:us-east-1:222222222222:service/main/*"}, Justification: "The api service moves to 1.4.0 in the April release.",
			Owner: "payments@example.com", Expires: day("2025-04-01"), Source: "accepted.yaml:8"},
		{Rule: "T004", Family: []string{"pay"}, Justification: "The VPC endpoint is enforced by the network team.", Expires: day("2025-03-01"), Source: "accepted.yaml:14"},
		{Rule: "T001", Family: []string{"gone-*"}, Justification: "A family that was deleted.", Owner: "platform@example.com", Expires: day("2025-06-30"), Source: "accepted.yaml:20"},
	}}
}

// sampleBaseline is the findings.json of the earlier scan (see
// sampleSuppressions).
func sampleBaseline() []byte {
	base := sampleResult()
	base.GeneratedAt = fixedTime.AddDate(0, 0, -7)
	var kept []findings.Finding
	for _, f := range base.Findings {
		switch f.ID {
		case "f-values-1":
			continue
		case "f-agent-1":
			f.ID, f.MemberIDs = "m-agent-a", nil
		}
		kept = append(kept, f)
	}
	gone := func(id, rule string, sev findings.Severity, acct, region, arn, msg string) findings.Finding {
		return findings.Finding{ID: id, RuleID: rule, Severity: sev, Title: "A finding of the earlier scan", Message: msg, AccountID: acct, Region: region,
			ResourceType: findings.ResourceTaskDefinition, ResourceARN: arn, TaskDefinitionARN: arn, Remediation: "-",
			Impact: findings.Impact{Summary: "1 task definition", Resources: map[string]int{findings.ResourceTaskDefinition: 1}, Items: 1},
			Fix:    findings.Fix{Layer: findings.FixTaskDefinition, Summary: "-"}}
	}
	kept = append(kept,
		gone("f-fixed-1", "T001", findings.Critical, acctA, "eu-west-1", tdARN(acctA, "eu-west-1", "old", 1), "old:1 could not read its secret"),
		gone("f-unknown-1", "T003", findings.High, acctB, "eu-west-1", tdARN(acctB, "eu-west-1", "ledger", 4), "ledger:4 needed an attribute"),
		gone("f-unknown-2", "T001", findings.Critical, acctC, "us-east-1", tdARN(acctC, "us-east-1", "etl", 9), "etl:9 could not read its secret"))
	base.Findings = kept
	base.Summary = summarize(base)
	var b bytes.Buffer
	if err := WriteJSON(&b, base); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// triagedResult is sampleResult with sampleSuppressions applied and
// compared with sampleBaseline, as audit scan --suppressions --baseline
// does.
func triagedResult() *findings.Result {
	res := triage.Apply(sampleResult(), sampleSuppressions(), fixedTime)
	base, err := triage.ParseBaseline(sampleBaseline())
	if err != nil {
		panic(err)
	}
	base.Source = "baseline/findings.json"
	return triage.Compare(res, base)
}

var (
	sevCycle  = []findings.Severity{findings.Critical, findings.High, findings.High, findings.Medium, findings.Medium, findings.Medium, findings.Low, findings.Low, findings.Info}
	bigRegion = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}
)

// bigImpact counts what a finding of bigResult affects, as findings does.
func bigImpact(f *findings.Finding) findings.Impact {
	im := findings.Impact{Resources: map[string]int{f.ResourceType: 1}, Items: 1}
	for _, a := range f.Affected {
		im.Resources[a.Type]++
	}
	ev := &f.Evidence
	switch {
	case len(ev.Needs) > 0:
		im.Items, im.ItemKind = len(ev.Needs), findings.ItemNeed
	case len(ev.Constraints) > 0:
		im.Items, im.ItemKind = len(ev.Constraints), findings.ItemConstraint
	case len(ev.Features) > 0:
		im.Items, im.ItemKind = len(ev.Features), findings.ItemFeature
	case len(ev.Excess) > 0:
		im.Items, im.ItemKind = len(ev.Excess), findings.ItemGrant
	}
	one, many := resourceNoun(f.ResourceType)
	im.Summary = countOf(1, one, many)
	var others []string
	for _, typ := range resourceTypeOrder {
		if k := im.Resources[typ]; typ != f.ResourceType && k > 0 {
			one, many := resourceNoun(typ)
			others = append(others, countOf(k, one, many))
		}
	}
	if len(others) > 0 {
		im.Summary += " × " + strings.Join(others, ", ")
	}
	if im.ItemKind != "" {
		one, many := itemNoun(im.ItemKind)
		im.Summary += "; " + countOf(im.Items, one, many)
	}
	return im
}

// bigResult is a synthetic Result of n root-cause findings with realistic
// evidence across 200 accounts and 6 regions: task definitions whose
// needs an SCP denies (one to three needs, affecting a service), roles with
// excess grants (affecting their task definition), container instances
// with unmet constraints (affecting three task definitions), needs that
// depend on a condition key, and services on an old platform.
func bigResult(n int) *findings.Result {
	res := sampleResult()
	res.Findings = make([]findings.Finding, 0, n)
	res.Scope.Accounts = nil
	for a := 0; a < 200; a++ {
		res.Scope.Accounts = append(res.Scope.Accounts, findings.AccountRef{ID: fmt.Sprintf("%012d", 100000000000+a), Name: fmt.Sprintf("team-%03d-prod", a)})
	}
	res.Scope.Regions = bigRegion
	rules := testCatalog()
	deny := &policy.Result{Decision: policy.ExplicitDeny, DecidingLayer: policy.LayerSCP, Level: 1,
		Reason:     `explicit Deny in SCP level 1 (policy deny-secrets (p-deny), statement 0 "DenyOutsideOrg")`,
		Statements: []policy.StatementRef{{Layer: policy.LayerSCP, Level: 1, Policy: "deny-secrets (p-deny)", Sid: "DenyOutsideOrg", Effect: "Deny"}}}
	indet := &policy.Result{Decision: policy.Indeterminate, Reason: "depends on aws:SourceVpce",
		UnknownKeys: []policy.UnknownKey{{Key: "aws:SourceVpce", Statements: []policy.StatementRef{{Layer: policy.LayerIdentity, Policy: "inline:vpce", Index: 0, Effect: "Allow", Conditional: true}}}},
		Outcomes:    &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
	scp := &findings.FixTarget{Type: findings.TargetSCP, ID: "p-deny", Name: "deny-secrets", Statement: "DenyOutsideOrg",
		AttachedTo: &findings.OrgNode{ID: "ou-big-prod", Name: "Production", Type: inventory.NodeOU}}
	lpRole := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Sid":"Secrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:100000000000:secret:svc/db-password-*"}]}`)
	for i := 0; i < n; i++ {
		acct := res.Scope.Accounts[i%200]
		region := bigRegion[(i/200)%len(bigRegion)]
		family := fmt.Sprintf("svc-%04d", (i/7)%5000)
		rev := 1 + i%9
		td := tdARN(acct.ID, region, family, rev)
		tdName := fmt.Sprintf("%s:%d", family, rev)
		role := roleARN(acct.ID, family+"-exec")
		service := fmt.Sprintf("arn:aws:ecs:%s:%s:service/cluster-%d/%s", region, acct.ID, i%11, family)
		r := rules[i%5]
		f := findings.Finding{
			ID: fmt.Sprintf("%s-%016x", r.ID, uint64(i)*0x9E3779B97F4A7C15), RuleID: r.ID, Severity: sevCycle[i%len(sevCycle)], Title: r.Title,
			AccountID: acct.ID, AccountName: acct.Name, Region: region, Remediation: r.Remediation,
			ResourceType: findings.ResourceTaskDefinition, ResourceARN: td, TaskDefinitionARN: td, RoleARN: role, Container: "app",
			Evidence: findings.Evidence{Facts: map[string]string{"launchType": "FARGATE", "platformVersion": "1.4.0"}},
		}
		f.MemberIDs = []string{f.ID}
		switch r.ID {
		case "T001": // needs an SCP denies
			k := 1 + i%3
			for j := 0; j < k; j++ {
				secret := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s/db-password-%06d-%d", region, acct.ID, family, i, j)
				f.Evidence.Needs = append(f.Evidence.Needs, findings.NeedEvidence{Need: findings.Need{Feature: findings.FeatureSecretsManager,
					Action: "secretsmanager:GetSecretValue", Resource: secret, Container: "app",
					FieldPath: fmt.Sprintf("containerDefinitions[0].secrets[%d].valueFrom", j), ServedBy: findings.ServedByExecutionRole},
					Severity: f.Severity, Decision: deny})
			}
			f.Evidence.Need, f.Evidence.Decision = &f.Evidence.Needs[0].Need, deny
			f.Message = fmt.Sprintf("%s container app cannot call secretsmanager:GetSecretValue on %d secrets: statement DenyOutsideOrg of SCP deny-secrets denies it", tdName, k)
			f.Affected = []findings.ResourceRef{{Type: findings.ResourceService, ARN: service, Name: family}}
			f.Fix = findings.Fix{Layer: findings.FixSCP, Target: scp,
				Summary: "Statement DenyOutsideOrg of SCP deny-secrets, attached to OU Production, denies secretsmanager:GetSecretValue; no grant to role " + family + "-exec can override it.",
				Steps:   []string{"Move the secrets to an account the policy permits.", "Or ask for an exception in that statement."}}
		case "T002": // excess grants
			f.ResourceType, f.ResourceARN, f.TaskDefinitionARN, f.Container, f.Region = findings.ResourceRole, role, "", "", ""
			f.Evidence.Excess = []findings.ExcessGrant{
				{Policy: "arn:aws:iam::aws:policy/AdministratorAccess", Statement: "#0", Kind: findings.ExcessAdministrator, Action: "*", Resource: "*", Reason: "grants every action", Severity: findings.High},
				{Policy: "inline:legacy", Statement: "LegacyS3", Kind: findings.ExcessUnrelatedService, Action: "s3:*", Resource: "*", Reason: "no need uses S3", Severity: findings.Medium},
			}
			f.Message = fmt.Sprintf("Role %s-exec grants * on * and s3:* on * beyond the needs of its task definition", family)
			f.Affected = []findings.ResourceRef{{Type: findings.ResourceTaskDefinition, ARN: td, Name: tdName}}
			f.Fix = findings.Fix{Layer: findings.FixIdentity, Target: &findings.FixTarget{Type: findings.ResourceRole, ARN: role, Name: family + "-exec"},
				Summary:         "Replace the identity policies of role " + family + "-exec by the least-privilege policy.",
				SuggestedPolicy: lpRole, SuggestedPolicyLayer: findings.FixIdentity, SuggestedPolicyTarget: "the identity policies of role " + role + " (replacing them)"}
			f.Evidence.SuggestedPolicy = lpRole
		case "T003": // a container instance
			instance := fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/cluster-%d/%032x", region, acct.ID, i%11, i)
			f.ResourceType, f.ResourceARN, f.TaskDefinitionARN, f.RoleARN, f.Container = findings.ResourceContainerInstance, instance, "", "", ""
			var names []string
			for j := 0; j < 3; j++ {
				other := fmt.Sprintf("%s-%d:%d", family, j, rev)
				names = append(names, other)
				f.Affected = append(f.Affected, findings.ResourceRef{Type: findings.ResourceTaskDefinition, ARN: tdARN(acct.ID, region, family+"-"+itoa(j), rev), Name: other})
			}
			f.Evidence.Constraints = []findings.Constraint{
				{RuleID: "T003", Feature: "task execution role", Minimum: "1.16.0", FieldPath: "executionRoleArn", Source: "ECS Developer Guide", TaskDefinitions: names, Severity: findings.High},
				{RuleID: "T003", Attribute: "ecs.capability.execution-role-awslogs", Source: "derived from the task definition", TaskDefinitions: names[:1], Severity: findings.High},
			}
			f.Message = fmt.Sprintf("Container instance %032x cannot take the tasks of 3 task definitions: its agent 1.15.0 is older than 1.16.0", i)
			f.Fix = findings.Fix{Layer: findings.FixContainerInstance, Target: &findings.FixTarget{Type: findings.ResourceContainerInstance, ARN: instance},
				Summary: "Update the container agent to 1.16.0 or later and set ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true.",
				Steps:   []string{"Update the container agent (UpdateContainerAgent).", "Set ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true in /etc/ecs/ecs.config."}}
		case "T004": // a condition key
			param := fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s/db-%06d", region, acct.ID, family, i)
			f.Evidence.Needs = []findings.NeedEvidence{{Need: findings.Need{Feature: findings.FeatureSSMParameter, Action: "ssm:GetParameters", Resource: param,
				Container: "app", FieldPath: "containerDefinitions[0].secrets[0].valueFrom", ServedBy: findings.ServedByExecutionRole}, Severity: f.Severity, Decision: indet}}
			f.Evidence.Need, f.Evidence.Decision = &f.Evidence.Needs[0].Need, indet
			f.Evidence.Unknowns = []findings.Unknown{{Kind: findings.UnknownConditionKeys, Subject: "aws:SourceVpce", Description: "the VPC endpoint of the call is not known",
				Settle: "Confirm that the task reaches SSM through the VPC endpoint the policy names."}}
			f.Message = fmt.Sprintf("ssm:GetParameters on %s depends on aws:SourceVpce", param)
			f.Fix = findings.Fix{Layer: findings.FixConfirm, Target: &findings.FixTarget{Type: findings.ResourceRole, ARN: role, Name: family + "-exec"},
				Summary: "Confirm that the task reaches SSM through the VPC endpoint the policy names."}
		default: // T005, a service on an old platform
			f.ResourceType, f.ResourceARN, f.Container, f.RoleARN = findings.ResourceService, service, "", ""
			f.Evidence.Features = []findings.FeatureGap{{Feature: "EFS volumes", FieldPath: "volumes[0].efsVolumeConfiguration", OS: "Linux",
				PlatformVersion: "1.3.0", Minimum: "1.4.0", Source: "Fargate platform versions", Severity: f.Severity}}
			f.Message = fmt.Sprintf("Service %s uses platform version 1.3.0, which does not serve EFS volumes", family)
			f.Affected = []findings.ResourceRef{{Type: findings.ResourceTaskDefinition, ARN: td, Name: tdName}}
			f.Fix = findings.Fix{Layer: findings.FixService, Target: &findings.FixTarget{Type: findings.ResourceService, ARN: service, Name: family},
				Summary: "Run service " + family + " on platform version 1.4.0 or LATEST."}
		}
		f.Impact = bigImpact(&f)
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
