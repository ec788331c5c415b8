package findings

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// Remediation from the deciding layer (issue 9 §2): one case per layer that
// can decide, with where the fix goes, what it targets, and whether a
// suggested policy comes with it.

const (
	denyDbSecret = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"},` +
		`{"Sid":"NoDb","Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:db-*"}]}`
	dbSecret = smBase + "db-AbCdEf"
	// an SCP that denies every region but eu-west-1
	denyRegions = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideEU","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*",` +
		`"Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}`
)

type fixCase struct {
	name  string
	setup func(w *tw)
	rule  string
	layer FixLayer
	// target type and, when set, its statement
	target, statement string
	// suggested: a suggested policy comes with the fix
	suggested bool
	contains  []string // in the fix's text (summary and steps)
}

func TestFixByDecidingLayer(t *testing.T) {
	cases := []fixCase{
		{"identity grants nothing", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withSecret("X", "/app/x")))
		}, "ER004", FixIdentity, ResourceRole, "", true, []string{"Add the suggested statements to an identity policy of role arn:aws:iam::111122223333:role/exec"}},
		{"explicit Deny in an inline policy", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", denyDbSecret), "FARGATE", ctr("c", "nginx", withSecret("X", dbSecret)))
		}, "ER004", FixIdentity, TargetInlinePolicy, "NoDb", false, []string{`Statement "NoDb" of inline policy p denies`, "cannot override an explicit Deny"}},
		{"explicit Deny in a managed policy", func(w *tw) {
			arn := w.role("exec", ecsTrust, true)
			w.managed("arn:aws:iam::111122223333:policy/no-db", denyDbSecret)
			w.acct.IAM.Roles[0].AttachedPolicies = append(w.acct.IAM.Roles[0].AttachedPolicies, "arn:aws:iam::111122223333:policy/no-db")
			w.td("app", arn, "FARGATE", ctr("c", "nginx", withSecret("X", dbSecret)))
		}, "ER004", FixIdentity, ResourcePolicy, "NoDb", false, []string{"managed policy arn:aws:iam::111122223333:policy/no-db"}},
		{"the boundary allows nothing of it", func(w *tw) {
			arn := w.role("exec", ecsTrust, true)
			w.managed("arn:aws:iam::111122223333:policy/boundary", allowDoc(`"ecr:*"`, `"*"`))
			w.acct.IAM.Roles[0].PermissionsBoundary = "arn:aws:iam::111122223333:policy/boundary"
			w.td("app", arn, "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, "ER004", FixBoundary, ResourcePolicy, "", true, []string{"permissions boundary arn:aws:iam::111122223333:policy/boundary"}},
		{"explicit Deny in the boundary", func(w *tw) {
			arn := w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`))
			w.managed("arn:aws:iam::111122223333:policy/boundary", denyDbSecret)
			w.acct.IAM.Roles[0].PermissionsBoundary = "arn:aws:iam::111122223333:policy/boundary"
			w.td("app", arn, "FARGATE", ctr("c", "nginx", withSecret("X", dbSecret)))
		}, "ER004", FixBoundary, ResourcePolicy, "NoDb", false, []string{`Statement "NoDb" of permissions boundary`}},
		{"explicit Deny in an SCP", func(w *tw) {
			w.inOrg(denyRegions)
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, "ER004", FixSCP, TargetSCP, "DenyOutsideEU", false, []string{"attached to OU ou-test", "no grant to role", "Use what the policy permits", "awslogs-region", "exception in that statement"}},
		{"no Allow in an SCP level", func(w *tw) {
			w.inOrg(allowDoc(`"ecr:*"`, `"*"`))
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, "ER004", FixSCP, TargetSCP, "", false, []string{"No SCP attached to OU ou-test allows", "allow list", "to allow logs:CreateLogStream and logs:PutLogEvents"}},
		{"explicit Deny in an RCP", func(w *tw) {
			w.inOrg(allowDoc(`"*"`, `"*"`))
			org := w.inv.Organization
			org.RCPsEnabled = true
			org.Policies["r-full"] = &inventory.OrgPolicy{ID: "r-full", Name: "RCPFullAWSAccess", Type: inventory.PolicyTypeRCP,
				Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`}
			org.Policies["r-deny"] = &inventory.OrgPolicy{ID: "r-deny", Name: "no-db", Type: inventory.PolicyTypeRCP,
				Document: `{"Version":"2012-10-17","Statement":[{"Sid":"NoDbSecrets","Effect":"Deny","Principal":"*","Action":"secretsmanager:*","Resource":"*"}]}`}
			for i := range w.acct.Path {
				w.acct.Path[i].RCPs = []string{"r-full"}
			}
			w.acct.Path[1].RCPs = append(w.acct.Path[1].RCPs, "r-deny")
			w.reg.Secrets = []*inventory.Secret{{ARN: dbSecret, Name: "db", ResourcePolicyStatus: inventory.PolicyNone}}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", dbSecret)))
		}, "ER004", FixRCP, TargetRCP, "NoDbSecrets", false, []string{"RCP no-db (r-deny)", "no grant to role"}},
		{"the key policy neither allows nor delegates", func(w *tw) {
			key := "arn:aws:kms:us-east-1:111122223333:key/k1"
			w.reg.Secrets = []*inventory.Secret{{ARN: dbSecret, Name: "db", KMSKeyID: key, ResourcePolicyStatus: inventory.PolicyNone}}
			w.reg.KMSKeys = []*inventory.KMSKey{{ARN: key, KeyID: "k1", Manager: "CUSTOMER", PolicyStatus: inventory.PolicyCollected,
				Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]}`}}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["secretsmanager:GetSecretValue","kms:Decrypt"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", dbSecret)))
		}, "ER004", FixResourcePolicy, TargetResource, "", true, []string{"the key policy of KMS key arn:aws:kms:us-east-1:111122223333:key/k1"}},
		{"a cross-account secret's policy does not share it", func(w *tw) {
			w.otherAccount([]*inventory.Secret{{ARN: otherSecret, Name: "shared", KMSKeyID: otherKey, ResourcePolicyStatus: inventory.PolicyCollected,
				ResourcePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`}},
				nil, []*inventory.KMSKey{{ARN: otherKey, KeyID: "k1", Manager: "CUSTOMER", Policy: shareDoc, PolicyStatus: inventory.PolicyCollected}})
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["secretsmanager:GetSecretValue","kms:Decrypt"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", otherSecret)))
		}, "ER004", FixResourcePolicy, TargetResource, "", true, []string{"the resource policy of secret " + otherSecret}},
		{"a cross-account secret has no resource policy", func(w *tw) {
			w.otherAccount([]*inventory.Secret{{ARN: otherSecret, Name: "shared", KMSKeyID: otherKey, ResourcePolicyStatus: inventory.PolicyNone}},
				nil, []*inventory.KMSKey{{ARN: otherKey, KeyID: "k1", Manager: "CUSTOMER", Policy: shareDoc, PolicyStatus: inventory.PolicyCollected}})
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["secretsmanager:GetSecretValue","kms:Decrypt"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", otherSecret)))
		}, "ER004", FixResourcePolicy, TargetResource, "", true, []string{"Attach a resource policy to " + otherSecret}},
		{"explicit Deny in the secret's own policy", func(w *tw) {
			w.reg.Secrets = []*inventory.Secret{{ARN: dbSecret, Name: "db", ResourcePolicyStatus: inventory.PolicyCollected,
				ResourcePolicy: `{"Version":"2012-10-17","Statement":[{"Sid":"Lockdown","Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`}}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", dbSecret)))
		}, "ER004", FixResourcePolicy, TargetResource, "Lockdown", false, []string{`Statement "Lockdown" of the resource policy of secret`}},
		{"a cross-account repository policy does not let the role pull", func(w *tw) {
			repo(w.resolved().other(), otherAcct, "base/python", repoPolicyFor("arn:aws:iam::111122223333:role/other"), map[string]string{"3.12": inventory.Exists})
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, "ER004", FixResourcePolicy, TargetResource, "", true, []string{"Add the suggested statement to the repository policy of " + otherRepoARN}},
		{"a cross-account repository has no policy", func(w *tw) {
			repo(w.resolved().other(), otherAcct, "base/python", "", map[string]string{"3.12": inventory.Exists})
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, "ER004", FixResourcePolicy, TargetResource, "", true, []string{"Give repository " + otherRepoARN + " (account 444455556666) a repository policy"}},
		{"a cross-account registry policy does not let the role import through the cache", func(w *tw) {
			o := w.resolved().other()
			cacheRules(o, `{"Version":"2012-10-17","Statement":[{"Sid":"Ptc","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/other"},`+
				`"Action":["ecr:BatchImportUpstreamImage","ecr:CreateRepository"],"Resource":"arn:aws:ecr:us-east-1:444455556666:repository/docker-hub/*"}]}`)
			repo(o, otherAcct, "docker-hub/library/nginx", repoPolicyFor(execRole), map[string]string{"1.27": inventory.DoesNotExist})
			w.td("app", w.role("exec", ecsTrust, true, "ptc", ptcIdentity), "FARGATE", ctr("c", otherImg("docker-hub/library/nginx:1.27")))
		}, "ER004", FixResourcePolicy, TargetRegistry, "", true, []string{"Add the suggested statement to the registry policy of account 444455556666 (us-east-1)"}},
		{"explicit Deny in a bucket policy", func(w *tw) {
			w.resolved().bucket("cfg", tAcct, `{"Version":"2012-10-17","Statement":[{"Sid":"Lockdown","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cfg/*"}]}`,
				map[string]string{"app.env": inventory.Exists})
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE", ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, "ER004", FixResourcePolicy, TargetResource, "Lockdown", false, []string{`Statement "Lockdown" of the bucket policy of arn:aws:s3:::cfg denies`}},
		{"a missing log group", func(w *tw) {
			logGroup(w.resolved().reg, "/ecs/app", inventory.DoesNotExist)
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, "RS001", FixResource, TargetResource, "", false, []string{"Create log group /ecs/app in account 111122223333, us-east-1", "awslogs-create-group", "logs:CreateLogGroup"}},
		{"a missing cross-account repository", func(w *tw) {
			o := w.resolved().other()
			o.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyCollected, PolicyStatus: inventory.PolicyNotCollected}
			missingRepo(o, "base/python")
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, "RS001", FixResource, TargetResource, "", true, []string{"Create repository base/python in account 444455556666", "give it a repository policy with the suggested statement"}},
		{"a reference that cannot work", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withSecret("X", "arn:aws:s3:::bucket/x")))
		}, "ER004", FixTaskDefinition, ResourceTaskDefinition, "", false, []string{"Correct the reference at containerDefinitions[0].secrets[0].valueFrom"}},
		{"unknown: a condition key in the identity policy", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},`+
				`{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`),
				"FARGATE", ctr("c", ecrImg("app:1")))
		}, "ER005", FixConfirm, ResourceRole, "", true, []string{"VPC endpoint", "vpcEndpointId", "Or make it certain"}},
		{"unknown: a cross-account resource policy not collected", func(w *tw) {
			w.otherAccount([]*inventory.Secret{{ARN: otherSecret, Name: "shared", ResourcePolicyStatus: inventory.PolicyNotCollected}}, nil, nil)
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", otherSecret)))
		}, "ER005", FixConfirm, ResourceRole, "", false, []string{"secretsmanager:GetResourcePolicy", "account 444455556666"}},
		{"unknown: SCPs not collected", func(w *tw) {
			w.inOrg(allowDoc(`"*"`, `"*"`))
			w.acct.Path[1].SCPs = nil
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("a:1")))
		}, "ER005", FixConfirm, ResourceRole, "", false, []string{"organizations:ListPoliciesForTarget"}},
		{"unknown: the key policy conditions on aws:ViaAWSService", func(w *tw) {
			key := "arn:aws:kms:us-east-1:111122223333:key/k1"
			w.reg.Secrets = []*inventory.Secret{{ARN: dbSecret, Name: "db", KMSKeyID: key, ResourcePolicyStatus: inventory.PolicyNone}}
			w.reg.KMSKeys = []*inventory.KMSKey{{ARN: key, KeyID: "k1", Manager: "CUSTOMER", PolicyStatus: inventory.PolicyCollected,
				Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":"true"}}}]}`}}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["secretsmanager:GetSecretValue","kms:Decrypt"]`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", dbSecret)))
		}, "ER005", FixConfirm, ResourceRole, "", false, []string{"invokedBy"}}, // an identity grant cannot settle a condition in the key policy
		{"agent too old, awslogs capability missing", func(w *tw) {
			w.instance(ec2World(w), "i-1", "1.15.0", "com.amazonaws.ecs.capability.ecr-auth")
		}, "AG001", FixContainerInstance, ResourceContainerInstance, "", false,
			[]string{"update the container agent to 1.22.0 or later", "ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true in /etc/ecs/ecs.config"}},
		{"platform version too old", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withSecret("X", "/x")))
			td.ContainerDefinitions[0].EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg/a.env", Type: "s3"}}
			w.service(w.cluster("c"), "svc", "FARGATE", "1.2.0", td)
		}, "FG001", FixService, ResourceService, "", false, []string{"platform version 1.4.0 or later"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			c.setup(w)
			r := w.eval(t)
			got := byRule(r, c.rule)
			if len(got) != 1 {
				t.Fatalf("%d %s findings, want 1: %+v", len(got), c.rule, got)
			}
			f := got[0]
			fix := f.Fix
			if fix.Layer != c.layer || fix.Target == nil || fix.Target.Type != c.target || fix.Target.Statement != c.statement {
				t.Errorf("fix %s on %+v, want %s on %s statement %q", fix.Layer, fix.Target, c.layer, c.target, c.statement)
			}
			if (len(fix.SuggestedPolicy) > 0) != c.suggested {
				t.Errorf("suggested policy %s, want one: %v", fix.SuggestedPolicy, c.suggested)
			}
			for _, s := range c.contains {
				if !strings.Contains(fix.text(), s) {
					t.Errorf("fix lacks %q:\n%s", s, fix.text())
				}
			}
			if f.Remediation != fix.text() {
				t.Errorf("remediation %q is not the fix's text", f.Remediation)
			}
			if fix.Layer == FixSCP || fix.Layer == FixRCP {
				noIdentityOnlyFix(t, f)
			}
			provedFix(t, w.inv, r, f)
		})
	}
}

// A fix in one layer that another layer would still block says so.
func TestFixSaysWhatElseBlocks(t *testing.T) {
	w := newTW()
	arn := w.role("exec", ecsTrust, true)
	w.managed("arn:aws:iam::111122223333:policy/boundary", allowDoc(`"ecr:*"`, `"*"`))
	w.acct.IAM.Roles[0].PermissionsBoundary = "arn:aws:iam::111122223333:policy/boundary"
	w.td("app", arn, "FARGATE", ctr("c", "nginx", withSecret("X", "/app/x")))
	r := w.eval(t)
	check(t, r, "ER004", 1, Critical, "no identity policy of the role allows it")
	fix := byRule(r, "ER004")[0].Fix
	if fix.Layer != FixIdentity || len(fix.Steps) != 1 || !strings.Contains(fix.Steps[0], "is still denied") || !strings.Contains(fix.Steps[0], "permissions boundary") {
		t.Errorf("the identity fix does not say that the boundary still blocks: %+v", fix)
	}
}

// noIdentityOnlyFix: where an SCP or RCP decides, the fix offers nothing a
// grant to the role could do: no suggested policy, no step that adds one.
func noIdentityOnlyFix(t *testing.T, f Finding) {
	t.Helper()
	if len(f.Fix.SuggestedPolicy) > 0 || len(f.Evidence.SuggestedPolicy) > 0 {
		t.Errorf("an %s denial comes with a suggested policy:\n%s", f.Fix.Layer, f.Fix.SuggestedPolicy)
	}
	text := strings.ToLower(f.Fix.text())
	for _, bad := range []string{"identity policy", "add the suggested", "grant the action"} {
		if strings.Contains(text, bad) {
			t.Errorf("an %s denial's fix suggests an identity grant (%q): %s", f.Fix.Layer, bad, f.Fix.text())
		}
	}
	if f.Fix.Target == nil || f.Fix.Target.AttachedTo == nil || f.Fix.Target.AttachedTo.ID == "" {
		t.Errorf("the fix does not say where the policy is attached: %+v", f.Fix.Target)
	}
}

// Every suggested policy of the demo organization's findings fixes what it
// is for and grants nothing beyond it.
func TestDemoSuggestedPoliciesAreProved(t *testing.T) {
	inv, res := demoResult(t)
	proved := 0
	for _, f := range res.Findings {
		if len(f.Fix.SuggestedPolicy) == 0 {
			continue
		}
		if provedFix(t, inv, res, f) {
			proved++
		}
	}
	if proved < 10 {
		t.Errorf("only %d suggested policies of the demo were proved", proved)
	}
}

// provedFix checks a finding's suggested policy: it grants only what the
// finding needs (for a resource policy, to the role only), and, put where
// the fix says it goes in a copy of the inventory, the finding and every
// need it lists are gone. It reports whether there was a policy to prove.
func provedFix(t *testing.T, inv *inventory.Inventory, res *Result, f Finding) bool {
	t.Helper()
	doc := f.Fix.SuggestedPolicy
	if len(doc) == 0 {
		return false
	}
	if f.Fix.SuggestedPolicyTarget == "" || f.Fix.SuggestedPolicyLayer == "" {
		t.Errorf("%s %s: a suggested policy without a place to go", f.RuleID, f.ID)
	}
	if string(doc) != string(f.Evidence.SuggestedPolicy) {
		t.Errorf("%s %s: evidence.suggestedPolicy differs from fix.suggestedPolicy", f.RuleID, f.ID)
	}
	grantsOnlyNeeds(t, res, f)
	if f.RuleID == "ER001" {
		return true // the policy of a role that does not exist yet
	}
	copyInv := cloneInventory(t, inv)
	applyFix(t, copyInv, f)
	after := Evaluate(copyInv, Options{ToolVersion: "test"})
	for _, g := range after.Findings {
		if g.ID == f.ID {
			t.Errorf("%s %s is still reported with its suggested policy applied: %s", f.RuleID, f.ID, g.Message)
			continue
		}
		if g.TaskDefinitionARN != f.TaskDefinitionARN || (g.RuleID != "ER004" && g.RuleID != "ER005") {
			continue
		}
		for _, n := range f.Evidence.Needs {
			for _, m := range g.Evidence.Needs {
				if n.Action == m.Action && n.Resource == m.Resource && n.FieldPath == m.FieldPath {
					t.Errorf("%s %s: with its suggested policy applied, %s on %s is still %s: %s", f.RuleID, f.ID, n.Action, n.Resource, g.RuleID, g.Message)
				}
			}
		}
	}
	return true
}

// grantsOnlyNeeds: every action × resource a suggested policy allows is
// one of the finding's needs (ER006: of the role's needs); a resource
// policy names the role and nothing else.
func grantsOnlyNeeds(t *testing.T, res *Result, f Finding) {
	t.Helper()
	if f.Fix.SuggestedPolicyLayer == FixTrustPolicy {
		return // a trust policy: proved by the trust decision
	}
	var needs []Need
	for _, n := range f.Evidence.Needs {
		needs = append(needs, n.Need)
	}
	if f.RuleID == "ER006" {
		for _, r := range res.Roles {
			if r.RoleARN == f.RoleARN {
				needs = r.Needs
			}
		}
	}
	allowed := map[string]bool{}
	for _, n := range needs {
		for _, r := range policyResources(n) {
			allowed[strings.ToLower(n.Action)+" "+r] = true
		}
	}
	// NW001: the endpoint lets the image layers through, whoever signs.
	layers := f.RuleID == "NW001"
	if layers {
		allowed = map[string]bool{"s3:getobject " + f.Evidence.Facts["bucket"] + "/*": true}
	}
	var doc struct {
		Statement []struct {
			Effect    string
			Principal json.RawMessage
			Action    json.RawMessage
			Resource  json.RawMessage
		}
	}
	if err := json.Unmarshal(f.Fix.SuggestedPolicy, &doc); err != nil {
		t.Fatalf("%s %s: suggested policy: %v", f.RuleID, f.ID, err)
	}
	rp := f.Fix.SuggestedPolicyLayer == FixResourcePolicy || (f.Fix.SuggestedPolicyLayer == FixVPCEndpoint && !layers)
	keyPolicy := rp && strings.Contains(f.Fix.Target.ARN, ":kms:")
	// A repository policy names no Resource: its statements apply to the
	// repository itself, which must then be the resource of the needs.
	repoPolicy := rp && strings.Contains(f.Fix.Target.ARN, ":ecr:")
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("%s %s: suggested statement with effect %q", f.RuleID, f.ID, s.Effect)
		}
		var principal map[string]string
		_ = json.Unmarshal(s.Principal, &principal)
		if rp && (len(principal) != 1 || principal["AWS"] != f.RoleARN) {
			t.Errorf("%s %s: suggested resource policy statement for %s, not the role %s", f.RuleID, f.ID, s.Principal, f.RoleARN)
		}
		resources := []string{f.Fix.Target.ARN}
		if !repoPolicy || len(s.Resource) > 0 {
			resources = oneOrList(t, s.Resource)
		}
		for _, a := range oneOrList(t, s.Action) {
			for _, r := range resources {
				ok := allowed[strings.ToLower(a)+" "+r]
				if keyPolicy && r == "*" {
					ok = false
					for _, n := range needs {
						ok = ok || (n.Action == a && n.Resource == f.Fix.Target.ARN)
					}
				}
				if !ok {
					t.Errorf("%s %s: the suggested policy grants %s on %s, which is not a need", f.RuleID, f.ID, a, r)
				}
			}
		}
	}
}

func oneOrList(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return list
}

func cloneInventory(t *testing.T, inv *inventory.Inventory) *inventory.Inventory {
	t.Helper()
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	var out inventory.Inventory
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// applyFix puts a finding's suggested policy where its fix says it goes.
func applyFix(t *testing.T, inv *inventory.Inventory, f Finding) {
	t.Helper()
	doc := string(f.Fix.SuggestedPolicy)
	target := f.Fix.Target
	switch f.Fix.SuggestedPolicyLayer {
	case FixIdentity:
		role := findRole(t, inv, target.ARN)
		if f.RuleID == "ER006" { // replacing the role's policies
			role.InlinePolicies, role.AttachedPolicies = nil, nil
		}
		role.InlinePolicies = append(role.InlinePolicies, inventory.InlinePolicy{Name: "suggested", Document: doc})
	case FixTrustPolicy:
		role := findRole(t, inv, target.ARN)
		role.TrustPolicy = mergeDoc(t, role.TrustPolicy, doc)
	case FixBoundary:
		for _, a := range inv.Accounts {
			for _, p := range a.IAM.ManagedPolicies {
				if p.ARN == target.ARN {
					p.Document = mergeDoc(t, p.Document, doc)
				}
			}
		}
	case FixResourcePolicy:
		found := false
		if f.RuleID == "RS001" {
			// Create the missing resource, with the suggested policy.
			createMissing(t, inv, f, doc)
			return
		}
		for _, b := range inv.S3Buckets {
			if "arn:aws:s3:::"+b.Name == target.ARN {
				b.Policy, b.PolicyStatus, found = mergeDoc(t, b.Policy, doc), inventory.PolicyCollected, true
			}
		}
		for _, a := range inv.Accounts {
			for _, reg := range a.Regions {
				for _, r := range reg.ECRRepositories {
					if r.Status == inventory.Exists && "arn:aws:ecr:"+reg.Name+":"+a.ID+":repository/"+r.Name == target.ARN {
						r.Policy, r.PolicyStatus, found = mergeDoc(t, r.Policy, doc), inventory.PolicyCollected, true
					}
				}
				if g := reg.ECRRegistry; g != nil && target.Type == TargetRegistry && target.ID == a.ID && target.Name == reg.Name {
					g.Policy, g.PolicyStatus, found = mergeDoc(t, g.Policy, doc), inventory.PolicyCollected, true
				}
				for _, s := range reg.Secrets {
					if s.ARN == target.ARN {
						s.ResourcePolicy, s.ResourcePolicyStatus, found = mergeDoc(t, s.ResourcePolicy, doc), inventory.PolicyCollected, true
					}
				}
				for _, k := range reg.KMSKeys {
					if k.ARN == target.ARN {
						k.Policy, k.PolicyStatus, found = mergeDoc(t, k.Policy, doc), inventory.PolicyCollected, true
					}
				}
				for _, p := range reg.Parameters {
					if p.ARN == target.ARN {
						p.ResourcePolicy, p.ResourcePolicyStatus, found = mergeDoc(t, p.ResourcePolicy, doc), inventory.PolicyCollected, true
					}
				}
			}
		}
		if !found {
			t.Fatalf("%s: no resource %s to add the statement to", f.ID, target.ARN)
		}
	case FixVPCEndpoint:
		found := false
		for _, a := range inv.Accounts {
			for _, reg := range a.Regions {
				if reg.Network == nil {
					continue
				}
				for _, ep := range reg.Network.VPCEndpoints {
					if ep.ID == target.ID {
						ep.Policy, ep.PolicyStatus, found = mergeDoc(t, ep.Policy, doc), inventory.PolicyCollected, true
					}
				}
			}
		}
		if !found {
			t.Fatalf("%s: no VPC endpoint %s to add the statement to", f.ID, target.ID)
		}
	default:
		t.Fatalf("%s: a suggested policy for layer %q", f.ID, f.Fix.SuggestedPolicyLayer)
	}
}

// createMissing makes the resource an RS001 finding names exist, with the
// suggested policy as its resource policy.
func createMissing(t *testing.T, inv *inventory.Inventory, f Finding, doc string) {
	t.Helper()
	subject := f.Evidence.Facts["missing"]
	for _, a := range inv.Accounts {
		for _, reg := range a.Regions {
			for _, r := range reg.ECRRepositories {
				if "arn:aws:ecr:"+reg.Name+":"+a.ID+":repository/"+r.Name == subject {
					r.Status, r.ARN, r.Policy, r.PolicyStatus = inventory.Exists, subject, mergeDoc(t, r.Policy, doc), inventory.PolicyCollected
					r.Images = nil
					for _, td := range allTaskDefinitions(inv) {
						for _, c := range td.ContainerDefinitions {
							if ref, ok := inventory.ParseECRImage(c.Image); ok && ref.Repository == r.Name && ref.Registry == a.ID {
								im := ref.Image()
								im.Status = inventory.Exists
								r.Images = append(r.Images, im)
							}
						}
					}
					return
				}
			}
		}
	}
	t.Fatalf("%s: cannot create %s", f.ID, subject)
}

func allTaskDefinitions(inv *inventory.Inventory) []*inventory.TaskDefinition {
	var out []*inventory.TaskDefinition
	for _, a := range inv.Accounts {
		for _, reg := range a.Regions {
			out = append(out, reg.TaskDefinitions...)
		}
	}
	return out
}

func findRole(t *testing.T, inv *inventory.Inventory, arn string) *inventory.Role {
	t.Helper()
	for _, a := range inv.Accounts {
		if a.IAM == nil {
			continue
		}
		for _, r := range a.IAM.Roles {
			if r.ARN == arn {
				return r
			}
		}
	}
	t.Fatalf("no role %s", arn)
	return nil
}

// mergeDoc adds the statements of add to the policy document doc ("" for
// none).
func mergeDoc(t *testing.T, doc, add string) string {
	t.Helper()
	var a struct{ Statement []json.RawMessage }
	if err := json.Unmarshal([]byte(add), &a); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{"Version": "2012-10-17"}
	var stmts []json.RawMessage
	if strings.TrimSpace(doc) != "" {
		var d map[string]json.RawMessage
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if err := json.Unmarshal(d["Statement"], &stmts); err != nil {
			stmts = []json.RawMessage{d["Statement"]}
		}
	}
	out["Statement"] = append(stmts, a.Statement...)
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// When a condition key and a part of the resource are both unknown, the
// ER005 names both (issue 8 follow-up).
func TestER005NamesEveryUnknown(t *testing.T) {
	w := newTW()
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"SomeSuffixes","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + smBase + `db-Ab????",` +
		`"Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`
	w.td("app", w.role("exec", ecsTrust, true, "p", doc), "FARGATE", ctr("c", "nginx", withSecret("X", smBase+"db")))
	r := w.eval(t)
	check(t, r, "ER005", 1, Medium, "aws:SourceVpce", "unknown part of "+smBase+"db-??????")
	f := byRule(r, "ER005")[0]
	kinds := map[UnknownKind]bool{}
	for _, u := range f.Evidence.Unknowns {
		kinds[u.Kind] = true
		if u.Settle == "" || u.Description == "" {
			t.Errorf("unknown without description or settle: %+v", u)
		}
	}
	if !kinds[UnknownConditionKeys] || !kinds[UnknownResourcePart] {
		t.Errorf("unknowns %+v, want the condition key and the resource part", f.Evidence.Unknowns)
	}
	for _, s := range []string{"VPC endpoint", "secretsmanager:DescribeSecret"} {
		if !strings.Contains(f.Fix.text(), s) {
			t.Errorf("fix lacks %q: %s", s, f.Fix.text())
		}
	}
}

// The trust policy fixes (ER003, ER008) are proved by the trust decision.
func TestTrustFixesAreProved(t *testing.T) {
	for name, trust := range map[string]string{
		"ER003": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		"ER008": ecsTrust,
	} {
		t.Run(name, func(t *testing.T) {
			w := newTW()
			w.td("app", w.role("exec", trust, true), "FARGATE", ctr("c", "nginx"))
			r := w.eval(t)
			f := byRule(r, name)
			if len(f) != 1 || len(f[0].Fix.SuggestedPolicy) == 0 || f[0].Fix.Layer != FixTrustPolicy {
				t.Fatalf("%s: %+v", name, f)
			}
			provedFix(t, w.inv, r, f[0])
		})
	}
}
