package policy

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const (
	acct      = "111122223333"
	otherAcct = "444455556666"
	roleARN   = "arn:aws:iam::111122223333:role/service-role/exec"
	sessARN   = "arn:aws:sts::111122223333:assumed-role/exec/task-1"
	keyARN    = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

func np(t testing.TB, name, doc string) NamedPolicy {
	t.Helper()
	return NamedPolicy{Name: name, Policy: mustParse(t, name, doc)}
}

// stmts wraps statements into a 2012-10-17 document.
func stmts(s ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(s, ",") + `]}`
}

func allowStmt(action, resource string) string {
	return fmt.Sprintf(`{"Effect":"Allow","Action":%q,"Resource":%q}`, action, resource)
}

var fullAccess = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

type evalCase struct {
	name     string
	in       *Input
	req      Request
	want     Decision
	layer    Layer
	level    int
	stmts    []string // "layer:policy#index" of Result.Statements, in order
	keys     []string // UnknownKeys[].Key, in order
	outcomes *Outcomes
	reason   []string // substrings of Reason
	rule     string
}

func refString(r StatementRef) string {
	return fmt.Sprintf("%s:%s#%d", r.Layer, r.Policy, r.Index)
}

func checkEval(t *testing.T, c evalCase) Result {
	t.Helper()
	r := Evaluate(c.in, c.req)
	if r.Decision != c.want {
		t.Fatalf("decision %s, want %s (%s)\nreason: %s\nresult: %+v", r.Decision, c.want, c.rule, r.Reason, r)
	}
	if c.layer != "" && (r.DecidingLayer != c.layer || r.Level != c.level) {
		t.Errorf("deciding layer %s level %d, want %s level %d (%s); reason: %s", r.DecidingLayer, r.Level, c.layer, c.level, c.rule, r.Reason)
	}
	if c.stmts != nil {
		var got []string
		for _, s := range r.Statements {
			got = append(got, refString(s))
		}
		if !reflect.DeepEqual(got, c.stmts) && !(len(got) == 0 && len(c.stmts) == 0) {
			t.Errorf("statements %v, want %v (%s)", got, c.stmts, c.rule)
		}
	}
	if c.keys != nil {
		var got []string
		for _, k := range r.UnknownKeys {
			got = append(got, k.Key)
			if len(k.Statements) == 0 {
				t.Errorf("unknown key %s without statements", k.Key)
			}
		}
		if !reflect.DeepEqual(got, c.keys) && !(len(got) == 0 && len(c.keys) == 0) {
			t.Errorf("unknown keys %v, want %v (%s)", got, c.keys, c.rule)
		}
	}
	if c.outcomes != nil && (r.Outcomes == nil || *r.Outcomes != *c.outcomes) {
		t.Errorf("outcomes %+v, want %+v (%s)", r.Outcomes, c.outcomes, c.rule)
	}
	if (r.Decision == Indeterminate) != (r.Outcomes != nil) {
		t.Errorf("Outcomes %+v with decision %s", r.Outcomes, r.Decision)
	}
	for _, s := range c.reason {
		if !strings.Contains(r.Reason, s) {
			t.Errorf("reason %q lacks %q (%s)", r.Reason, s, c.rule)
		}
	}
	if r.Reason == "" {
		t.Error("empty reason")
	}
	return r
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkEval(t, c) })
	}
}

