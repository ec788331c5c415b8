package findings

import (
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// Regression tests for cases where a gap in what was collected, or context
// the agent's calls do not have, must not become a certain verdict.

// KMS is called by Secrets Manager on the role's behalf: a key policy that
// requires aws:ViaAWSService must not be reported as a certain denial.
func TestKMSViaAWSServiceIsNotAssumedFalse(t *testing.T) {
	w := newTW()
	key := "arn:aws:kms:us-east-1:111122223333:key/k1"
	w.reg.Secrets = []*inventory.Secret{{ARN: smBase + "db-AbCdEf", Name: "db", KMSKeyID: key}}
	w.reg.KMSKeys = []*inventory.KMSKey{{ARN: key, KeyID: "k1", Manager: "CUSTOMER",
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":"true"}}}]}`}}
	role := w.role("exec", ecsTrust, true, "p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","kms:Decrypt"],"Resource":"*"}]}`)
	w.td("app", role, "FARGATE", ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf")))
	r := w.eval(t)
	check(t, r, "ER004", 0, "")
	check(t, r, "ER005", 1, Medium, "aws:ViaAWSService")
}

// An attached policy that was not collected may grant what is missing.
func TestMissingAttachedPolicyIsIndeterminate(t *testing.T) {
	w := newTW()
	arn := w.role("exec", ecsTrust, false)
	w.acct.IAM.Roles[0].AttachedPolicies = []string{execManagedARN} // attached, not collected
	w.td("app", arn, "FARGATE", ctr("c", ecrImg("a:1")))
	r := w.eval(t)
	check(t, r, "ER004", 0, "")
	if len(byRule(r, "ER005")) == 0 || r.Coverage.Complete {
		t.Fatalf("want ER005 and an incomplete coverage; got %d ER005, complete=%v", len(byRule(r, "ER005")), r.Coverage.Complete)
	}
}

// A boundary that was not collected may block what the identity allows.
func TestMissingBoundaryIsIndeterminate(t *testing.T) {
	w := newTW()
	arn := w.role("exec", ecsTrust, true)
	w.acct.IAM.Roles[0].PermissionsBoundary = "arn:aws:iam::111122223333:policy/gone"
	w.td("app", arn, "FARGATE", ctr("c", ecrImg("a:1")))
	r := w.eval(t)
	if len(byRule(r, "ER005")) == 0 {
		t.Fatal("a grant under an uncollected boundary was reported as certain")
	}
}

// A path level whose SCPs were not collected must not deny everything, nor
// pass what it may deny.
func TestIncompleteSCPPathIsAGapNotADenial(t *testing.T) {
	w := newTW()
	w.inOrg(allowDoc(`"*"`, `"*"`))
	w.acct.Path[1].SCPs = nil // the OU's policies were not collected
	w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("a:1")))
	r := w.eval(t)
	check(t, r, "ER004", 0, "")
	check(t, r, "ER005", 1, Medium, "service control policies on the path of account 111122223333 were not all collected")
	checkItems(t, r, "ER005", 1, 4)
	if r.Coverage.Complete || !strings.Contains(strings.Join(r.Coverage.Gaps, "\n"), "service control policies") {
		t.Fatalf("no coverage gap: %v", r.Coverage.Gaps)
	}
}

// An SCP denial is not softened by the partial-ARN heuristic.
func TestPartialSecretDeniedBySCPStaysADenial(t *testing.T) {
	w := newTW()
	w.inOrg(allowDoc(`["ecr:*","logs:*"]`, `"*"`))
	w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"`+smBase+`db-AbCdEf"`)), "FARGATE",
		ctr("c", "nginx", withSecret("X", smBase+"db")))
	r := w.eval(t)
	check(t, r, "ER004", 1, Critical, "SCP")
}

