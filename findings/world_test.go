package findings

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// A small world builder for rule tests: one account (111122223333) in
// us-east-1, optionally inside an organization.

const (
	tAcct   = "111122223333"
	tRegion = "us-east-1"
)

type tw struct {
	inv  *inventory.Inventory
	acct *inventory.Account
	reg  *inventory.Region
}

func newTW() *tw {
	a := &inventory.Account{ID: tAcct, Name: "test-account", IAM: &inventory.IAM{}}
	r := &inventory.Region{Name: tRegion, Status: inventory.RegionScanned}
	a.Regions = []*inventory.Region{r}
	return &tw{
		inv: &inventory.Inventory{Format: inventory.Format, SchemaVersion: inventory.SchemaVersion, Partition: "aws",
			CollectedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Complete: true, Accounts: []*inventory.Account{a}},
		acct: a, reg: r,
	}
}

const ecsTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const hardenedTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",
 "Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"},"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:*"}}}]}`

const execManagedARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

const execManagedDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`

// allowDoc is a one-statement Allow policy.
func allowDoc(actions, resources string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Action":%s,"Resource":%s}]}`, actions, resources)
}

// role adds a role with the given trust and inline policies (name=doc
// pairs), attached to the managed exec policy when withManaged.
func (w *tw) role(name, trust string, withManaged bool, inline ...string) string {
	arn := "arn:aws:iam::" + tAcct + ":role/" + name
	r := &inventory.Role{ARN: arn, Name: name, TrustPolicy: trust}
	for i := 0; i+1 < len(inline); i += 2 {
		r.InlinePolicies = append(r.InlinePolicies, inventory.InlinePolicy{Name: inline[i], Document: inline[i+1]})
	}
	if withManaged {
		r.AttachedPolicies = []string{execManagedARN}
		w.managed(execManagedARN, execManagedDoc)
	}
	w.acct.IAM.Roles = append(w.acct.IAM.Roles, r)
	return arn
}

func (w *tw) managed(arn, doc string) {
	for _, p := range w.acct.IAM.ManagedPolicies {
		if p.ARN == arn {
			return
		}
	}
	w.acct.IAM.ManagedPolicies = append(w.acct.IAM.ManagedPolicies, &inventory.ManagedPolicy{ARN: arn, Name: arn[strings.LastIndex(arn, "/")+1:], Document: doc})
}

func (w *tw) td(family, exec, compat string, cs ...inventory.ContainerDefinition) *inventory.TaskDefinition {
	t := &inventory.TaskDefinition{ARN: fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:1", tRegion, tAcct, family),
		Family: family, Revision: 1, ExecutionRoleARN: exec, ContainerDefinitions: cs}
	if compat != "" {
		t.RequiresCompatibilities = strings.Split(compat, ",")
	}
	w.reg.TaskDefinitions = append(w.reg.TaskDefinitions, t)
	return t
}

func (w *tw) cluster(name string) *inventory.Cluster {
	c := &inventory.Cluster{ARN: "arn:aws:ecs:" + tRegion + ":" + tAcct + ":cluster/" + name, Name: name}
	w.reg.Clusters = append(w.reg.Clusters, c)
	return c
}

func (w *tw) service(c *inventory.Cluster, name, launch, pv string, t *inventory.TaskDefinition) *inventory.Service {
	s := &inventory.Service{ARN: strings.Replace(c.ARN, ":cluster/", ":service/", 1) + "/" + name, Name: name,
		LaunchType: launch, PlatformVersion: pv, TaskDefinition: t.ARN}
	c.Services = append(c.Services, s)
	return s
}

func (w *tw) instance(c *inventory.Cluster, id, agent string, attrs ...string) *inventory.ContainerInstance {
	ci := &inventory.ContainerInstance{ARN: strings.Replace(c.ARN, ":cluster/", ":container-instance/", 1) + "/" + id,
		EC2InstanceID: id, Status: "ACTIVE", AgentConnected: true, AgentVersion: agent}
	for _, a := range attrs {
		ci.Attributes = append(ci.Attributes, inventory.Attribute{Name: a})
	}
	c.ContainerInstances = append(c.ContainerInstances, ci)
	return ci
}

func (w *tw) eval(t *testing.T) *Result {
	t.Helper()
	if err := w.inv.Validate(); err != nil {
		t.Fatalf("test world is invalid: %v", err)
	}
	return evaluate(t, w.inv, Options{ToolVersion: "test"})
}