func TestEvaluateIdentity(t *testing.T) {
	repo := "arn:aws:ecr:us-east-1:111122223333:repository/app"
	notAction := np(t, "inline:notaction", stmts(`{"Sid":"AllButIAM","Effect":"Allow","NotAction":"iam:*","Resource":"`+repo+`"}`))
	denyNotRes := np(t, "inline:s3", stmts(allowStmt("s3:*", "*"),
		`{"Sid":"OnlyConfig","Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::config","arn:aws:s3:::config/*"]}`))
	logs := np(t, "inline:logs", stmts(allowStmt("logs:CreateLogStream", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:*")))
	secrets := np(t, "inline:secrets", stmts(allowStmt("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????")))
	managed := np(t, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy", stmts(`{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}`))
	withPrincipal := np(t, "inline:odd", stmts(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sqs:SendMessage","Resource":"*"}`))
	ident := func(p ...NamedPolicy) *Input { return &Input{Identity: p} }
	req := func(action, resource string) Request {
		return Request{Principal: sessARN, Action: action, Resource: resource, Context: NewContext()}
	}
	runEvalCases(t, []evalCase{
		{name: "managed policy grants GetAuthorizationToken", in: ident(managed), req: req("ecr:GetAuthorizationToken", "*"), want: Allowed, layer: LayerIdentity,
			stmts: []string{"identity:arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy#0"}, reason: []string{"allowed by an identity policy", "AmazonECSTaskExecutionRolePolicy, statement 0"},
			rule: "ecs-facts §3.1 managed policy; §5.1 step 5"},
		{name: "managed policy lacks CreateLogGroup", in: ident(managed), req: req("logs:CreateLogGroup", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app"), want: ImplicitDeny, layer: LayerIdentity,
			reason: []string{"no identity policy", "allows logs:CreateLogGroup"}, rule: "ecs-facts §3.1: no logs:CreateLogGroup; §5.1 implicit deny"},
		{name: "no policies", in: &Input{}, req: req("s3:GetObject", "arn:aws:s3:::b/k"), want: ImplicitDeny, layer: LayerIdentity, rule: "ecs-facts §5.1 step 5: without an allow, implicit deny"},
		{name: "nil input", in: nil, req: req("s3:GetObject", "arn:aws:s3:::b/k"), want: ImplicitDeny, layer: LayerIdentity, rule: "ecs-facts §5.1"},
		{name: "Allow+NotAction does not grant GetAuthorizationToken on *", in: ident(notAction), req: req("ecr:GetAuthorizationToken", "*"), want: ImplicitDeny,
			rule: "ecs-facts §5.2: Allow+NotAction does not reach actions that need * when the statement names specific resources"},
		{name: "Allow+NotAction grants other actions on its resources", in: ident(notAction), req: req("ecr:BatchGetImage", repo), want: Allowed,
			stmts: []string{"identity:inline:notaction#0"}, rule: "ecs-facts §5.2: NotAction with Allow grants everything else on the statement's resources"},
		{name: "Allow+NotAction excludes the listed actions", in: ident(notAction), req: req("iam:PassRole", repo), want: ImplicitDeny, rule: "ecs-facts §5.2 NotAction"},
		{name: "Deny+NotResource denies other buckets", in: ident(denyNotRes), req: req("s3:GetObject", "arn:aws:s3:::other/k"), want: ExplicitDeny, layer: LayerIdentity,
			stmts: []string{"identity:inline:s3#1"}, reason: []string{"explicit Deny in an identity policy (policy inline:s3, statement 1 \"OnlyConfig\")"},
			rule: "ecs-facts §5.3: NotResource with Deny denies everything but the listed ARNs"},
		{name: "Deny+NotResource spares the listed bucket", in: ident(denyNotRes), req: req("s3:GetObject", "arn:aws:s3:::config/app.env"), want: Allowed, rule: "ecs-facts §5.3 NotResource"},
		{name: "log-group:G:* covers the stream", in: ident(logs), req: req("logs:CreateLogStream", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:web/app/1"), want: Allowed,
			rule: "ecs-facts §4 log-stream ARN; §5.3 * spans :"},
		{name: "log-group:G:* does not cover the bare group", in: ident(logs), req: req("logs:CreateLogStream", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app"), want: ImplicitDeny,
			rule: "ecs-facts §5.3: log-group:G:* needs the :"},
		{name: "secret name-??????", in: ident(secrets), req: req("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"), want: Allowed,
			rule: "ecs-facts §4: secret ARN = name + 6 random characters"},
		{name: "secret name-?????? does not cover a longer name", in: ident(secrets), req: req("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-prod-AbCdEf"), want: ImplicitDeny,
			rule: "ecs-facts §4 / §5.3: ? is exactly one character"},
		{name: "action case-insensitive", in: ident(managed), req: req("ECR:getauthorizationtoken", "*"), want: Allowed, rule: "ecs-facts §5.2: case-insensitive"},
		{name: "Principal in an identity policy is ignored", in: ident(withPrincipal), req: req("sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q"), want: Allowed,
			rule: "doc.go: Principal is ignored in identity policies (ecs-facts §5.6: identity policies contain no Principal)"},
		{name: "several policies: any allows", in: ident(logs, secrets, managed), req: req("logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:s"), want: Allowed,
			stmts: []string{"identity:arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy#0"}, rule: "ecs-facts §5.1 step 5: inline and managed policies together"},
	})
}

func TestEvaluateSCP(t *testing.T) {
	full := np(t, "FullAWSAccess", fullAccess)
	denyRegions := np(t, "deny-regions", stmts(`{"Sid":"DenyOutside","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}`))
	onlyS3 := np(t, "allow-s3-only", stmts(allowStmt("s3:*", "*")))
	id := []NamedPolicy{np(t, "inline:all", fullAccess)}
	region := func(r string) Request {
		return Request{Principal: sessARN, Action: "ecr:GetAuthorizationToken", Resource: "*", Context: ctxWith("aws:RequestedRegion", r)}
	}
	runEvalCases(t, []evalCase{
		{name: "every level allows", in: &Input{Identity: id, SCPLevels: [][]NamedPolicy{{full}, {full, denyRegions}, {full}}}, req: region("us-east-1"), want: Allowed, layer: LayerIdentity,
			rule: "ecs-facts §5.1 step 2: an Allow at every level"},
		{name: "a level without an allow", in: &Input{Identity: id, SCPLevels: [][]NamedPolicy{{full}, {onlyS3}, {full}}}, req: region("us-east-1"), want: ImplicitDeny, layer: LayerSCP, level: 1,
			reason: []string{"no SCP at level 1 (policy allow-s3-only) allows ecr:GetAuthorizationToken on *"}, rule: "ecs-facts §5.1 step 2: a level with no allowing SCP is an implicit deny"},
		{name: "the first level without an allow decides", in: &Input{Identity: id, SCPLevels: [][]NamedPolicy{{full}, {onlyS3}, {onlyS3}}}, req: region("us-east-1"), want: ImplicitDeny, layer: LayerSCP, level: 1,
			rule: "ecs-facts §5.1 step 2 (root → OU → account)"},
		{name: "an empty level allows nothing", in: &Input{Identity: id, SCPLevels: [][]NamedPolicy{{full}, {}}}, req: region("us-east-1"), want: ImplicitDeny, layer: LayerSCP, level: 1,
			reason: []string{"no policies"}, rule: "ecs-facts §5.1 step 2"},
		{name: "explicit deny at level 1", in: &Input{Identity: id, SCPLevels: [][]NamedPolicy{{full}, {full, denyRegions}, {full}}}, req: region("ap-south-1"), want: ExplicitDeny, layer: LayerSCP, level: 1,
			stmts: []string{"scp:deny-regions#0"}, rule: "ecs-facts §5.1 step 1: explicit deny in an SCP wins"},
		{name: "region unknown: the deny is uncertain", in: &Input{Identity: id, SCPLevels: [][]NamedPolicy{{full}, {full, denyRegions}}},
			req: Request{Principal: sessARN, Action: "ecr:GetAuthorizationToken", Resource: "*", Context: NewContext()}, want: Indeterminate, layer: LayerSCP, level: 1,
			keys: []string{"aws:RequestedRegion"}, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny}, stmts: []string{"scp:deny-regions#0"},
			rule: "brief three-valued: an uncertain Deny gives Indeterminate with worst case ExplicitDeny"},
		{name: "NotAction exempts iam", in: &Input{Identity: id, SCPLevels: [][]NamedPolicy{{full, denyRegions}}}, req: Request{Principal: sessARN, Action: "iam:GetRole", Resource: "*", Context: ctxWith("aws:RequestedRegion", "ap-south-1")}, want: Allowed,
			rule: "ecs-facts §5.2: Deny+NotAction denies everything else"},
		{name: "SCP allows but identity does not", in: &Input{SCPLevels: [][]NamedPolicy{{full}}}, req: region("us-east-1"), want: ImplicitDeny, layer: LayerIdentity,
			rule: "ecs-facts §5.1: SCPs never grant"},
	})
	// The Reason format of the package documentation.
	r := Evaluate(&Input{Identity: id, SCPLevels: [][]NamedPolicy{{full}, {full, denyRegions}}}, region("ap-south-1"))
	if want := `explicit Deny in SCP level 1 (policy deny-regions, statement 0 "DenyOutside")`; r.Reason != want {
		t.Errorf("reason %q, want %q (api.go Result.Reason example)", r.Reason, want)
	}
	// More levels than the evaluator keeps on its stack.
	var levels [][]NamedPolicy
	for i := 0; i < 12; i++ {
		levels = append(levels, []NamedPolicy{full})
	}
	levels[10] = []NamedPolicy{onlyS3}
	checkEval(t, evalCase{in: &Input{Identity: id, SCPLevels: levels, RCPLevels: levels}, req: region("us-east-1"), want: ImplicitDeny, layer: LayerSCP, level: 10, rule: "ecs-facts §5.1 step 2, deep OU trees"})
}

func TestEvaluateRCP(t *testing.T) {
	rcpFull := np(t, "RCPFullAWSAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)
	orgOnly := np(t, "org-only", stmts(`{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":["s3:*","secretsmanager:*","kms:*","sts:*","sqs:*"],"Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}`))
	denyOther := np(t, "deny-other-principal", stmts(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"*","Resource":"*"}`))
	id := []NamedPolicy{np(t, "inline:secrets", stmts(allowStmt("secretsmanager:GetSecretValue", "*")))}
	req := func(ctx *Context) Request {
		return Request{Principal: sessARN, Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf", Context: ctx}
	}
	inside := ctxWith("aws:PrincipalOrgID", "o-abc", "aws:PrincipalIsAWSService", "false")
	outside := ctxWith("aws:PrincipalOrgID", "o-xyz", "aws:PrincipalIsAWSService", "false")
	runEvalCases(t, []evalCase{
		{name: "inside the org", in: &Input{Identity: id, RCPLevels: [][]NamedPolicy{{rcpFull}, {rcpFull, orgOnly}}}, req: req(inside), want: Allowed, rule: "ecs-facts §5.1 step 3: RCPFullAWSAccess at every level"},
		{name: "outside the org", in: &Input{Identity: id, RCPLevels: [][]NamedPolicy{{rcpFull}, {rcpFull, orgOnly}}}, req: req(outside), want: ExplicitDeny, layer: LayerRCP, level: 1,
			reason: []string{"explicit Deny in RCP level 1 (policy org-only, statement 0 \"OrgOnly\")"}, rule: "ecs-facts §5.1 step 3: any deny on the path denies"},
		{name: "org unknown", in: &Input{Identity: id, RCPLevels: [][]NamedPolicy{{rcpFull, orgOnly}}}, req: req(ctxWith("aws:PrincipalIsAWSService", "false")), want: Indeterminate,
			keys: []string{"aws:PrincipalOrgID"}, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny}, rule: "brief three-valued; ecs-facts §5.4 IfExists with unknown key"},
		{name: "RCP level without allow", in: &Input{Identity: id, RCPLevels: [][]NamedPolicy{{rcpFull}, {orgOnly}}}, req: req(inside), want: ImplicitDeny, layer: LayerRCP, level: 1,
			rule: "brief: RCP levels likewise need an Allow at every level"},
		{name: "RCP statement naming another principal does not apply", in: &Input{Identity: id, RCPLevels: [][]NamedPolicy{{rcpFull, denyOther}}}, req: req(inside), want: Allowed,
			rule: "brief: RCP statements also match on Principal"},
	})
}

func TestEvaluateBoundary(t *testing.T) {
	id := []NamedPolicy{np(t, "inline:all", stmts(allowStmt("ssm:GetParameters", "*"), allowStmt("s3:GetObject", "*")))}
	bSSM := np(t, "boundary:ssm", stmts(allowStmt("ssm:*", "*")))
	bDeny := np(t, "boundary:deny", stmts(allowStmt("*", "*"), `{"Sid":"NoParams","Effect":"Deny","Action":"ssm:GetParameters","Resource":"*"}`))
	req := func(action string) Request {
		return Request{Principal: sessARN, Action: action, Resource: "arn:aws:ssm:us-east-1:111122223333:parameter/app/db", Context: NewContext()}
	}
	runEvalCases(t, []evalCase{
		{name: "inside the boundary", in: &Input{Identity: id, Boundary: []NamedPolicy{bSSM}}, req: req("ssm:GetParameters"), want: Allowed, layer: LayerIdentity,
			stmts: []string{"identity:inline:all#0", "permissions-boundary:boundary:ssm#0"}, reason: []string{"within the permissions boundary"},
			rule: "ecs-facts §5.1 step 6: effective permissions are the intersection"},
		{name: "outside the boundary", in: &Input{Identity: id, Boundary: []NamedPolicy{bSSM}}, req: req("s3:GetObject"), want: ImplicitDeny, layer: LayerBoundary,
			reason: []string{"the permissions boundary (policy boundary:ssm) does not allow s3:GetObject"}, rule: "ecs-facts §5.1 step 6"},
		{name: "explicit deny in the boundary", in: &Input{Identity: id, Boundary: []NamedPolicy{bDeny}}, req: req("ssm:GetParameters"), want: ExplicitDeny, layer: LayerBoundary,
			stmts: []string{"permissions-boundary:boundary:deny#1"}, reason: []string{"explicit Deny in the permissions boundary (policy boundary:deny, statement 1 \"NoParams\")"},
			rule: "ecs-facts §5.1 step 1: explicit deny in the permissions boundary"},
		{name: "boundary alone grants nothing", in: &Input{Boundary: []NamedPolicy{bSSM}}, req: req("ssm:GetParameters"), want: ImplicitDeny, layer: LayerIdentity,
			rule: "ecs-facts §5.1 step 6: a boundary only limits"},
		{name: "several boundary documents: any allows", in: &Input{Identity: id, Boundary: []NamedPolicy{bSSM, np(t, "boundary:s3", stmts(allowStmt("s3:*", "*")))}}, req: req("s3:GetObject"), want: Allowed,
			rule: "api.go Input.Boundary: several documents are one layer"},
	})
}

func TestEvaluateResourcePolicySameAccount(t *testing.T) {
	bucket := "arn:aws:s3:::config-bucket/app.env"
	rp := func(principal string) *NamedPolicy {
		p := np(t, "bucket-policy", stmts(`{"Sid":"Read","Effect":"Allow","Principal":`+principal+`,"Action":"s3:GetObject","Resource":"arn:aws:s3:::config-bucket/*"}`))
		return &p
	}
	noS3Boundary := []NamedPolicy{np(t, "boundary:ssm", stmts(allowStmt("ssm:*", "*")))}
	in := func(p *NamedPolicy, boundary []NamedPolicy) *Input {
		return &Input{ResourcePolicy: p, Boundary: boundary, ResourceAccount: acct}
	}
	req := Request{Principal: sessARN, Action: "s3:GetObject", Resource: bucket, Context: NewContext()}
	runEvalCases(t, []evalCase{
		{name: "role ARN named, no identity allow", in: in(rp(`{"AWS":"`+roleARN+`"}`), nil), req: req, want: Allowed, layer: LayerResourcePolicy,
			stmts: []string{"resource-policy:bucket-policy#0"}, reason: []string{"allowed by the resource policy (policy bucket-policy, statement 0 \"Read\")"},
			rule: "ecs-facts §5.1 step 4: same account, an allow in the resource policy is enough"},
		{name: "role ARN named, path ignored for the session", in: in(rp(`{"AWS":"arn:aws:iam::111122223333:role/exec"}`), nil), req: req, want: Allowed,
			rule: "ecs-facts §4: the session ARN has no role path"},
		{name: "role ARN named, limited by the boundary", in: in(rp(`{"AWS":"`+roleARN+`"}`), noS3Boundary), req: req, want: ImplicitDeny, layer: LayerBoundary,
			rule: "ecs-facts §5.1 step 4: a resource policy naming the role ARN is still limited by the boundary"},
		{name: "session ARN named, not limited by the boundary", in: in(rp(`{"AWS":"`+sessARN+`"}`), noS3Boundary), req: req, want: Allowed, layer: LayerResourcePolicy,
			reason: []string{"names the role session directly"}, rule: "ecs-facts §5.1 step 4: naming the role-session ARN grants directly"},
		{name: "* named, limited by the boundary", in: in(rp(`"*"`), noS3Boundary), req: req, want: ImplicitDeny, layer: LayerBoundary,
			rule: "brief: role ARN or * is still limited by the boundary"},
		{name: "* named, no boundary", in: in(rp(`{"AWS":"*"}`), nil), req: req, want: Allowed, rule: "ecs-facts §5.1 step 4"},
		{name: "account root only delegates", in: in(rp(`{"AWS":"arn:aws:iam::111122223333:root"}`), nil), req: req, want: ImplicitDeny, layer: LayerIdentity,
			rule: "brief: an account-root principal only delegates (needs an identity allow)"},
		{name: "account ID only delegates", in: in(rp(`{"AWS":"111122223333"}`), nil), req: req, want: ImplicitDeny, layer: LayerIdentity, rule: "brief: account ID = account root"},
		{name: "another role named", in: in(rp(`{"AWS":"arn:aws:iam::111122223333:role/other"}`), nil), req: req, want: ImplicitDeny, rule: "ecs-facts §5.1"},
		{name: "session of another role", in: in(rp(`{"AWS":"arn:aws:sts::111122223333:assumed-role/exec/task-2"}`), nil), req: req, want: ImplicitDeny, rule: "a session ARN names one session"},
		{name: "statement without Principal does not apply", in: in(func() *NamedPolicy {
			p := np(t, "bucket-policy", stmts(allowStmt("s3:GetObject", "arn:aws:s3:::config-bucket/*")))
			return &p
		}(), nil), req: req, want: ImplicitDeny, rule: "ecs-facts §5.6: resource policies name a Principal"},
	})
	// Identity allow plus account delegation: identity decides.
	id := []NamedPolicy{np(t, "inline:s3", stmts(allowStmt("s3:GetObject", "*")))}
	checkEval(t, evalCase{in: &Input{Identity: id, ResourcePolicy: rp(`{"AWS":"111122223333"}`)}, req: req, want: Allowed, layer: LayerIdentity, rule: "ecs-facts §5.1 step 4/5"})
	// An explicit deny in the resource policy wins over an identity allow.
	deny := np(t, "bucket-policy", stmts(`{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::config-bucket/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`))
	checkEval(t, evalCase{in: &Input{Identity: id, ResourcePolicy: &deny}, req: Request{Principal: sessARN, Action: "s3:GetObject", Resource: bucket, Context: ctxWith("aws:SecureTransport", "false")},
		want: ExplicitDeny, layer: LayerResourcePolicy, reason: []string{"explicit Deny in the resource policy (policy bucket-policy, statement 0 \"TLS\")"}, rule: "ecs-facts §5.1 step 1"})
	checkEval(t, evalCase{in: &Input{Identity: id, ResourcePolicy: &deny}, req: Request{Principal: sessARN, Action: "s3:GetObject", Resource: bucket, Context: ctxWith("aws:SecureTransport", "true")},
		want: Allowed, rule: "ecs-facts §5.1"})
}

func TestEvaluateNotPrincipal(t *testing.T) {
	id := []NamedPolicy{np(t, "inline:s3", stmts(allowStmt("s3:GetObject", "*")))}
	rp := func(list string) *NamedPolicy {
		p := np(t, "bucket-policy", stmts(`{"Sid":"OnlyExec","Effect":"Deny","NotPrincipal":{"AWS":`+list+`},"Action":"s3:*","Resource":"*"}`))
		return &p
	}
	req := Request{Principal: sessARN, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: NewContext()}
	runEvalCases(t, []evalCase{
		{name: "role and account listed: exempt", in: &Input{Identity: id, ResourcePolicy: rp(`["arn:aws:iam::111122223333:root","` + roleARN + `"]`)}, req: req, want: Allowed,
			rule: "IAMUG reference_policies_elements_notprincipal: include both the role ARN and the account ARN"},
		{name: "role only: denied", in: &Input{Identity: id, ResourcePolicy: rp(`["` + roleARN + `"]`)}, req: req, want: ExplicitDeny, layer: LayerResourcePolicy,
			rule: "IAMUG reference_policies_elements_notprincipal: without the account ARN the policy might deny the account"},
		{name: "another role: denied", in: &Input{Identity: id, ResourcePolicy: rp(`["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:role/other"]`)}, req: req, want: ExplicitDeny,
			rule: "IAMUG reference_policies_elements_notprincipal: deny all but the listed"},
		{name: "session and account listed: exempt", in: &Input{Identity: id, ResourcePolicy: rp(`["111122223333","` + sessARN + `"]`)}, req: req, want: Allowed,
			rule: "IAMUG reference_policies_elements_notprincipal"},
	})
}

func TestEvaluateCrossAccount(t *testing.T) {
	secret := "arn:aws:secretsmanager:us-east-1:444455556666:secret:shared-AbCdEf"
	id := []NamedPolicy{np(t, "inline:secrets", stmts(allowStmt("secretsmanager:GetSecretValue", "*")))}
	rp := func(principal string) *NamedPolicy {
		p := np(t, "secret-policy", stmts(`{"Sid":"Share","Effect":"Allow","Principal":`+principal+`,"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
		return &p
	}
	req := Request{Principal: sessARN, Action: "secretsmanager:GetSecretValue", Resource: secret, Context: NewContext()}
	runEvalCases(t, []evalCase{
		{name: "no resource policy given", in: &Input{Identity: id}, req: req, want: Indeterminate, layer: LayerResourcePolicy,
			outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny}, keys: []string{}, stmts: []string{},
			reason: []string{"the resource policy of account 444455556666, which was not provided"}, rule: "brief: cross-account without the resource policy → Indeterminate"},
		{name: "resource policy known absent", in: &Input{Identity: id, ResourcePolicyAbsent: true}, req: req, want: ImplicitDeny, layer: LayerResourcePolicy,
			stmts: []string{}, reason: []string{"the resource of account 444455556666 has no resource policy, so nothing allows principal " + sessARN, "cross-account access needs both sides"},
			rule: "ecs-facts §5.1 cross-account: without a resource policy nothing in the resource's account allows"},
		{name: "resource policy known absent, no identity allow", in: &Input{ResourcePolicyAbsent: true}, req: req, want: ImplicitDeny, layer: LayerIdentity,
			rule: "ecs-facts §5.1 cross-account: the identity side is reported first"},
		{name: "absent is ignored when a policy is given", in: &Input{Identity: id, ResourcePolicy: rp(`{"AWS":"` + roleARN + `"}`), ResourcePolicyAbsent: true}, req: req, want: Allowed,
			rule: "api.go Input.ResourcePolicyAbsent: ignored when ResourcePolicy is set"},
		{name: "absent in the same account changes nothing", in: &Input{Identity: id, ResourcePolicyAbsent: true},
			req: Request{Principal: sessARN, Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:own-AbCdEf"}, want: Allowed, layer: LayerIdentity,
			rule: "ecs-facts §5.1 same account: the identity policy is enough"},
		{name: "absent with a conditional identity allow", in: &Input{Identity: []NamedPolicy{np(t, "inline:vpce", stmts(`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}`))}, ResourcePolicyAbsent: true},
			req: req, want: ImplicitDeny, layer: LayerResourcePolicy, rule: "no value of the unknown key makes the absent policy allow"},
		{name: "no resource policy, no identity allow", in: &Input{}, req: req, want: ImplicitDeny, layer: LayerIdentity,
			reason: []string{"cross-account"}, rule: "ecs-facts §5.1 cross-account: the identity policy must allow"},
		{name: "resource policy names the role", in: &Input{Identity: id, ResourcePolicy: rp(`{"AWS":"` + roleARN + `"}`)}, req: req, want: Allowed, layer: LayerResourcePolicy,
			stmts: []string{"resource-policy:secret-policy#0", "identity:inline:secrets#0"}, reason: []string{"allowed across accounts"},
			rule: "ecs-facts §5.1 cross-account: both sides allow"},
		{name: "resource policy names the account", in: &Input{Identity: id, ResourcePolicy: rp(`{"AWS":"arn:aws:iam::111122223333:root"}`)}, req: req, want: Allowed,
			rule: "ecs-facts §5.1 cross-account: an account principal delegates to the other account's identity policies"},
		{name: "resource policy names another account", in: &Input{Identity: id, ResourcePolicy: rp(`{"AWS":"999999999999"}`)}, req: req, want: ImplicitDeny, layer: LayerResourcePolicy,
			reason: []string{"of account 444455556666 does not allow principal " + sessARN}, rule: "ecs-facts §5.1 cross-account"},
		{name: "resource policy allows, identity does not", in: &Input{ResourcePolicy: rp(`{"AWS":"` + roleARN + `"}`)}, req: req, want: ImplicitDeny, layer: LayerIdentity,
			rule: "ecs-facts §5.1 cross-account: the identity policy in the role's account must allow too"},
		{name: "boundary applies across accounts", in: &Input{Identity: id, Boundary: []NamedPolicy{np(t, "b", stmts(allowStmt("s3:*", "*")))}, ResourcePolicy: rp(`"*"`)}, req: req, want: ImplicitDeny, layer: LayerBoundary,
			rule: "ecs-facts §5.1 step 6"},
		{name: "ResourceAccount for an S3 ARN", in: &Input{Identity: []NamedPolicy{np(t, "s3", stmts(allowStmt("s3:GetObject", "*")))}, ResourceAccount: otherAcct},
			req: Request{Principal: sessARN, Action: "s3:GetObject", Resource: "arn:aws:s3:::their-bucket/k"}, want: Indeterminate,
			rule: "api.go Input.ResourceAccount; ecs-facts §4: S3 ARNs have no account"},
		{name: "S3 ARN without ResourceAccount is same-account", in: &Input{Identity: []NamedPolicy{np(t, "s3", stmts(allowStmt("s3:GetObject", "*")))}},
			req: Request{Principal: sessARN, Action: "s3:GetObject", Resource: "arn:aws:s3:::my-bucket/k"}, want: Allowed,
			rule: "api.go Input.ResourceAccount: when the ARN has no account, the principal's is assumed"},
	})
}

func TestEvaluateKMS(t *testing.T) {
	id := []NamedPolicy{np(t, "inline:kms", stmts(allowStmt("kms:Decrypt", keyARN)))}
	key := func(principal string) *NamedPolicy {
		p := np(t, "key-policy", stmts(`{"Sid":"Use","Effect":"Allow","Principal":`+principal+`,"Action":"kms:Decrypt","Resource":"*"}`))
		return &p
	}
	kms := func(identity []NamedPolicy, kp *NamedPolicy, boundary []NamedPolicy) *Input {
		return &Input{Identity: identity, Boundary: boundary, ResourcePolicy: kp, ResourcePolicyKind: ResourcePolicyKMSKey}
	}
	req := Request{Principal: sessARN, Action: "kms:Decrypt", Resource: keyARN, Context: NewContext()}
	runEvalCases(t, []evalCase{
		{name: "key policy does not delegate to IAM", in: kms(id, key(`{"AWS":"arn:aws:iam::111122223333:role/admin"}`), nil), req: req, want: ImplicitDeny, layer: LayerResourcePolicy,
			reason: []string{"the KMS key policy (policy key-policy) neither allows principal " + sessARN + " nor delegates to account 111122223333"},
			rule:   "ecs-facts §1.9: the key policy must allow, directly or by delegating to IAM; an identity allow alone is not enough"},
		{name: "key policy delegates via account root, identity allows", in: kms(id, key(`{"AWS":"arn:aws:iam::111122223333:root"}`), nil), req: req, want: Allowed, layer: LayerIdentity,
			stmts: []string{"resource-policy:key-policy#0", "identity:inline:kms#0"}, reason: []string{"under the delegation to account 111122223333"},
			rule: "ecs-facts §1.9: delegating to IAM"},
		{name: "key policy delegates, identity does not allow", in: kms(nil, key(`{"AWS":"arn:aws:iam::111122223333:root"}`), nil), req: req, want: ImplicitDeny, layer: LayerIdentity,
			reason: []string{"delegates to account 111122223333 but no identity policy allows"}, rule: "ecs-facts §1.9 delegation needs an identity allow"},
		{name: "key policy names the role", in: kms(nil, key(`{"AWS":"`+roleARN+`"}`), nil), req: req, want: Allowed, layer: LayerResourcePolicy,
			rule: "ecs-facts §1.9: the key policy allows directly"},
		{name: "key policy names the role, boundary blocks", in: kms(nil, key(`{"AWS":"`+roleARN+`"}`), []NamedPolicy{np(t, "b", stmts(allowStmt("s3:*", "*")))}), req: req, want: ImplicitDeny, layer: LayerBoundary,
			rule: "ecs-facts §5.1 step 4: naming the role ARN is limited by the boundary"},
		{name: "key policy not provided", in: kms(id, nil, nil), req: req, want: Indeterminate, layer: LayerResourcePolicy, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny},
			reason: []string{"the KMS key policy", "which was not provided"}, rule: "brief: no key policy given → Indeterminate"},
		{name: "key policy known absent", in: &Input{Identity: id, ResourcePolicyKind: ResourcePolicyKMSKey, ResourcePolicyAbsent: true}, req: req, want: ImplicitDeny, layer: LayerResourcePolicy,
			reason: []string{"has no KMS key policy, so nothing allows principal " + sessARN + " to perform kms:Decrypt"},
			rule:   "api.go Input.ResourcePolicyAbsent; ecs-facts §1.9: nothing but the key policy can open a key"},
		{name: "key in another account, delegated", in: &Input{Identity: []NamedPolicy{np(t, "inline:kms", stmts(allowStmt("kms:Decrypt", "*")))}, ResourcePolicy: key(`{"AWS":"arn:aws:iam::111122223333:root"}`), ResourcePolicyKind: ResourcePolicyKMSKey},
			req: Request{Principal: sessARN, Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:444455556666:key/k"}, want: Allowed, layer: LayerResourcePolicy,
			rule: "ecs-facts §5.1 cross-account KMS key: both sides"},
		{name: "key in another account, no identity allow", in: &Input{ResourcePolicy: key(`{"AWS":"` + roleARN + `"}`), ResourcePolicyKind: ResourcePolicyKMSKey},
			req: Request{Principal: sessARN, Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:444455556666:key/k"}, want: ImplicitDeny, layer: LayerIdentity,
			rule: "ecs-facts §5.1 cross-account: identity must allow"},
	})
}

func TestEvaluateTrust(t *testing.T) {
	trust := np(t, "trust-policy", `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	confused := np(t, "trust-policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-west-2:111122223333:*"},"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`)
	in := func(p *NamedPolicy) *Input {
		return &Input{ResourcePolicy: p, ResourcePolicyKind: ResourcePolicyTrust, ResourceAccount: acct}
	}
	req := func(principal string, ctx *Context) Request {
		return Request{Principal: principal, Action: "sts:AssumeRole", Resource: roleARN, Context: ctx}
	}
	runEvalCases(t, []evalCase{
		{name: "ecs-tasks may assume", in: in(&trust), req: req("ecs-tasks.amazonaws.com", nil), want: Allowed, layer: LayerResourcePolicy,
			stmts: []string{"resource-policy:trust-policy#0"}, reason: []string{"allowed by the trust policy"}, rule: "ecs-facts §3.2 standard trust policy"},
		{name: "service principal case", in: in(&trust), req: req("ECS-TASKS.amazonaws.com", nil), want: Allowed, rule: "service principal names compare case-insensitively"},
		{name: "another service may not", in: in(&trust), req: req("ec2.amazonaws.com", nil), want: ImplicitDeny, layer: LayerResourcePolicy,
			reason: []string{"the trust policy (policy trust-policy) does not allow principal ec2.amazonaws.com to perform sts:AssumeRole"}, rule: "ecs-facts §3.2"},
		{name: "trust policy known absent", in: &Input{ResourcePolicyKind: ResourcePolicyTrust, ResourceAccount: acct, ResourcePolicyAbsent: true}, req: req("ecs-tasks.amazonaws.com", nil), want: ImplicitDeny, layer: LayerResourcePolicy,
			reason: []string{"has no trust policy"}, rule: "api.go Input.ResourcePolicyAbsent"},
		{name: "trust policy not provided", in: in(nil), req: req("ecs-tasks.amazonaws.com", nil), want: Indeterminate, reason: []string{"the trust policy", "not provided"}, rule: "brief: a needed policy not provided"},
		{name: "confused-deputy conditions known", in: in(&confused), req: req("ecs-tasks.amazonaws.com", NewContext().SetPrefix("aws:SourceArn", "arn:aws:ecs:us-west-2:111122223333:").Set("aws:SourceAccount", acct)), want: Allowed,
			rule: "ecs-facts §3.3 with a prefix-known aws:SourceArn"},
		{name: "confused-deputy conditions unknown", in: in(&confused), req: req("ecs-tasks.amazonaws.com", NewContext()), want: Indeterminate,
			keys: []string{"aws:SourceAccount", "aws:SourceArn"}, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny},
			rule: "ecs-facts §3.3: whether ECS fills in aws:SourceAccount/aws:SourceArn is UNCONFIRMED → Indeterminate naming both keys"},
		{name: "identity policies do not matter", in: &Input{Identity: []NamedPolicy{np(t, "x", fullAccess)}, ResourcePolicy: &confused, ResourcePolicyKind: ResourcePolicyTrust},
			req: req("ecs-tasks.amazonaws.com", NewContext().SetAbsent("aws:SourceAccount")), want: ImplicitDeny, layer: LayerResourcePolicy, rule: "ecs-facts §5.1: trust policies must allow themselves"},
	})
}

func TestEvaluateUnknownContext(t *testing.T) {
	vpce := np(t, "inline:ecr", stmts(`{"Sid":"ViaEndpoint","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-0123"}}}`))
	denyOutside := np(t, "inline:deny", stmts(allowStmt("ecr:*", "*"), `{"Sid":"OnlyEndpoint","Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0123"}}}`))
	req := func(ctx *Context) Request {
		return Request{Principal: sessARN, Action: "ecr:GetAuthorizationToken", Resource: "*", Context: ctx}
	}
	runEvalCases(t, []evalCase{
		{name: "SourceVpce unknown", in: &Input{Identity: []NamedPolicy{vpce}}, req: req(NewContext()), want: Indeterminate, layer: LayerIdentity,
			stmts: []string{"identity:inline:ecr#0"}, keys: []string{"aws:SourceVpce"}, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny},
			reason: []string{"the unknown condition key aws:SourceVpce", "policy inline:ecr, statement 0 \"ViaEndpoint\""},
			rule:   "brief: a condition on aws:SourceVpce with unknown value → Indeterminate naming the key"},
		{name: "SourceVpce absent", in: &Input{Identity: []NamedPolicy{vpce}}, req: req(NewContext().SetAbsent("aws:SourceVpce")), want: ImplicitDeny, layer: LayerIdentity,
			rule: "ecs-facts §5.4 missing key → false; ecs-facts §1.3 Fargate GetAuthorizationToken does not come through the endpoint"},
		{name: "SourceVpce matches", in: &Input{Identity: []NamedPolicy{vpce}}, req: req(ctxWith("aws:SourceVpce", "vpce-0123")), want: Allowed, rule: "ecs-facts §5.4"},
		{name: "deny unless endpoint, absent", in: &Input{Identity: []NamedPolicy{denyOutside}}, req: req(NewContext().SetAbsent("aws:SourceVpce")), want: ExplicitDeny, layer: LayerIdentity,
			stmts: []string{"identity:inline:deny#1"}, rule: "ecs-facts §5.4: negated operator with a missing key → true, so the Deny applies"},
		{name: "deny unless endpoint, unknown", in: &Input{Identity: []NamedPolicy{denyOutside}}, req: req(NewContext()), want: Indeterminate,
			stmts: []string{"identity:inline:deny#1"}, keys: []string{"aws:SourceVpce"}, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny},
			rule: "brief three-valued: ExplicitDeny only if the deny statement is certain"},
		{name: "deny unless endpoint, through it", in: &Input{Identity: []NamedPolicy{denyOutside}}, req: req(ctxWith("aws:SourceVpce", "vpce-0123")), want: Allowed, rule: "ecs-facts §5.4"},
		{name: "best case not allowed is certain", in: &Input{Identity: []NamedPolicy{vpce}, SCPLevels: [][]NamedPolicy{{np(t, "s3-only", stmts(allowStmt("s3:*", "*")))}}}, req: req(NewContext()),
			want: ImplicitDeny, layer: LayerSCP, rule: "brief: best case not Allowed → that decision (certain)"},
		{name: "a certain allow makes a conditional one irrelevant", in: &Input{Identity: []NamedPolicy{vpce, np(t, "managed", stmts(allowStmt("ecr:GetAuthorizationToken", "*")))}}, req: req(NewContext()),
			want: Allowed, stmts: []string{"identity:managed#0"}, rule: "ecs-facts §5.1: any allow in the layer"},
	})
}

func TestEvaluatePolicyVariables(t *testing.T) {
	id := []NamedPolicy{np(t, "inline:team", stmts(`{"Sid":"TeamParams","Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:us-east-1:111122223333:parameter/${aws:PrincipalTag/team}/*"}`))}
	def := []NamedPolicy{np(t, "inline:shared", stmts(`{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:us-east-1:111122223333:parameter/${aws:PrincipalTag/team, 'company-wide'}/*"}`))}
	old := []NamedPolicy{np(t, "inline:old", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:us-east-1:111122223333:parameter/${aws:PrincipalTag/team}/*"}]}`)}
	req := func(param string, ctx *Context) Request {
		return Request{Principal: sessARN, Action: "ssm:GetParameters", Resource: "arn:aws:ssm:us-east-1:111122223333:parameter/" + param, Context: ctx}
	}
	runEvalCases(t, []evalCase{
		{name: "tag present", in: &Input{Identity: id}, req: req("payments/db", ctxWith("aws:PrincipalTag/team", "payments")), want: Allowed, rule: "ecs-facts §5.5"},
		{name: "tag absent", in: &Input{Identity: id}, req: req("payments/db", NewContext().SetAbsent("aws:PrincipalTag/team")), want: ImplicitDeny,
			rule: "ecs-facts §5.5: a missing key has no value, the element does not match"},
		{name: "tag unknown", in: &Input{Identity: id}, req: req("payments/db", NewContext()), want: Indeterminate, keys: []string{"aws:PrincipalTag/team"},
			stmts: []string{"identity:inline:team#0"}, rule: "brief: a variable whose key is unknown → Indeterminate"},
		{name: "default used", in: &Input{Identity: def}, req: req("company-wide/db", NewContext().SetAbsent("aws:PrincipalTag/team")), want: Allowed, rule: "ecs-facts §5.5 default value"},
		{name: "2008-10-17 keeps ${...} literal", in: &Input{Identity: old}, req: req("payments/db", ctxWith("aws:PrincipalTag/team", "payments")), want: ImplicitDeny,
			rule: "ecs-facts §5.5: variables only with Version 2012-10-17"},
	})
}

func TestEvaluateIndeterminateDetails(t *testing.T) {
	// Several unknown keys, sorted case-insensitively, each with its
	// statements; results are deterministic.
	p := np(t, "inline:multi", stmts(
		`{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"v","s3:ExistingObjectTag/env":"prod"}}}`,
		`{"Sid":"B","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`,
		`{"Sid":"C","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"AWS:SOURCEVPCE":"w"}}}`))
	in := &Input{Identity: []NamedPolicy{p}}
	req := Request{Principal: sessARN, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: NewContext()}
	r := checkEval(t, evalCase{in: in, req: req, want: Indeterminate, keys: []string{"aws:SourceIp", "aws:SourceVpce", "s3:ExistingObjectTag/env"},
		stmts: []string{"identity:inline:multi#0", "identity:inline:multi#1", "identity:inline:multi#2"}, rule: "brief: UnknownKeys sorted deterministically"})
	if len(r.UnknownKeys[1].Statements) != 2 || r.UnknownKeys[1].Statements[0].Sid != "A" || r.UnknownKeys[1].Statements[1].Sid != "C" {
		t.Errorf("aws:SourceVpce statements %+v (keys are case-insensitive: A and C)", r.UnknownKeys[1].Statements)
	}
	for _, s := range r.Statements {
		if !s.Conditional {
			t.Errorf("statement %+v not marked conditional", s)
		}
	}
	for i := 0; i < 5; i++ {
		if r2 := Evaluate(in, req); !reflect.DeepEqual(r, r2) {
			t.Fatalf("not deterministic:\n%+v\n%+v", r, r2)
		}
	}
}

func TestEvaluateManyMatchingStatements(t *testing.T) {
	// More applying statements than the evaluator records without a second
	// pass: the result lists all of them, in order.
	var s []string
	for i := 0; i < maxHits+8; i++ {
		s = append(s, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`, i))
	}
	p := np(t, "big", stmts(s...))
	r := Evaluate(&Input{Identity: []NamedPolicy{p}, SCPLevels: [][]NamedPolicy{{np(t, "f", fullAccess)}}}, Request{Principal: sessARN, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"})
	if r.Decision != Allowed || len(r.Statements) != maxHits+8 {
		t.Fatalf("decision %s with %d statements", r.Decision, len(r.Statements))
	}
	for i, st := range r.Statements {
		if st.Index != i {
			t.Fatalf("statement %d has index %d", i, st.Index)
		}
	}
	// Deny statements beyond the limit.
	var d []string
	for i := 0; i < maxHits+3; i++ {
		d = append(d, `{"Effect":"Deny","Action":"s3:*","Resource":"*"}`)
	}
	r = Evaluate(&Input{Identity: []NamedPolicy{p, np(t, "denies", stmts(d...))}}, Request{Principal: sessARN, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"})
	if r.Decision != ExplicitDeny || len(r.Statements) != maxHits+3 {
		t.Fatalf("decision %s with %d statements", r.Decision, len(r.Statements))
	}
}

func TestEvaluateNilPolicies(t *testing.T) {
	// A nil *Policy is skipped; a hand-built Policy matches nothing
	// (doc.go: policies must come from Parse).
	in := &Input{Identity: []NamedPolicy{{Name: "nil"}, {Name: "hand", Policy: &Policy{Name: "hand", Statements: []*Statement{{Effect: "Allow", Actions: []string{"*"}}}}}},
		ResourcePolicy: &NamedPolicy{Name: "nil-rp"}, SCPLevels: [][]NamedPolicy{{{Name: "nil-scp"}}}}
	r := Evaluate(in, Request{Action: "s3:GetObject", Resource: "*"})
	if r.Decision != ImplicitDeny {
		t.Fatalf("decision %s", r.Decision)
	}
}

func TestStatementHelpers(t *testing.T) {
	p := mustParse(t, "h", stmts(
		`{"Effect":"Allow","Action":["ecr:Get*","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:111122223333:log-group:/ecs/*"}`,
		`{"Effect":"Deny","Principal":{"AWS":"111122223333"},"NotAction":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`))
	a, d := p.Statements[0], p.Statements[1]
	// ecs-facts §5.2 / §5.3.
	if !a.MatchesAction("ECR:GetAuthorizationToken") || a.MatchesAction("ecr:BatchGetImage") || !d.MatchesAction("kms:Decrypt") || d.MatchesAction("s3:GetObject") {
		t.Error("MatchesAction")
	}
	if a.MatchesResource("arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:x", nil) != TriTrue || a.MatchesResource("*", nil) != TriFalse {
		t.Error("MatchesResource")
	}
	if !d.MatchesPrincipal(sessARN) || d.MatchesPrincipal("arn:aws:iam::444455556666:role/x") || a.MatchesPrincipal(sessARN) {
		t.Error("MatchesPrincipal")
	}
	if d.ConditionsHold(ctxWith("aws:SecureTransport", "false")) != TriTrue || d.ConditionsHold(nil) != TriUnknown {
		t.Error("ConditionsHold")
	}
	if a.Applies(Request{Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:x"}) != TriTrue {
		t.Error("Applies")
	}
	if a.IsDeny() || !d.IsDeny() {
		t.Error("IsDeny")
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	// Contexts and policies are built once and evaluated many times, also
	// from several goroutines (brief: reuse).
	in := &Input{Identity: benchRole(t, 10, 20), SCPLevels: benchSCPs(t)}
	reqs := benchRequests()
	want := make([]Result, len(reqs))
	for i, r := range reqs {
		want[i] = Evaluate(in, r)
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- true }()
			for n := 0; n < 200; n++ {
				i := n % len(reqs)
				if got := Evaluate(in, reqs[i]); !reflect.DeepEqual(got, want[i]) {
					t.Errorf("request %d: %+v != %+v", i, got, want[i])
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// Several resource-based policies on one request (an import through an
// ECR pull-through cache rule: the registry's permissions policy and the
// repository policy) are one layer: a Deny in any denies, an Allow in any
// grants, and each statement is cited under its own policy's name.
func TestEvaluateResourcePolicyList(t *testing.T) {
	repo := "arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/library/nginx"
	otherRepo := "arn:aws:ecr:us-east-1:444455556666:repository/docker-hub/library/nginx"
	registry := func(acct, principal string) NamedPolicy {
		return np(t, "registry-policy:"+acct, stmts(`{"Sid":"PullThroughCache","Effect":"Allow","Principal":`+principal+`,`+
			`"Action":["ecr:BatchImportUpstreamImage","ecr:CreateRepository"],"Resource":"arn:aws:ecr:us-east-1:`+acct+`:repository/docker-hub/*"}`))
	}
	// A repository policy names no Resource: it is the repository's own.
	repoPolicy := func(effect, principal string) NamedPolicy {
		return np(t, "repository-policy:docker-hub/library/nginx", stmts(`{"Sid":"Repo","Effect":"`+effect+`","Principal":`+principal+`,"Action":"ecr:BatchImportUpstreamImage"}`))
	}
	id := []NamedPolicy{np(t, "inline:ecr", stmts(allowStmt("ecr:BatchImportUpstreamImage", "*")))}
	req := func(resource string) Request {
		return Request{Principal: sessARN, Action: "ecr:BatchImportUpstreamImage", Resource: resource, Context: NewContext()}
	}
	rp := func(p NamedPolicy) *NamedPolicy { return &p }
	role := `{"AWS":"` + roleARN + `"}`
	runEvalCases(t, []evalCase{
		{name: "same account: the registry policy grants without an identity allow",
			in:  &Input{ResourcePolicy: rp(registry(acct, role)), ResourcePolicies: []NamedPolicy{repoPolicy("Allow", `{"AWS":"arn:aws:iam::111122223333:role/other"}`)}},
			req: req(repo), want: Allowed, layer: LayerResourcePolicy, stmts: []string{"resource-policy:registry-policy:111122223333#0"},
			reason: []string{"allowed by the resource policy (policy registry-policy:111122223333, statement 0 \"PullThroughCache\")"},
			rule:   "ECR guide pull-through-cache-iam: the registry policy can grant ecr:BatchImportUpstreamImage"},
		{name: "same account: the repository policy in the list grants",
			in:  &Input{ResourcePolicy: rp(registry(acct, `{"AWS":"arn:aws:iam::111122223333:role/other"}`)), ResourcePolicies: []NamedPolicy{repoPolicy("Allow", role)}},
			req: req(repo), want: Allowed, layer: LayerResourcePolicy, stmts: []string{"resource-policy:repository-policy:docker-hub/library/nginx#0"},
			rule: "docs/facts.md §1.3: an identity policy, the registry's permissions policy or the repository policy can grant it"},
		{name: "same account: a Deny in the second policy wins over every Allow",
			in:  &Input{Identity: id, ResourcePolicy: rp(registry(acct, role)), ResourcePolicies: []NamedPolicy{repoPolicy("Deny", `"*"`)}},
			req: req(repo), want: ExplicitDeny, layer: LayerResourcePolicy, stmts: []string{"resource-policy:repository-policy:docker-hub/library/nginx#0"},
			reason: []string{"explicit Deny in the resource policy (policy repository-policy:docker-hub/library/nginx, statement 0 \"Repo\")"},
			rule:   "ecs-facts §5.1 step 1: an explicit Deny in any resource policy"},
		{name: "same account: neither policy names the role, identity does not allow",
			in:  &Input{ResourcePolicy: rp(registry(acct, `{"AWS":"arn:aws:iam::111122223333:root"}`)), ResourcePolicies: []NamedPolicy{repoPolicy("Allow", `{"AWS":"111122223333"}`)}},
			req: req(repo), want: ImplicitDeny, layer: LayerIdentity, rule: "ecs-facts §5.1: an account principal only delegates"},
		{name: "cross account: the list alone is the layer (no ResourcePolicy)",
			in:  &Input{Identity: id, ResourcePolicies: []NamedPolicy{registry(otherAcct, `{"AWS":"111122223333"}`)}},
			req: req(otherRepo), want: Allowed, layer: LayerResourcePolicy,
			stmts:  []string{"resource-policy:registry-policy:444455556666#0", "identity:inline:ecr#0"},
			reason: []string{"allowed across accounts", "policy registry-policy:444455556666"},
			rule:   "ecs-facts §5.1 cross-account: both sides allow"},
		{name: "cross account: no policy of the layer allows",
			in:  &Input{Identity: id, ResourcePolicy: rp(registry(otherAcct, `{"AWS":"999999999999"}`)), ResourcePolicies: []NamedPolicy{repoPolicy("Allow", `{"AWS":"999999999999"}`)}},
			req: req(otherRepo), want: ImplicitDeny, layer: LayerResourcePolicy,
			reason: []string{"(policy registry-policy:444455556666, policy repository-policy:docker-hub/library/nginx) of account 444455556666 does not allow"},
			rule:   "ecs-facts §5.1 cross-account"},
		{name: "cross account: absent is ignored when the list gives a policy",
			in:  &Input{Identity: id, ResourcePolicyAbsent: true, ResourcePolicies: []NamedPolicy{registry(otherAcct, role)}},
			req: req(otherRepo), want: Allowed, rule: "api.go Input.ResourcePolicyAbsent: ignored when a policy of the layer is given"},
		{name: "cross account: nil entries only is not provided",
			in:  &Input{Identity: id, ResourcePolicies: []NamedPolicy{{Name: "nil"}}},
			req: req(otherRepo), want: Indeterminate, layer: LayerResourcePolicy, rule: "api.go Input.ResourcePolicies: a nil Policy is skipped"},
	})
	// Past the recorded hits, the statements of every policy of the layer
	// are still cited.
	var many []string
	for i := 0; i < maxHits+2; i++ {
		many = append(many, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Principal":{"AWS":"%s"},"Action":"ecr:BatchImportUpstreamImage","Resource":"*"}`, i, roleARN))
	}
	r := Evaluate(&Input{Identity: id, ResourcePolicy: rp(np(t, "registry-policy:"+otherAcct, stmts(many...))), ResourcePolicies: []NamedPolicy{repoPolicy("Allow", role)}}, req(otherRepo))
	if r.Decision != Allowed || len(r.Statements) != maxHits+2+1+1 {
		t.Fatalf("decision %s with %d statements", r.Decision, len(r.Statements))
	}
	if last := r.Statements[maxHits+2]; last.Policy != "repository-policy:docker-hub/library/nginx" {
		t.Errorf("statement after the registry policy's is %+v", last)
	}
}
