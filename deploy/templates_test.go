package deploy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/awsactions"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

const (
	memberTemplate  = "member-role.yaml"
	scannerTemplate = "scanner.yaml"

	scannerAccount = "111122223333"
	memberAccount  = "444455556666"
	region         = "us-east-1"
	stackName      = "audit-scanner"
	externalID     = "audit-ext-7f3c"
)

var scannerTaskRoleARN = "arn:aws:iam::" + scannerAccount + ":role/" + stackName + "-task"

// memberParams are member-role.yaml's parameters as the README deploys them.
func memberParams() map[string]string {
	return map[string]string{
		"ScannerAccountId": scannerAccount,
		"ScannerRoleArns":  scannerTaskRoleARN + ",arn:aws:iam::" + scannerAccount + ":role/" + stackName + "-github",
		"ExternalId":       externalID,
	}
}

// scannerParams are scanner.yaml's parameters; image and repo vary per test.
func scannerParams(image, repoARN string) map[string]string {
	return map[string]string{
		"Image":              image,
		"ImageRepositoryArn": repoARN,
		"ExternalId":         externalID,
		"Subnets":            "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
		"SecurityGroups":     "sg-0123456789abcdef0",
		"GitHubRepository":   "example/security",
	}
}

const (
	ecrImage = scannerAccount + ".dkr.ecr." + region + ".amazonaws.com/audit:v1.0.0"
	ecrRepo  = "arn:aws:ecr:" + region + ":" + scannerAccount + ":repository/audit"
)

func resolved(t *testing.T, file string, params map[string]string, account string) *resolver {
	t.Helper()
	tp := loadTemplate(t, file)
	r := newResolver(t, tp, params, map[string]string{"AWS::AccountId": account, "AWS::Region": region, "AWS::StackName": stackName})
	r.synthesize(t)
	return r
}

// rolePolicy is one inline policy of a role, resolved.
type rolePolicy struct {
	Name string
	Doc  map[string]any
}

func rolePolicies(t *testing.T, r *resolver, id string) (trust map[string]any, pols []rolePolicy) {
	t.Helper()
	p := r.properties(t, id)
	for _, k := range []string{"ManagedPolicyArns", "PermissionsBoundary"} {
		if _, ok := p[k]; ok {
			t.Errorf("%s: %s has %s; these roles carry only their inline policies", r.tp.path, id, k)
		}
	}
	trust, _ = p["AssumeRolePolicyDocument"].(map[string]any)
	list, _ := p["Policies"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		doc, _ := m["PolicyDocument"].(map[string]any)
		pols = append(pols, rolePolicy{Name: fmt.Sprint(m["PolicyName"]), Doc: doc})
	}
	return trust, pols
}

