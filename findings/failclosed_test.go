package findings

import (
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// Regression tests for issue 8 §2: "none" and "not collected" are different
// facts, and a policy that exists but was not collected never lets a need
// pass.

const otherAcct = "444455556666"

// otherAccount adds a scanned account 444455556666 with the given secrets,
// parameters and keys in us-east-1.
func (w *tw) otherAccount(secrets []*inventory.Secret, params []*inventory.Parameter, keys []*inventory.KMSKey) {
	w.inv.Accounts = append(w.inv.Accounts, &inventory.Account{ID: otherAcct, IAM: &inventory.IAM{},
		Regions: []*inventory.Region{{Name: tRegion, Status: inventory.RegionScanned, Secrets: secrets, Parameters: params, KMSKeys: keys}}})
}

const (
	otherSecret = "arn:aws:secretsmanager:us-east-1:444455556666:secret:shared-AbCdEf"
	otherKey    = "arn:aws:kms:us-east-1:444455556666:key/k1"
	otherParam  = "arn:aws:ssm:us-east-1:444455556666:parameter/shared/p"
	// shares with account 111122223333
	shareDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["secretsmanager:GetSecretValue","ssm:GetParameters","kms:Decrypt"],"Resource":"*"}]}`
	denyDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
)

// A cross-account secret, key or parameter: known absent resource policy →
// ER004 naming the resource account; not collected → ER005 (medium).
func TestCrossAccountResourcePolicyStatus(t *testing.T) {
	grantAll := allowDoc(`["secretsmanager:GetSecretValue","ssm:GetParameters","kms:Decrypt"]`, `"*"`)
	secretCase := func(status, doc, keyID string, failed bool) func(w *tw) {
		return func(w *tw) {
			w.otherAccount([]*inventory.Secret{{ARN: otherSecret, Name: "shared", KMSKeyID: keyID, ResourcePolicy: doc, ResourcePolicyStatus: status}}, nil,
				[]*inventory.KMSKey{{ARN: otherKey, KeyID: "k1", Manager: "CUSTOMER", Policy: shareDoc, PolicyStatus: inventory.PolicyCollected}})
			if failed {
				w.inv.Errors = append(w.inv.Errors, inventory.CollectionError{AccountID: otherAcct, Region: tRegion, Service: "secretsmanager",
					Operation: "GetResourcePolicy", Resource: otherSecret, Code: "AccessDeniedException", Message: "m"})
			}
			w.td("app", w.role("exec", ecsTrust, true, "p", grantAll), "FARGATE", ctr("c", "nginx", withSecret("X", otherSecret)))
		}
	}
	paramCase := func(status, doc string) func(w *tw) {
		return func(w *tw) {
			w.otherAccount(nil, []*inventory.Parameter{{Name: "/shared/p", ARN: otherParam, Type: "String", ResourcePolicy: doc, ResourcePolicyStatus: status}}, nil)
			w.td("app", w.role("exec", ecsTrust, true, "p", grantAll), "FARGATE", ctr("c", "nginx", withSecret("X", otherParam)))
		}
	}
	cases := []struct {
		name      string
		setup     func(w *tw)
		er4, er5  int
		sev       Severity
		contains  string
		ruleFirst string
	}{
		{"secret policy known absent", secretCase(inventory.PolicyNone, "", otherKey, false), 1, 0, Critical,
			"the resource is in account 444455556666 and has no resource policy", "ER004"},
		{"secret policy not collected", secretCase(inventory.PolicyNotCollected, "", otherKey, false), 0, 1, Medium,
			"the resource policy of " + otherSecret + " was not collected", "ER005"},
		{"secret policy collected, shares", secretCase(inventory.PolicyCollected, shareDoc, otherKey, false), 0, 0, "", "", ""},
		// An inventory built in memory (no status): version 1's meaning.
		{"no status, no error: none", secretCase("", "", otherKey, false), 1, 0, Critical, "has no resource policy", "ER004"},
		{"no status, GetResourcePolicy failed: not collected", secretCase("", "", otherKey, true), 0, 1, Medium, "was not collected", "ER005"},
		{"parameter policy known absent", paramCase(inventory.PolicyNone, ""), 1, 0, Critical, "the resource is in account 444455556666 and has no resource policy", "ER004"},
		{"parameter policy not collected", paramCase(inventory.PolicyNotCollected, ""), 0, 1, Medium, "was not collected", "ER005"},
		{"parameter policy collected, shares", paramCase(inventory.PolicyCollected, shareDoc), 0, 0, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			c.setup(w)
			r := w.eval(t)
			check(t, r, "ER004", c.er4, "")
			check(t, r, "ER005", c.er5, "")
			if c.ruleFirst != "" {
				check(t, r, c.ruleFirst, 1, c.sev, c.contains)
			}
		})
	}
}

// A key whose key policy was not collected is indeterminate; a key that
// (impossibly) has none opens for nobody.
func TestKeyPolicyStatus(t *testing.T) {
	for _, c := range []struct {
		status   string
		er4, er5 int
	}{{inventory.PolicyNotCollected, 0, 1}, {inventory.PolicyNone, 1, 0}, {inventory.PolicyCollected, 0, 0}} {
		t.Run(c.status, func(t *testing.T) {
			w := newTW()
			key := "arn:aws:kms:us-east-1:111122223333:key/k1"
			w.reg.Secrets = []*inventory.Secret{{ARN: smBase + "db-AbCdEf", Name: "db", KMSKeyID: key, ResourcePolicyStatus: inventory.PolicyNone}}
			k := &inventory.KMSKey{ARN: key, KeyID: "k1", Manager: "CUSTOMER", PolicyStatus: c.status}
			if c.status == inventory.PolicyCollected {
				k.Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
			}
			w.reg.KMSKeys = []*inventory.KMSKey{k}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["secretsmanager:GetSecretValue","kms:Decrypt"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf")))
			var r *Result
			if c.status == inventory.PolicyNone {
				// Not a valid inventory (the loader rejects it), but the
				// evaluation must still not pass it.
				r = Evaluate(w.inv, Options{ToolVersion: "test"})
			} else {
				r = w.eval(t)
			}
			check(t, r, "ER004", c.er4, "")
			check(t, r, "ER005", c.er5, "")
		})
	}
}

// In the same account, a secret policy that was not collected may deny what
// the identity policies allow; one known to be absent changes nothing.
func TestSameAccountSecretPolicyNotCollected(t *testing.T) {
	for _, c := range []struct {
		status, doc string
		er4, er5    int
	}{
		{inventory.PolicyNone, "", 0, 0},
		{inventory.PolicyNotCollected, "", 0, 1},
		{inventory.PolicyCollected, denyDoc, 1, 0},
		{inventory.PolicyCollected, `{"Statement": "not a policy"}`, 0, 1}, // unparseable: as good as not collected
	} {
		t.Run(c.status+c.doc, func(t *testing.T) {
			w := newTW()
			w.reg.Secrets = []*inventory.Secret{{ARN: smBase + "db-AbCdEf", Name: "db", ResourcePolicy: c.doc, ResourcePolicyStatus: c.status}}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf")))
			r := w.eval(t)
			check(t, r, "ER004", c.er4, "")
			check(t, r, "ER005", c.er5, "")
			if c.er5 == 1 {
				check(t, r, "ER005", 1, Medium, "may deny")
			}
		})
	}
}

// An identity policy that was not collected (attached but missing, or with
// an empty document) may deny what the collected ones allow.
func TestUncollectedIdentityPolicyMayDeny(t *testing.T) {
	for name, setup := range map[string]func(w *tw, role *inventory.Role){
		"attached policy missing": func(w *tw, role *inventory.Role) {
			role.AttachedPolicies = append(role.AttachedPolicies, "arn:aws:iam::111122223333:policy/gone")
		},
		"attached policy without document": func(w *tw, role *inventory.Role) {
			role.AttachedPolicies = append(role.AttachedPolicies, "arn:aws:iam::111122223333:policy/empty")
			w.managed("arn:aws:iam::111122223333:policy/empty", "")
		},
		"inline policy without document": func(w *tw, role *inventory.Role) {
			role.InlinePolicies = append(role.InlinePolicies, inventory.InlinePolicy{Name: "lost", Document: ""})
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := newTW()
			arn := w.role("exec", ecsTrust, true)
			setup(w, w.acct.IAM.Roles[0])
			w.td("app", arn, "FARGATE", ctr("c", ecrImg("a:1")))
			r := w.eval(t)
			check(t, r, "ER004", 0, "")
			check(t, r, "ER005", 1, Medium, "was not collected, and it may deny the request")
			checkItems(t, r, "ER005", 1, 4)
			check(t, r, "PL001", 1, Medium, "not collected")
		})
	}
}

// SCPs: a collected Deny still decides; a path whose upper levels were not
// collected, or an SCP that cannot be parsed, may deny what is allowed.
func TestUncollectedSCPs(t *testing.T) {
	denyLogs := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"logs:*","Resource":"*"}]}`
	t.Run("collected deny at a level with a missing policy", func(t *testing.T) {
		w := newTW()
		w.inOrg(denyLogs)
		w.acct.Path[1].SCPs = append(w.acct.Path[1].SCPs, "p-gone")
		w.inv.Organization.Policies["p-gone"] = &inventory.OrgPolicy{ID: "p-gone", Name: "gone", Type: inventory.PolicyTypeSCP, Document: "not a policy"}
		w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("a:1"), withLogs("/ecs/a", "p")))
		r := w.eval(t)
		check(t, r, "ER004", 1, Critical, "statement 0 of SCP p-ou0 (p-ou0), attached to OU ou-test, denies them explicitly")
		checkItems(t, r, "ER004", 1, 2) // CreateLogStream, PutLogEvents
		check(t, r, "ER005", 1, Medium, "not all collected")
		checkItems(t, r, "ER005", 1, 4) // the ECR needs
	})
	t.Run("path short of the root", func(t *testing.T) {
		w := newTW()
		w.inOrg(allowDoc(`"*"`, `"*"`))
		w.acct.Path = w.acct.Path[1:]
		w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("a:1")))
		r := w.eval(t)
		check(t, r, "ER004", 0, "")
		check(t, r, "ER005", 1, Medium, "does not reach the root")
		checkItems(t, r, "ER005", 1, 4)
	})
	t.Run("no SCPs collected", func(t *testing.T) {
		w := newTW()
		w.inOrg()
		for i := range w.acct.Path {
			w.acct.Path[i].SCPs = nil
		}
		w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("a:1")))
		r := w.eval(t)
		check(t, r, "ER005", 1, Medium, "no service control policies were collected")
		checkItems(t, r, "ER005", 1, 4)
	})
}