// A service whose task definition was not collected is a coverage gap.
func TestServiceWithUncollectedTaskDefinitionIsAGap(t *testing.T) {
	w := newTW()
	c := w.cluster("c")
	c.Services = append(c.Services, &inventory.Service{ARN: "arn:aws:ecs:us-east-1:111122223333:service/c/s", Name: "s",
		TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/gone:3"})
	r := w.eval(t)
	if r.Coverage.Complete || !strings.Contains(strings.Join(r.Coverage.Gaps, "\n"), "gone:3") {
		t.Fatalf("gaps: %v", r.Coverage.Gaps)
	}
}

// One bucket's objects is not "every S3 object of every workload".
func TestS3BucketWildcardIsNotBroad(t *testing.T) {
	for r, want := range map[string]bool{"arn:aws:s3:::cfg/*": false, "arn:aws:s3:::*/*": true, "arn:aws:s3:::cfg-*/*": true, "*": true,
		"arn:aws:secretsmanager:us-east-1:1:secret:*": true, "arn:aws:ssm:us-east-1:1:parameter/app/*": false} {
		if broadResource(r) != want {
			t.Errorf("broadResource(%q) != %v", r, want)
		}
	}
}

// An unresolved secret name ending like a suffix may be a partial ARN.
func TestAmbiguousSecretSuffix(t *testing.T) {
	w := newTW()
	w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"`+smBase+`prod/app-secret-??????"`)), "FARGATE",
		ctr("c", "nginx", withSecret("X", smBase+"prod/app-secret")))
	r := w.eval(t)
	check(t, r, "ER004", 0, "")
	check(t, r, "ER005", 1, Medium, "partial ARN")
}

// A cross-account secret under aws/secretsmanager cannot be decrypted (§1.6).
func TestCrossAccountSecretWithAWSManagedKey(t *testing.T) {
	w := newTW()
	other := &inventory.Account{ID: "444455556666", IAM: &inventory.IAM{}, Regions: []*inventory.Region{{Name: tRegion, Status: inventory.RegionScanned,
		Secrets: []*inventory.Secret{{ARN: "arn:aws:secretsmanager:us-east-1:444455556666:secret:shared-AbCdEf", Name: "shared",
			ResourcePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`}}}}}
	w.inv.Accounts = append(w.inv.Accounts, other)
	w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE",
		ctr("c", "nginx", withSecret("X", "arn:aws:secretsmanager:us-east-1:444455556666:secret:shared-AbCdEf")))
	r := w.eval(t)
	check(t, r, "ER004", 1, Critical, "aws/secretsmanager")
}

// A secret value pasted into valueFrom is never repeated in the output.
func TestSecretLookingValueFromIsNotRepeated(t *testing.T) {
	w := newTW()
	leak := "AKIAABCDEFGHIJKLMNOP"
	w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withSecret("X", leak)))
	r := w.eval(t)
	check(t, r, "ER004", 1, Critical, "looks like a secret")
	for _, f := range r.Findings {
		if strings.Contains(f.Message, leak) || (f.Evidence.Need != nil && strings.Contains(f.Evidence.Need.Resource, leak)) {
			t.Fatalf("leaked: %+v", f)
		}
	}
	for _, td := range r.TaskDefinitions {
		for _, n := range td.Needs {
			if strings.Contains(n.Resource, leak) {
				t.Fatalf("leaked in needs: %+v", n)
			}
		}
	}
}

// A path that does not reach the root (ListParents failed part-way) must
// not be evaluated as if the upper levels had no SCPs.
func TestTruncatedOrgPathIsAGap(t *testing.T) {
	w := newTW()
	w.inOrg(allowDoc(`"*"`, `"*"`))
	w.inv.Organization.Policies["p-deny"] = &inventory.OrgPolicy{ID: "p-deny", Name: "deny-logs", Type: inventory.PolicyTypeSCP,
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"logs:*","Resource":"*"}]}`}
	w.acct.Path[0].SCPs = append(w.acct.Path[0].SCPs, "p-deny")
	w.acct.Path = w.acct.Path[1:] // the root level was not collected
	w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/a", "p")))
	r := w.eval(t)
	if r.Coverage.Complete || !strings.Contains(strings.Join(r.Coverage.Gaps, "\n"), "does not reach the root") {
		t.Fatalf("gaps: %v", r.Coverage.Gaps)
	}
}

// No SCP collected anywhere on an organization member's path is a gap.
func TestNoSCPsCollectedIsAGap(t *testing.T) {
	w := newTW()
	w.inOrg()
	for i := range w.acct.Path {
		w.acct.Path[i].SCPs = nil
	}
	w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("a:1")))
	r := w.eval(t)
	if r.Coverage.Complete {
		t.Fatal("coverage complete without SCPs")
	}
}