func statements(doc map[string]any) []map[string]any {
	var out []map[string]any
	switch s := doc["Statement"].(type) {
	case []any:
		for _, e := range s {
			m, _ := e.(map[string]any)
			out = append(out, m)
		}
	case map[string]any:
		out = append(out, s)
	}
	return out
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func parsePolicy(t *testing.T, name string, doc map[string]any) *policy.Policy {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse(name, b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// allActions lists the actions of every Allow statement of a role.
func allActions(pols []rolePolicy) []string {
	var out []string
	for _, p := range pols {
		for _, s := range statements(p.Doc) {
			if s["Effect"] == "Allow" {
				out = append(out, strs(s["Action"])...)
			}
		}
	}
	return out
}

func TestMemberRoleGrantsExactlyTheREADMEList(t *testing.T) {
	r := resolved(t, memberTemplate, memberParams(), memberAccount)
	res := r.tp.section("Resources")
	if len(res) != 1 || r.tp.resource(t, "AuditReadOnlyRole")["Type"] != "AWS::IAM::Role" {
		t.Fatalf("member-role.yaml: expected exactly one resource, the role; got %d", len(res))
	}
	if p := r.properties(t, "AuditReadOnlyRole"); p["RoleName"] != "AuditReadOnly" {
		t.Errorf("default RoleName = %v, want AuditReadOnly (the README's --role-name examples)", p["RoleName"])
	}
	_, pols := rolePolicies(t, r, "AuditReadOnlyRole")
	if len(pols) != 1 || len(statements(pols[0].Doc)) != 1 {
		t.Fatalf("expected one inline policy with one statement, got %+v", pols)
	}
	st := statements(pols[0].Doc)[0]
	if st["Effect"] != "Allow" || !reflect.DeepEqual(strs(st["Resource"]), []string{"*"}) || st["Condition"] != nil {
		t.Errorf("statement %v: want Allow on \"*\" without conditions, as in the README", st)
	}
	got, want := strs(st["Action"]), readmeMemberActions(t)
	if d := duplicates(got); d != nil {
		t.Errorf("duplicate actions %v", d)
	}
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("member-role.yaml grants\n  %v\nthe README lists\n  %v\nmissing from the template: %v; not in the README: %v",
			got, want, missing(want, got), missing(got, want))
	}
	for _, a := range got {
		checkReadOnly(t, "member-role.yaml", a)
	}
}

// accessLevel classifies an action: from the catalog for the services it
// lists in full, else (Organizations, Account) from the name, where only
// List*, Describe* and Get* count as reads. ok is false for an action that
// does not exist or is not written as AWS writes it.
func accessLevel(action string) (level awsactions.AccessLevel, problem string) {
	if strings.ContainsAny(action, "*?") {
		return "", "wildcard action"
	}
	svc, name, _ := strings.Cut(action, ":")
	if !awsactions.KnownService(svc) || svc != strings.ToLower(svc) {
		return "", "unknown service prefix"
	}
	if awsactions.Cataloged(svc) {
		canon, level, ok := awsactions.Lookup(action)
		switch {
		case !ok:
			return "", "not an action of " + svc + ": " + awsactions.Check(action)
		case canon != action:
			return "", "AWS writes it " + canon
		}
		return level, ""
	}
	for _, p := range []string{"List", "Describe", "Get"} {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return awsactions.Read, ""
		}
	}
	return awsactions.Write, ""
}

// checkReadOnly fails unless action is a List or Read action that exists.
func checkReadOnly(t *testing.T, where, action string) {
	t.Helper()
	level, problem := accessLevel(action)
	switch {
	case problem != "":
		t.Errorf("%s: %s: %s", where, action, problem)
	case level != awsactions.List && level != awsactions.Read:
		t.Errorf("%s: %s is a %s action; the scanning role is read-only", where, action, level)
	}
}

// The trust policy lets exactly the scanner's roles in, with the external ID.
func TestMemberRoleTrust(t *testing.T) {
	r := resolved(t, memberTemplate, memberParams(), memberAccount)
	trust, _ := rolePolicies(t, r, "AuditReadOnlyRole")
	tp := parsePolicy(t, "trust", trust)
	roleARN := "arn:aws:iam::" + memberAccount + ":role/AuditReadOnly"
	// The scanner's side: its identity policy allows the AssumeRole (the
	// task role's AssumeMemberRole statement, checked in the scanner tests).
	callerAllows := parsePolicy(t, "caller", map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/AuditReadOnly"}}})
	tests := []struct {
		name      string
		principal string
		extID     string // "" = absent
		want      policy.Decision
	}{
		{"scanner task role with the external ID", scannerTaskRoleARN, externalID, policy.Allowed},
		{"GitHub role with the external ID", "arn:aws:iam::" + scannerAccount + ":role/" + stackName + "-github", externalID, policy.Allowed},
		{"scanner task role without external ID", scannerTaskRoleARN, "", policy.ImplicitDeny},
		{"scanner task role, wrong external ID", scannerTaskRoleARN, "guess", policy.ImplicitDeny},
		{"another role of the scanner account", "arn:aws:iam::" + scannerAccount + ":role/admin", externalID, policy.ImplicitDeny},
		{"same role name in another account", "arn:aws:iam::999988887777:role/" + stackName + "-task", externalID, policy.ImplicitDeny},
		{"a role of the member account itself", "arn:aws:iam::" + memberAccount + ":role/" + stackName + "-task", externalID, policy.ImplicitDeny},
		{"a service", "ecs-tasks.amazonaws.com", externalID, policy.ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := policy.NewContext()
			if tt.extID == "" {
				ctx.SetAbsent("sts:ExternalId")
			} else {
				ctx.Set("sts:ExternalId", tt.extID)
			}
			if strings.HasPrefix(tt.principal, "arn:") {
				ctx.Set("aws:PrincipalArn", tt.principal)
				ctx.Set("aws:PrincipalAccount", policy.AccountOf(tt.principal))
			} else {
				ctx.SetAbsent("aws:PrincipalArn")
			}
			in := &policy.Input{
				Identity:           []policy.NamedPolicy{{Name: "caller", Policy: callerAllows}},
				ResourcePolicy:     &policy.NamedPolicy{Name: "trust", Policy: tp},
				ResourcePolicyKind: policy.ResourcePolicyTrust,
				ResourceAccount:    memberAccount,
			}
			got := policy.Evaluate(in, policy.Request{Principal: tt.principal, Action: "sts:AssumeRole", Resource: roleARN, Context: ctx})
			if got.Decision != tt.want {
				t.Errorf("decision %s (%s), want %s", got.Decision, got.Reason, tt.want)
			}
		})
	}
}

// The task role and the GitHub role scan with the README's lists and nothing
// else, and the two scanning policies are the same.
func TestScannerRolesMatchREADME(t *testing.T) {
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	var scanDocs []map[string]any
	for _, id := range []string{"TaskRole", "GitHubRole"} {
		_, pols := rolePolicies(t, r, id)
		var scan map[string]any
		for _, p := range pols {
			if p.Name == "audit-scan" {
				scan = p.Doc
			}
		}
		if scan == nil {
			t.Fatalf("%s has no audit-scan policy", id)
		}
		scanDocs = append(scanDocs, scan)
		bySid := map[string]map[string]any{}
		for _, s := range statements(scan) {
			bySid[fmt.Sprint(s["Sid"])] = s
			if s["Effect"] != "Allow" {
				t.Errorf("%s: statement %v", id, s)
			}
		}
		callerWant := readmeCallerActions(t)
		var orgWant []string
		for _, a := range callerWant {
			if strings.HasPrefix(a, "organizations:") {
				orgWant = append(orgWant, a)
			}
		}
		for sid, want := range map[string][]string{
			"ReadOrganization":       orgWant,
			"AuditEcsExecutionRoles": readmeMemberActions(t),
			"AssumeMemberRole":       {"sts:AssumeRole"},
		} {
			got := strs(bySid[sid]["Action"])
			if !slices.Equal(sorted(got), sorted(want)) {
				t.Errorf("%s %s: actions %v, want the README's %v (missing %v, extra %v)", id, sid, got, want, missing(want, got), missing(got, want))
			}
		}
		if len(bySid) != 3 {
			t.Errorf("%s audit-scan: statements %v, want exactly the three above", id, slices.Sorted(mapKeys(bySid)))
		}
		if got := strs(bySid["AssumeMemberRole"]["Resource"]); !slices.Equal(got, []string{"arn:aws:iam::*:role/AuditReadOnly"}) {
			t.Errorf("%s AssumeMemberRole resource %v, want the member role name only", id, got)
		}
	}
	if !reflect.DeepEqual(scanDocs[0], scanDocs[1]) {
		t.Errorf("TaskRole and GitHubRole audit-scan policies differ:\n%v\n%v", scanDocs[0], scanDocs[1])
	}
}

func mapKeys[M ~map[string]V, V any](m M) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Every action of every role exists, and only the expected ones write.
func TestScannerRolesWriteOnlyWhatTheyMust(t *testing.T) {
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	allowedWrites := map[string][]string{
		"ExecutionRole": {"logs:CreateLogStream", "logs:PutLogEvents"},
		"TaskRole":      {"s3:DeleteObject", "s3:PutObject", "sts:AssumeRole"},
		"GitHubRole":    {"s3:DeleteObject", "s3:PutObject", "sts:AssumeRole"},
		"ScheduleRole":  {"ecs:RunTask", "iam:PassRole"},
	}
	roles := r.tp.resourcesOfType("AWS::IAM::Role")
	if !slices.Equal(roles, slices.Sorted(mapKeys(allowedWrites))) {
		t.Fatalf("roles %v; add the new role to this test with its write actions", roles)
	}
	for _, id := range roles {
		_, pols := rolePolicies(t, r, id)
		var writes []string
		for _, a := range allActions(pols) {
			level, problem := accessLevel(a)
			if problem != "" {
				t.Errorf("%s: %s: %s", id, a, problem)
				continue
			}
			if level != awsactions.List && level != awsactions.Read {
				writes = append(writes, a)
			}
		}
		if !slices.Equal(sorted(writes), sorted(allowedWrites[id])) {
			t.Errorf("%s: write actions %v, want %v", id, writes, allowedWrites[id])
		}
		for _, p := range pols {
			for _, s := range statements(p.Doc) {
				if s["Effect"] != "Allow" {
					continue
				}
				for _, a := range strs(s["Action"]) {
					level, _ := accessLevel(a)
					if level == awsactions.List || level == awsactions.Read || a == "ecr:GetAuthorizationToken" {
						continue
					}
					if slices.Contains(strs(s["Resource"]), "*") {
						t.Errorf("%s: %s on \"*\"", id, a)
					}
				}
			}
		}
	}
}

// What the scanner's roles may and may not do, decided by audit's own policy
// engine.
func TestScannerRolePermissions(t *testing.T) {
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	bucket := r.refs["ReportBucket"]
	type req struct {
		action, resource string
		ctx              map[string]string
		want             policy.Decision
	}
	tests := map[string][]req{
		"TaskRole": {
			{"sts:AssumeRole", "arn:aws:iam::" + memberAccount + ":role/AuditReadOnly", nil, policy.Allowed},
			{"sts:AssumeRole", "arn:aws:iam::" + memberAccount + ":role/OrganizationAccountAccessRole", nil, policy.ImplicitDeny},
			{"organizations:ListAccounts", "*", nil, policy.Allowed},
			{"organizations:CreateAccount", "*", nil, policy.ImplicitDeny},
			{"iam:GetAccountAuthorizationDetails", "*", nil, policy.Allowed},
			{"iam:CreateRole", "arn:aws:iam::" + scannerAccount + ":role/x", nil, policy.ImplicitDeny},
			{"secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:" + scannerAccount + ":secret:db-AbCdEf", nil, policy.ImplicitDeny},
			{"s3:PutObject", "arn:aws:s3:::" + bucket + "/scheduled/2026-12-04T10-00-00Z/findings.json", nil, policy.Allowed},
			{"s3:GetObject", "arn:aws:s3:::" + bucket + "/scheduled/latest/findings.json", nil, policy.Allowed},
			{"s3:PutObject", "arn:aws:s3:::" + bucket + "/github/latest/findings.json", nil, policy.ImplicitDeny},
			{"s3:PutObject", "arn:aws:s3:::other-bucket/scheduled/x", nil, policy.ImplicitDeny},
			// latest/ loses a report the run no longer writes; the dated runs
			// are never deleted.
			{"s3:DeleteObject", "arn:aws:s3:::" + bucket + "/scheduled/latest/report.html", nil, policy.Allowed},
			{"s3:DeleteObject", "arn:aws:s3:::" + bucket + "/scheduled/2026-12-04T10-00-00Z/findings.json", nil, policy.ImplicitDeny},
			{"s3:DeleteObject", "arn:aws:s3:::" + bucket + "/github/latest/report.html", nil, policy.ImplicitDeny},
			{"s3:ListBucket", "arn:aws:s3:::" + bucket, map[string]string{"s3:prefix": "scheduled/latest/findings.json"}, policy.Allowed},
			// The listing audit makes when a missing baseline reads as
			// access denied.
			{"s3:ListBucket", "arn:aws:s3:::" + bucket, map[string]string{"s3:prefix": "scheduled/latest/"}, policy.Allowed},
			// The scanning statement lists any bucket (key names only, never
			// content): the audit checks that environment files exist.
			{"s3:ListBucket", "arn:aws:s3:::" + bucket, map[string]string{"s3:prefix": "github/"}, policy.Allowed},
			{"s3:GetObject", "arn:aws:s3:::" + bucket + "/github/latest/findings.json", nil, policy.ImplicitDeny},
		},
		"GitHubRole": {
			{"s3:PutObject", "arn:aws:s3:::" + bucket + "/github/2026-12-04T10-00-00Z/findings.sarif", nil, policy.Allowed},
			{"s3:PutObject", "arn:aws:s3:::" + bucket + "/scheduled/latest/findings.json", nil, policy.ImplicitDeny},
			{"s3:DeleteObject", "arn:aws:s3:::" + bucket + "/github/latest/findings.sarif", nil, policy.Allowed},
			{"s3:DeleteObject", "arn:aws:s3:::" + bucket + "/scheduled/latest/findings.sarif", nil, policy.ImplicitDeny},
			{"sts:AssumeRole", "arn:aws:iam::" + memberAccount + ":role/AuditReadOnly", nil, policy.Allowed},
		},
		"ExecutionRole": {
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:" + scannerAccount + ":log-group:/ecs/" + stackName + ":log-stream:audit/audit/0123456789abcdef", nil, policy.Allowed},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:" + scannerAccount + ":log-group:/ecs/other:log-stream:audit/audit/0123", nil, policy.ImplicitDeny},
			{"ecr:BatchGetImage", ecrRepo, nil, policy.Allowed},
			{"ecr:BatchGetImage", "arn:aws:ecr:us-east-1:" + scannerAccount + ":repository/other", nil, policy.ImplicitDeny},
			{"s3:GetObject", "arn:aws:s3:::" + bucket + "/scheduled/latest/findings.json", nil, policy.ImplicitDeny},
		},
		"ScheduleRole": {
			{"ecs:RunTask", r.refs["TaskDefinition"], map[string]string{"ecs:cluster": r.attrs["Cluster.Arn"]}, policy.Allowed},
			{"ecs:RunTask", r.refs["TaskDefinition"], map[string]string{"ecs:cluster": "arn:aws:ecs:us-east-1:" + scannerAccount + ":cluster/other"}, policy.ImplicitDeny},
			{"ecs:RunTask", "arn:aws:ecs:us-east-1:" + scannerAccount + ":task-definition/other:1", map[string]string{"ecs:cluster": r.attrs["Cluster.Arn"]}, policy.ImplicitDeny},
			{"iam:PassRole", r.attrs["TaskRole.Arn"], map[string]string{"iam:PassedToService": "ecs-tasks.amazonaws.com"}, policy.Allowed},
			{"iam:PassRole", r.attrs["TaskRole.Arn"], map[string]string{"iam:PassedToService": "lambda.amazonaws.com"}, policy.ImplicitDeny},
			{"iam:PassRole", r.attrs["GitHubRole.Arn"], map[string]string{"iam:PassedToService": "ecs-tasks.amazonaws.com"}, policy.ImplicitDeny},
		},
	}
	// sts:AssumeRole into a member account is decided by both sides: the
	// member role's trust policy from member-role.yaml is the other.
	mr := resolved(t, memberTemplate, memberParams(), memberAccount)
	memberTrust, _ := rolePolicies(t, mr, "AuditReadOnlyRole")
	for id, reqs := range tests {
		_, pols := rolePolicies(t, r, id)
		for _, q := range reqs {
			in := &policy.Input{}
			for _, p := range pols {
				in.Identity = append(in.Identity, policy.NamedPolicy{Name: p.Name, Policy: parsePolicy(t, id+"/"+p.Name, p.Doc)})
			}
			ctx := policy.NewContext()
			for k, v := range q.ctx {
				ctx.Set(k, v)
			}
			if q.action == "sts:AssumeRole" && strings.HasSuffix(q.resource, ":role/AuditReadOnly") {
				in.ResourcePolicy = &policy.NamedPolicy{Name: "trust", Policy: parsePolicy(t, "member-trust", memberTrust)}
				in.ResourcePolicyKind = policy.ResourcePolicyTrust
				ctx.Set("sts:ExternalId", externalID)
				ctx.Set("aws:PrincipalArn", r.attrs[id+".Arn"])
			}
			got := policy.Evaluate(in, policy.Request{Principal: r.attrs[id+".Arn"], Action: q.action, Resource: q.resource, Context: ctx})
			if got.Decision != q.want {
				t.Errorf("%s %s on %s (%v): %s (%s), want %s", id, q.action, q.resource, q.ctx, got.Decision, got.Reason, q.want)
			}
		}
	}
}