// inOrg puts the account in an organization under one OU with the given
// SCP documents at the OU level (FullAWSAccess at root and account).
func (w *tw) inOrg(ouSCPs ...string) {
	full := &inventory.OrgPolicy{ID: "p-full", Name: "FullAWSAccess", Type: inventory.PolicyTypeSCP, Document: allowDoc(`"*"`, `"*"`)}
	org := &inventory.Organization{ID: "o-test", ManagementAccountID: "999999999999", Policies: map[string]*inventory.OrgPolicy{"p-full": full}}
	ou := inventory.PathNode{ID: "ou-test", Type: inventory.NodeOU}
	for i, d := range ouSCPs {
		id := fmt.Sprintf("p-ou%d", i)
		org.Policies[id] = &inventory.OrgPolicy{ID: id, Name: id, Type: inventory.PolicyTypeSCP, Document: d}
		ou.SCPs = append(ou.SCPs, id)
	}
	w.inv.Organization = org
	w.acct.Path = []inventory.PathNode{
		{ID: "r-test", Type: inventory.NodeRoot, SCPs: []string{"p-full"}}, ou,
		{ID: tAcct, Type: inventory.NodeAccount, SCPs: []string{"p-full"}},
	}
}

func byRule(r *Result, id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.RuleID == id {
			out = append(out, f)
		}
	}
	return out
}

// container helpers
func ecrImg(repo string) string { return tAcct + ".dkr.ecr." + tRegion + ".amazonaws.com/" + repo }

func withLogs(group, prefix string) func(*inventory.ContainerDefinition) {
	return func(c *inventory.ContainerDefinition) {
		c.LogConfiguration = &inventory.LogConfiguration{LogDriver: "awslogs",
			Options: map[string]string{"awslogs-group": group, "awslogs-region": tRegion, "awslogs-stream-prefix": prefix}}
	}
}

func withSecret(name, from string) func(*inventory.ContainerDefinition) {
	return func(c *inventory.ContainerDefinition) {
		c.Secrets = append(c.Secrets, inventory.SecretRef{Name: name, ValueFrom: from})
	}
}

func ctr(name, image string, opts ...func(*inventory.ContainerDefinition)) inventory.ContainerDefinition {
	c := inventory.ContainerDefinition{Name: name, Image: image}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// check asserts the number of findings of a rule and, when want > 0, the
// severity of the first and substrings of its message.
func check(t *testing.T, r *Result, rule string, want int, sev Severity, contains ...string) {
	t.Helper()
	inRange(t, r)
	got := byRule(r, rule)
	if len(got) != want {
		var msgs []string
		for _, f := range r.Findings {
			msgs = append(msgs, f.RuleID+" "+string(f.Severity)+": "+f.Message)
		}
		t.Fatalf("%s: got %d findings, want %d; all findings:\n%s", rule, len(got), want, strings.Join(msgs, "\n"))
	}
	if want == 0 {
		return
	}
	if sev != "" && got[0].Severity != sev {
		t.Errorf("%s: severity %s, want %s (%s)", rule, got[0].Severity, sev, got[0].Message)
	}
	for _, c := range contains {
		if !strings.Contains(got[0].Message, c) {
			t.Errorf("%s: message %q does not contain %q", rule, got[0].Message, c)
		}
	}
	for _, f := range got {
		if f.ID == "" || len(f.ID) != 32 {
			t.Errorf("%s: bad fingerprint %q", rule, f.ID)
		}
		if f.Title == "" || f.Remediation == "" || f.Fix.Summary == "" || f.Fix.Layer == "" {
			t.Errorf("%s: title, remediation or fix missing: %+v", rule, f)
		}
		if len(f.MemberIDs) == 0 || f.Impact.Summary == "" || f.Impact.Items < 1 {
			t.Errorf("%s: member IDs or impact missing: %+v", rule, f)
		}
	}
}

// items is the number of items (needs, constraints, values…) the findings
// of a rule cover.
func items(r *Result, rule string) int {
	n := 0
	for _, f := range byRule(r, rule) {
		n += f.Impact.Items
	}
	return n
}

// checkItems asserts the number of a rule's findings and of the items they
// cover.
func checkItems(t *testing.T, r *Result, rule string, findings, want int) {
	t.Helper()
	if got := len(byRule(r, rule)); got != findings {
		t.Errorf("%s: %d findings, want %d", rule, got, findings)
	}
	if got := items(r, rule); got != want {
		t.Errorf("%s: %d items, want %d", rule, got, want)
	}
}

// inRange checks that every finding's severity lies in its rule's
// documented severity range.
func inRange(t *testing.T, r *Result) {
	t.Helper()
	for _, f := range r.Findings {
		meta, ok := Rule(f.RuleID)
		if !ok || !meta.SeverityRange.Contains(f.Severity) {
			t.Errorf("%s finding of severity %s is outside the rule's range %s: %s", f.RuleID, f.Severity, meta.SeverityRange, f.Message)
		}
	}
}