// RCPs of the resource's account: a level without its policies may deny.
func TestUncollectedRCPs(t *testing.T) {
	w := newTW()
	w.inOrg(allowDoc(`"*"`, `"*"`))
	org := w.inv.Organization
	org.RCPsEnabled = true
	org.Policies["r-full"] = &inventory.OrgPolicy{ID: "r-full", Name: "RCPFullAWSAccess", Type: inventory.PolicyTypeRCP,
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`}
	w.acct.Path[0].RCPs = []string{"r-full"}
	w.acct.Path[2].RCPs = []string{"r-full"} // the OU level's RCPs were not collected
	w.reg.Secrets = []*inventory.Secret{{ARN: smBase + "db-AbCdEf", Name: "db", ResourcePolicyStatus: inventory.PolicyNone}}
	w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE",
		ctr("c", ecrImg("a:1"), withSecret("X", smBase+"db-AbCdEf")))
	r := w.eval(t)
	check(t, r, "ER004", 0, "")
	check(t, r, "ER005", 1, Medium, "resource control policies on the path of account 111122223333 were not all collected")
}

// A trust policy that was not collected: ER003 medium, never a pass.
func TestTrustPolicyNotCollected(t *testing.T) {
	w := newTW()
	arn := w.role("exec", "", true)
	w.td("app", arn, "FARGATE", ctr("c", ecrImg("a:1")))
	r := w.eval(t)
	check(t, r, "ER003", 1, Medium, "was not collected")
	if !strings.Contains(strings.Join(r.Coverage.Gaps, "\n"), "trust policy was not collected") {
		t.Errorf("gaps: %v", r.Coverage.Gaps)
	}
}

// An identity policy the engine cannot parse (PL001) is never dropped
// silently: if it holds, or may hold, a Deny, whatever the readable policies
// allow is indeterminate; if every statement is an Allow it only fails to
// grant, and the needs the other policies grant stay allowed.
func TestUnreadableIdentityPolicyFailsClosed(t *testing.T) {
	grant := allowDoc(`["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]`, `"*"`)
	// A Deny with an operator the engine does not know: malformed here.
	badDeny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"StringEqualsSomehow":{"aws:SourceVpce":"vpce-1"}}}]}`
	badAllow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEqualsSomehow":{"aws:SourceVpce":"vpce-1"}}}]}`
	notJSON := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny"`
	cases := []struct {
		name     string
		bad      string
		er4, er5 int
	}{
		{"malformed policy with a Deny", badDeny, 0, 1},
		{"malformed policy that is not JSON", notJSON, 0, 1},
		{"malformed policy with Allow statements only", badAllow, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			w.td("app", w.role("exec", ecsTrust, false, "grant", grant, "bad", c.bad), "FARGATE", ctr("c", ecrImg("a:1")))
			r := w.eval(t)
			if len(byRule(r, "PL001")) == 0 {
				t.Errorf("no PL001 for the malformed policy")
			}
			if got := len(byRule(r, "ER004")); got != c.er4 {
				t.Errorf("ER004: %d, want %d", got, c.er4)
			}
			if got := len(byRule(r, "ER005")); (got > 0) != (c.er5 > 0) {
				t.Errorf("ER005: %d, want some=%v", got, c.er5 > 0)
			}
			for _, f := range byRule(r, "ER005") {
				if !strings.Contains(f.Message, "inline policy bad") {
					t.Errorf("ER005 does not name the unreadable policy: %s", f.Message)
				}
			}
		})
	}
}