// Every trust policy names one service or federated principal and carries
// conditions that pin it to this account and this resource.
func TestScannerTrustPolicies(t *testing.T) {
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	want := map[string]struct {
		principal  string
		conditions map[string]string // key → value
	}{
		"ExecutionRole": {"ecs-tasks.amazonaws.com", map[string]string{"aws:SourceAccount": scannerAccount, "aws:SourceArn": "arn:aws:ecs:us-east-1:" + scannerAccount + ":*"}},
		"TaskRole":      {"ecs-tasks.amazonaws.com", map[string]string{"aws:SourceAccount": scannerAccount, "aws:SourceArn": "arn:aws:ecs:us-east-1:" + scannerAccount + ":*"}},
		"ScheduleRole":  {"events.amazonaws.com", map[string]string{"aws:SourceAccount": scannerAccount, "aws:SourceArn": r.attrs["Schedule.Arn"]}},
		"GitHubRole": {"arn:aws:iam::" + scannerAccount + ":oidc-provider/token.actions.githubusercontent.com", map[string]string{
			"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
			"token.actions.githubusercontent.com:sub": "repo:example/security:ref:refs/heads/main"}},
	}
	for id, w := range want {
		trust, _ := rolePolicies(t, r, id)
		sts := statements(trust)
		if len(sts) != 1 {
			t.Errorf("%s: %d trust statements, want 1", id, len(sts))
			continue
		}
		s := sts[0]
		pr, _ := s["Principal"].(map[string]any)
		var got []string
		for _, v := range pr {
			got = append(got, strs(v)...)
		}
		if !slices.Equal(got, []string{w.principal}) || len(pr) != 1 {
			t.Errorf("%s: principal %v, want %s", id, pr, w.principal)
		}
		conds := map[string]string{}
		cm, _ := s["Condition"].(map[string]any)
		for op, kv := range cm {
			if strings.HasPrefix(op, "ForAnyValue") || strings.HasSuffix(op, "IfExists") {
				t.Errorf("%s: condition operator %s lets an absent key through", id, op)
			}
			for k, v := range kv.(map[string]any) {
				conds[k] = strings.Join(strs(v), ",")
			}
		}
		if !reflect.DeepEqual(conds, w.conditions) {
			t.Errorf("%s: trust conditions %v, want %v", id, conds, w.conditions)
		}
	}
	// The schedule's rule name in ScheduleRole's trust is the rule's own name.
	if p := r.properties(t, "Schedule"); "arn:aws:events:us-east-1:"+scannerAccount+":rule/"+fmt.Sprint(p["Name"]) != r.attrs["Schedule.Arn"] {
		t.Errorf("Schedule name %v does not give %s", p["Name"], r.attrs["Schedule.Arn"])
	}
}

