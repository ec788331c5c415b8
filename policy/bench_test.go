package policy

import (
	"fmt"
	"strings"
	"testing"
)

// benchRole builds a role with nPolicies identity policies of nStmts
// statements each: mostly other services (as in real roles, where an
// execution role carries managed policies for many things), some matching
// the benchmark requests, some with conditions and policy variables.
func benchRole(tb testing.TB, nPolicies, nStmts int) []NamedPolicy {
	tb.Helper()
	services := []string{"s3", "ec2", "dynamodb", "sqs", "sns", "lambda", "cloudwatch", "xray", "ssm", "kms", "secretsmanager", "logs", "ecr", "sts", "iam"}
	var out []NamedPolicy
	for p := 0; p < nPolicies; p++ {
		var stmts []string
		for s := 0; s < nStmts; s++ {
			svc := services[(p*nStmts+s)%len(services)]
			var st string
			switch s % 5 {
			case 0:
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["%s:Get*","%s:List*","%s:Describe*"],"Resource":"arn:aws:%s:us-east-1:111122223333:thing/p%d-*"}`, s, svc, svc, svc, svc, p)
			case 1:
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"%s:Put*","Resource":["arn:aws:%s:*:111122223333:a/*","arn:aws:%s:*:111122223333:b/*"],"Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}`, s, svc, svc, svc)
			case 2:
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["%s:Create*","%s:Delete*"],"Resource":"arn:aws:%s:us-east-1:111122223333:team/${aws:PrincipalTag/team}/*"}`, s, svc, svc, svc)
			case 3:
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Deny","Action":"%s:Delete*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`, s, svc)
			case 4:
				st = fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":"%s:Tag*","Resource":"*","Condition":{"StringLike":{"aws:ResourceTag/owner":"team-*"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}`, s, svc)
			}
			stmts = append(stmts, st)
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
		pol, err := ParseString(fmt.Sprintf("policy-%d", p), doc)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, NamedPolicy{Name: pol.Name, Policy: pol})
	}
	// The execution-role statements the benchmark requests hit, in the last
	// policy (the worst place for a linear scan).
	exec, err := ParseString("inline:exec", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-??????"},
		{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/*","Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}]}`)
	if err != nil {
		tb.Fatal(err)
	}
	out[len(out)-1] = NamedPolicy{Name: "inline:exec", Policy: exec}
	return out
}

func benchSCPs(tb testing.TB) [][]NamedPolicy {
	full, err := ParseString("FullAWSAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	if err != nil {
		tb.Fatal(err)
	}
	regions, err := ParseString("deny-regions", `{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutside","Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}`)
	if err != nil {
		tb.Fatal(err)
	}
	f := NamedPolicy{Name: "FullAWSAccess", Policy: full}
	return [][]NamedPolicy{{f}, {f, {Name: "deny-regions", Policy: regions}}, {f}}
}

func benchContext() *Context {
	return NewContext().
		Set("aws:RequestedRegion", "us-east-1").
		Set("aws:PrincipalTag/team", "payments").
		Set("aws:MultiFactorAuthPresent", "false").
		Set("aws:SourceIp", "10.1.2.3").
		Set("kms:ViaService", "secretsmanager.us-east-1.amazonaws.com").
		SetAbsent("aws:SourceVpce")
}

func benchRequests() []Request {
	ctx := benchContext()
	p := "arn:aws:sts::111122223333:assumed-role/exec/task"
	return []Request{
		{Principal: p, Action: "ecr:GetAuthorizationToken", Resource: "*", Context: ctx},
		{Principal: p, Action: "ecr:BatchGetImage", Resource: "arn:aws:ecr:us-east-1:111122223333:repository/app", Context: ctx},
		{Principal: p, Action: "logs:CreateLogStream", Resource: "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:app/web/0123", Context: ctx},
		{Principal: p, Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf", Context: ctx},
		{Principal: p, Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", Context: ctx},
		{Principal: p, Action: "ssm:GetParameters", Resource: "arn:aws:ssm:us-east-1:111122223333:parameter/app/db", Context: ctx},
		{Principal: p, Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/env/app.env", Context: ctx},
		{Principal: p, Action: "dynamodb:DeleteItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:team/payments/t", Context: ctx},
	}
}

// BenchmarkEvaluate: a role with 10 policies × 20 statements under three
// SCP levels (FullAWSAccess and a region-deny SCP), a mix of requests that
// are allowed, implicitly denied and explicitly denied.
func BenchmarkEvaluate(b *testing.B) {
	in := &Input{Identity: benchRole(b, 10, 20), SCPLevels: benchSCPs(b)}
	reqs := benchRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Evaluate(in, reqs[i%len(reqs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkEvaluateIdentityOnly: the same role without SCPs.
func BenchmarkEvaluateIdentityOnly(b *testing.B) {
	in := &Input{Identity: benchRole(b, 10, 20)}
	reqs := benchRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Evaluate(in, reqs[i%len(reqs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

func BenchmarkParse(b *testing.B) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Logs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseString("p", doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatchResource(b *testing.B) {
	rp := compileResourceLiteral("arn:aws:logs:*:111122223333:log-group:/ecs/*:*")
	var a arnParts
	r := "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:x"
	b.ReportAllocs()
	for b.Loop() {
		a.split(r)
		rp.matchParts(&a, r)
	}
}

// BenchmarkEvaluateUnknown: the role of BenchmarkEvaluate with partly known
// resources (a secret without its suffix, a log stream of a task not
// started yet).
func BenchmarkEvaluateUnknown(b *testing.B) {
	in := &Input{Identity: benchRole(b, 10, 20), SCPLevels: benchSCPs(b)}
	ctx := benchContext()
	p := "arn:aws:sts::111122223333:assumed-role/exec/task"
	reqs := []Request{
		{Principal: p, Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-", ResourceUnknown: SecretsManagerSuffix(), Context: ctx},
		{Principal: p, Action: "logs:CreateLogStream", Resource: "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:app/web/", ResourceUnknown: ECSTaskID(), Context: ctx},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Evaluate(in, reqs[i%len(reqs)])
	}
}