func TestScannerBucketAndLogs(t *testing.T) {
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	b := r.properties(t, "ReportBucket")
	mustJSON := func(v any) string { j, _ := json.Marshal(v); return string(j) }
	for what, want := range map[string]string{
		"BucketEncryption":               `{"ServerSideEncryptionConfiguration":[{"BucketKeyEnabled":true,"ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`,
		"VersioningConfiguration":        `{"Status":"Enabled"}`,
		"PublicAccessBlockConfiguration": `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`,
		"OwnershipControls":              `{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}`,
	} {
		if got := mustJSON(b[what]); got != want {
			t.Errorf("ReportBucket %s = %s, want %s", what, got, want)
		}
	}
	if d := r.tp.resource(t, "ReportBucket")["DeletionPolicy"]; d != "Retain" {
		t.Errorf("ReportBucket DeletionPolicy %v: reports are evidence, keep them", d)
	}
	bp := r.properties(t, "ReportBucketPolicy")
	if bp["Bucket"] != r.refs["ReportBucket"] {
		t.Errorf("bucket policy on %v", bp["Bucket"])
	}
	doc := parsePolicy(t, "bucket-policy", bp["PolicyDocument"].(map[string]any))
	// Any principal, any S3 action, over plain HTTP: denied; over TLS: not
	// denied by the bucket policy.
	for _, secure := range []string{"false", "true"} {
		for _, res := range []string{"arn:aws:s3:::" + r.refs["ReportBucket"], "arn:aws:s3:::" + r.refs["ReportBucket"] + "/scheduled/latest/findings.json"} {
			ctx := policy.NewContext().Set("aws:SecureTransport", secure)
			in := &policy.Input{ResourcePolicy: &policy.NamedPolicy{Name: "bucket", Policy: doc}, ResourceAccount: scannerAccount,
				Identity: []policy.NamedPolicy{{Name: "admin", Policy: parsePolicy(t, "admin", map[string]any{"Version": "2012-10-17", "Statement": map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}})}}}
			got := policy.Evaluate(in, policy.Request{Principal: scannerTaskRoleARN, Action: "s3:GetObject", Resource: res, Context: ctx})
			want := policy.ExplicitDeny
			if secure == "true" {
				want = policy.Allowed
			}
			if got.Decision != want {
				t.Errorf("SecureTransport=%s on %s: %s, want %s", secure, res, got.Decision, want)
			}
		}
	}
	lg := r.properties(t, "LogGroup")
	if fmt.Sprint(lg["RetentionInDays"]) != "365" {
		t.Errorf("log retention %v", lg["RetentionInDays"])
	}
}

// The task definition: Fargate, the two roles, a read-only root file
// system, the non-root user of the image, awslogs into the stack's log group,
// and the scan command with the member role, external ID and the report
// bucket.
func TestScannerTaskDefinition(t *testing.T) {
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	td := r.properties(t, "TaskDefinition")
	for k, want := range map[string]any{
		"NetworkMode": "awsvpc", "ExecutionRoleArn": r.attrs["ExecutionRole.Arn"], "TaskRoleArn": r.attrs["TaskRole.Arn"],
		"Family": stackName, "Cpu": "1024", "Memory": "2048",
	} {
		if fmt.Sprint(td[k]) != fmt.Sprint(want) {
			t.Errorf("TaskDefinition %s = %v, want %v", k, td[k], want)
		}
	}
	if !slices.Equal(strs(td["RequiresCompatibilities"]), []string{"FARGATE"}) {
		t.Errorf("RequiresCompatibilities %v", td["RequiresCompatibilities"])
	}
	cds, _ := td["ContainerDefinitions"].([]any)
	if len(cds) != 1 {
		t.Fatalf("%d containers", len(cds))
	}
	c := cds[0].(map[string]any)
	if c["Image"] != ecrImage || c["ReadonlyRootFilesystem"] != true || c["User"] != "65532:65532" || c["Essential"] != true {
		t.Errorf("container %v", c)
	}
	for _, k := range []string{"Environment", "Secrets", "EnvironmentFiles", "Privileged", "LinuxParameters", "PortMappings"} {
		if _, ok := c[k]; ok {
			t.Errorf("container has %s; it needs none", k)
		}
	}
	lc := c["LogConfiguration"].(map[string]any)
	opts := lc["Options"].(map[string]any)
	if lc["LogDriver"] != "awslogs" || opts["awslogs-group"] != r.refs["LogGroup"] || opts["awslogs-stream-prefix"] != "audit" || opts["awslogs-region"] != region {
		t.Errorf("log configuration %v", lc)
	}
	cmd := strs(c["Command"])
	bucket := r.refs["ReportBucket"]
	for flag, want := range map[string]string{
		"--role-name":   "AuditReadOnly",
		"--external-id": externalID,
		"--out":         "s3://" + bucket + "/scheduled/",
		"--baseline":    "s3://" + bucket + "/scheduled/latest/findings.json",
		"--fail-on-new": "high",
		"--format":      "all",
	} {
		i := slices.Index(cmd, flag)
		if i < 0 || i+1 >= len(cmd) || cmd[i+1] != want {
			t.Errorf("command %v: %s should be %q", cmd, flag, want)
		}
	}
	if cmd[0] != "scan" || !slices.Contains(cmd, "--org") {
		t.Errorf("command %v: want scan --org", cmd)
	}
	mp, _ := c["MountPoints"].([]any)
	if len(mp) != 1 || mp[0].(map[string]any)["ContainerPath"] != "/home/audit" {
		t.Errorf("mount points %v: the image's VOLUME /home/audit is the only writable path", mp)
	}
	// The schedule runs exactly this task definition on Fargate.
	s := r.properties(t, "Schedule")
	tg := s["Targets"].([]any)[0].(map[string]any)
	ep := tg["EcsParameters"].(map[string]any)
	if tg["Arn"] != r.attrs["Cluster.Arn"] || tg["RoleArn"] != r.attrs["ScheduleRole.Arn"] || ep["TaskDefinitionArn"] != r.refs["TaskDefinition"] || ep["LaunchType"] != "FARGATE" {
		t.Errorf("schedule target %v", tg)
	}
	if s["ScheduleExpression"] != "cron(0 5 * * ? *)" || s["State"] != "ENABLED" {
		t.Errorf("schedule %v", s)
	}
}

// scannerInventory is what audit would collect from a deployment of
// scanner.yaml: the account's roles and the task definition.
func scannerInventory(t *testing.T, r *resolver) (*inventory.Inventory, *inventory.TaskDefinition) {
	t.Helper()
	acct := r.pseudo["AWS::AccountId"]
	iamData := &inventory.IAM{}
	for _, id := range r.tp.resourcesOfType("AWS::IAM::Role") {
		if !r.enabled(r.tp.resource(t, id)) {
			continue
		}
		trust, pols := rolePolicies(t, r, id)
		tj, _ := json.Marshal(trust)
		role := &inventory.Role{ARN: r.attrs[id+".Arn"], Name: r.refs[id], Path: "/", TrustPolicy: string(tj)}
		for _, p := range pols {
			pj, _ := json.Marshal(p.Doc)
			role.InlinePolicies = append(role.InlinePolicies, inventory.InlinePolicy{Name: p.Name, Document: string(pj)})
		}
		iamData.Roles = append(iamData.Roles, role)
	}
	props := r.properties(t, "TaskDefinition")
	b, _ := json.Marshal(props)
	td := &inventory.TaskDefinition{}
	if err := json.Unmarshal(b, td); err != nil {
		t.Fatalf("task definition: %v", err)
	}
	td.ARN = r.refs["TaskDefinition"]
	td.Revision = 1
	td.Status = "ACTIVE"
	td.Compatibilities = []string{"EC2", "FARGATE"}
	reg := &inventory.Region{
		Name: region, Status: inventory.RegionScanned,
		Clusters:        []*inventory.Cluster{{ARN: r.attrs["Cluster.Arn"], Name: r.refs["Cluster"], Status: "ACTIVE"}},
		TaskDefinitions: []*inventory.TaskDefinition{td},
	}
	// What the task needs to start exists, as after make image and the
	// stack: the stack's log group, and a private ECR image pushed to its
	// repository.
	for _, c := range td.ContainerDefinitions {
		if lc := c.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" {
			g := lc.Options["awslogs-group"]
			reg.LogGroups = append(reg.LogGroups, &inventory.LogGroup{Name: g, Status: inventory.Exists,
				ARN: "arn:aws:logs:" + region + ":" + acct + ":log-group:" + g})
		}
		if ref, ok := inventory.ParseECRImage(c.Image); ok && ref.Registry == acct && ref.Region == region {
			im := ref.Image()
			im.Status = inventory.Exists
			reg.ECRRepositories = append(reg.ECRRepositories, &inventory.ECRRepository{Name: ref.Repository, Status: inventory.Exists,
				ARN: "arn:aws:ecr:" + region + ":" + acct + ":repository/" + ref.Repository, PolicyStatus: inventory.PolicyNone, Images: []inventory.ECRImage{im}})
		}
	}
	inv := &inventory.Inventory{
		Format: inventory.Format, SchemaVersion: inventory.SchemaVersion, CollectedAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
		Partition: "aws", Complete: true,
		Scope:    inventory.Scope{Source: "test", Regions: []string{region}, CallerAccount: acct, Resources: inventory.ResourcesResolved},
		Accounts: []*inventory.Account{{ID: acct, Status: "ACTIVE", IAM: iamData, Regions: []*inventory.Region{reg}}},
	}
	return inv, td
}

// audit's verdict on its own deployment, without AWS: every finding about
// the scanner's task definition or roles is info at most. The other cases
// show that the check can fail: a mismatched image and repository parameter
// are caught.
func TestScannerDeploymentPassesAudit(t *testing.T) {
	publicImage := "ghcr.io/example/audit:v1.0.0"
	tests := []struct {
		name, image, repo string
		want              []string // rule IDs above info, sorted
	}{
		{"image in private ECR", ecrImage, ecrRepo, nil},
		{"image in a public registry", publicImage, "none", nil},
		{"ECR image without its repository", ecrImage, "none", []string{"ER004"}},
		{"ECR image, another repository", ecrImage, "arn:aws:ecr:us-east-1:" + scannerAccount + ":repository/other", []string{"ER004"}},
		{"public image but ECR permissions", publicImage, ecrRepo, []string{"ER006"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := resolved(t, scannerTemplate, scannerParams(tt.image, tt.repo), scannerAccount)
			inv, td := scannerInventory(t, r)
			res := findings.Evaluate(inv, findings.Options{ToolVersion: "test"})
			if !res.Coverage.Complete {
				t.Errorf("coverage incomplete: %+v", res.Coverage)
			}
			if res.Summary.TaskDefinitions != 1 {
				t.Errorf("%d task definitions evaluated, want 1", res.Summary.TaskDefinitions)
			}
			rules := map[string]bool{}
			for _, f := range res.Findings {
				if f.Severity.Rank() > findings.Info.Rank() {
					rules[f.RuleID] = true
					if tt.want == nil {
						t.Errorf("%s %s on %s: %s", f.RuleID, f.Severity, f.ResourceARN, f.Message)
					}
				}
				if f.TaskDefinitionARN != "" && f.TaskDefinitionARN != td.ARN {
					t.Errorf("finding about an unexpected task definition %s", f.TaskDefinitionARN)
				}
			}
			if got := slices.Sorted(mapKeys(rules)); !slices.Equal(got, tt.want) {
				t.Errorf("rules above info: %v, want %v", got, tt.want)
			}
		})
	}
}

// Unused parameters, resources nothing refers to, outputs naming nothing:
// the resolver already rejects references to undefined names; here every
// parameter is used.
func TestTemplatesUseEveryParameter(t *testing.T) {
	for _, file := range []string{memberTemplate, scannerTemplate} {
		tp := loadTemplate(t, file)
		body, _ := json.Marshal(map[string]any{"r": tp.body["Resources"], "c": tp.body["Conditions"], "o": tp.body["Outputs"]})
		for name := range tp.section("Parameters") {
			if !strings.Contains(string(body), `"`+name+`"`) && !strings.Contains(string(body), "${"+name+"}") {
				t.Errorf("%s: parameter %s is not used", file, name)
			}
		}
		// Every output resolves (with synthesised resource values).
		params := memberParams()
		acct := memberAccount
		if file == scannerTemplate {
			params, acct = scannerParams(ecrImage, ecrRepo), scannerAccount
		}
		r := resolved(t, file, params, acct)
		for name, o := range tp.section("Outputs") {
			om := o.(map[string]any)
			if !r.enabled(om) {
				continue
			}
			if _, err := r.resolve(om["Value"]); err != nil {
				t.Errorf("%s: output %s: %v", file, name, err)
			}
		}
		// And every resource's properties resolve.
		for id, def := range tp.section("Resources") {
			if r.enabled(def.(map[string]any)) {
				r.properties(t, id)
			}
		}
	}
}
