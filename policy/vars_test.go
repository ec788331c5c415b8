package policy

import (
	"reflect"
	"testing"
)

func TestPolicyVariablesInResource(t *testing.T) {
	const v12 = "2012-10-17"
	tests := []struct {
		name     string
		version  string
		pattern  string
		resource string
		ctx      *Context
		want     Tri
		rule     string
	}{
		{"known value", v12, "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/notes", ctxWith("aws:username", "alice"), TriTrue,
			"ecs-facts §5.5: ${aws:username}"},
		{"other value", v12, "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/notes", ctxWith("aws:username", "alice"), TriFalse,
			"ecs-facts §5.5"},
		{"tag variable", v12, "arn:aws:ssm:*:111122223333:parameter/${aws:PrincipalTag/team}/*", "arn:aws:ssm:us-east-1:111122223333:parameter/payments/db", ctxWith("aws:principaltag/TEAM", "payments"), TriTrue,
			"ecs-facts §5.5 ${aws:PrincipalTag/team}; §5.4 keys case-insensitive"},
		{"absent key: no match", v12, "arn:aws:ssm:*:111122223333:parameter/${aws:PrincipalTag/team}/*", "arn:aws:ssm:us-east-1:111122223333:parameter/payments/db", NewContext().SetAbsent("aws:PrincipalTag/team"), TriFalse,
			"ecs-facts §5.5: a variable whose key is missing has no value, so the element does not match"},
		{"absent family via SetAbsentPrefix", v12, "arn:aws:ssm:*:111122223333:parameter/${aws:PrincipalTag/team}/*", "arn:aws:ssm:us-east-1:111122223333:parameter/payments/db", NewContext().SetAbsentPrefix("aws:PrincipalTag/"), TriFalse,
			"ecs-facts §5.5 missing key (all principal tags known)"},
		{"unknown key: unknown", v12, "arn:aws:ssm:*:111122223333:parameter/${aws:PrincipalTag/team}/*", "arn:aws:ssm:us-east-1:111122223333:parameter/payments/db", NewContext(), TriUnknown,
			"brief: a variable whose key is unknown makes the match unknown"},
		{"unknown key but cannot match anyway", v12, "arn:aws:ssm:*:111122223333:parameter/${aws:PrincipalTag/team}/*", "arn:aws:ssm:us-east-1:444455556666:parameter/payments/db", NewContext(), TriFalse,
			"three-valued: no value of the variable can make another account match"},
		{"default used when absent", v12, "arn:aws:s3:::shared/${aws:PrincipalTag/team, 'company-wide'}/*", "arn:aws:s3:::shared/company-wide/x", NewContext().SetAbsent("aws:PrincipalTag/team"), TriTrue,
			"ecs-facts §5.5: default value ${aws:PrincipalTag/team, 'company-wide'}"},
		{"default not used when present", v12, "arn:aws:s3:::shared/${aws:PrincipalTag/team, 'company-wide'}/*", "arn:aws:s3:::shared/company-wide/x", ctxWith("aws:PrincipalTag/team", "payments"), TriFalse,
			"ecs-facts §5.5 default only for a missing key"},
		{"default with unknown key", v12, "arn:aws:s3:::shared/${aws:PrincipalTag/team, 'company-wide'}/*", "arn:aws:s3:::shared/company-wide/x", NewContext(), TriUnknown,
			"brief: unknown stays unknown"},
		{"escape star is literal", v12, "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", NewContext(), TriTrue,
			"ecs-facts §5.5: ${*} is a literal *"},
		{"escape star is not a wildcard", v12, "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", NewContext(), TriFalse,
			"ecs-facts §5.5: ${*} is not a wildcard"},
		{"escape question is not a wildcard", v12, "arn:aws:s3:::b/${?}", "arn:aws:s3:::b/x", NewContext(), TriFalse,
			"ecs-facts §5.5: ${?} is a literal ?"},
		{"escape dollar", v12, "arn:aws:s3:::b/${$}{x}", "arn:aws:s3:::b/${x}", NewContext(), TriTrue,
			"ecs-facts §5.5: ${$} is a literal $"},
		{"value is literal", v12, "arn:aws:s3:::home/${aws:username}", "arn:aws:s3:::home/abc", ctxWith("aws:username", "a*"), TriFalse,
			"doc.go: a variable's value never acts as a wildcard"},
		{"multi-valued key: any value", v12, "arn:aws:s3:::home/${aws:PrincipalTag/team}/*", "arn:aws:s3:::home/b/x", NewContext().Set("aws:PrincipalTag/team", "a", "b"), TriTrue,
			"several values of a key: OR (ecs-facts §5.4)"},
		{"2008 keeps variables literal", "2008-10-17", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/x", ctxWith("aws:username", "alice"), TriFalse,
			"ecs-facts §5.5: only honoured with Version 2012-10-17"},
		{"2008 literal text matches itself", "2008-10-17", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/${aws:username}/x", ctxWith("aws:username", "alice"), TriTrue,
			"ecs-facts §5.5: variables are literal text"},
		{"no version keeps variables literal", "", "arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/x", ctxWith("aws:username", "alice"), TriFalse,
			"ecs-facts §5.5: with no Version, variables are literal text"},
		{"variable in the account part", v12, "arn:aws:ssm:*:${aws:PrincipalAccount}:parameter/x", "arn:aws:ssm:us-east-1:111122223333:parameter/x", ctxWith("aws:PrincipalAccount", "111122223333"), TriTrue,
			"ecs-facts §5.5 variables in a Resource ARN"},
		{"variable in the account part, wrong", v12, "arn:aws:ssm:*:${aws:PrincipalAccount}:parameter/x", "arn:aws:ssm:us-east-1:444455556666:parameter/x", ctxWith("aws:PrincipalAccount", "111122223333"), TriFalse,
			"ecs-facts §5.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + tt.pattern + `"}]}`
			if tt.version != "" {
				doc = `{"Version":"` + tt.version + `","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + tt.pattern + `"}]}`
			}
			p := mustParse(t, "v", doc)
			if got := p.Statements[0].MatchesResource(tt.resource, tt.ctx); got != tt.want {
				t.Errorf("%s vs %s: got %v, want %v (%s)", tt.pattern, tt.resource, got, tt.want, tt.rule)
			}
		})
	}
}

func TestPolicyVariablesInConditions(t *testing.T) {
	runCondCases(t, []condCase{
		{"string equals", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctxWith("aws:ResourceTag/team", "payments", "aws:PrincipalTag/team", "payments"), TriTrue,
			"ecs-facts §5.5: variables in string conditions"},
		{"string equals differs", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctxWith("aws:ResourceTag/team", "payments", "aws:PrincipalTag/team", "search"), TriFalse,
			"ecs-facts §5.5"},
		{"variable key absent", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctxWith("aws:ResourceTag/team", "payments").SetAbsent("aws:PrincipalTag/team"), TriFalse,
			"ecs-facts §5.5: a missing variable matches nothing"},
		{"variable key absent, negated", `{"StringNotEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctxWith("aws:ResourceTag/team", "payments").SetAbsent("aws:PrincipalTag/team"), TriTrue,
			"ecs-facts §5.4/§5.5: nothing matched, so the negated operator holds"},
		{"variable key unknown", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctxWith("aws:ResourceTag/team", "payments"), TriUnknown,
			"brief: unknown variable → unknown"},
		{"string equals: * in literal text is not a wildcard", `{"StringEquals":{"aws:ResourceTag/team":"*-${aws:username}"}}`, ctxWith("aws:ResourceTag/team", "x-alice", "aws:username", "alice"), TriFalse,
			"IAMUG condition_operators: StringEquals has no wildcards"},
		{"string like with variable", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctxWith("s3:prefix", "home/alice/docs", "aws:username", "alice"), TriTrue,
			"ecs-facts §5.5 variables in StringLike"},
		{"ignore case with variable", `{"StringEqualsIgnoreCase":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, ctxWith("aws:ResourceTag/team", "PAYMENTS", "aws:PrincipalTag/team", "payments"), TriTrue,
			"ecs-facts §5.4 IgnoreCase with §5.5 variable"},
		{"arn like with variable", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`, ctxWith("aws:PrincipalArn", "arn:aws:iam::111122223333:role/exec", "aws:PrincipalAccount", "111122223333"), TriTrue,
			"ecs-facts §5.5: variables in ARN conditions"},
		{"escape in like", `{"StringLike":{"s3:prefix":"a${*}"}}`, ctxWith("s3:prefix", "abc"), TriFalse,
			"ecs-facts §5.5: ${*} is a literal *, not a wildcard"},
		{"bool not substituted", `{"Bool":{"aws:SecureTransport":"${aws:x}"}}`, ctxWith("aws:SecureTransport", "true", "aws:x", "true"), TriFalse,
			"ecs-facts §5.5: variables are not substituted outside String/ARN operators"},
	})
	// 2008-10-17: the text is literal.
	p := mustParse(t, "v", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}`)
	if got := p.Statements[0].ConditionsHold(ctxWith("aws:ResourceTag/team", "${aws:PrincipalTag/team}")); got != TriTrue {
		t.Errorf("2008: literal ${...} should equal itself, got %v (ecs-facts §5.5)", got)
	}
}

func TestVariableKeys(t *testing.T) {
	p := mustParse(t, "v", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":["arn:aws:s3:::${aws:username}/*","arn:aws:s3:::${AWS:Username}/x"],"Condition":{"StringLike":{"s3:prefix":"${aws:PrincipalTag/team, 'x'}/*"},"NumericEquals":{"s3:max-keys":"${aws:ignored}"}}}]}`)
	if got := p.Statements[0].VariableKeys(); !reflect.DeepEqual(got, []string{"aws:PrincipalTag/team", "aws:username"}) {
		t.Errorf("VariableKeys = %v", got)
	}
}

func TestPolicyVariableWithColons(t *testing.T) {
	// A variable's value may contain colons; the ARN is split after
	// substitution (ecs-facts §5.3 split on the first five colons).
	p := mustParse(t, "v", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":["arn:${aws:x}:s3:::b","${aws:PrincipalArn}"]}]}`)
	st := p.Statements[0]
	if got := st.MatchesResource("arn:aws:x:s3:::b", ctxWith("aws:x", "aws:x").SetAbsent("aws:PrincipalArn")); got != TriTrue {
		t.Errorf("colon in a variable value: %v", got)
	}
	if got := st.MatchesResource(roleARN, ctxWith("aws:PrincipalArn", roleARN, "aws:x", "y")); got != TriTrue {
		t.Errorf("whole-ARN variable: %v", got)
	}
	if got := st.MatchesResource(roleARN, ctxWith("aws:PrincipalArn", sessARN, "aws:x", "y")); got != TriFalse {
		t.Errorf("whole-ARN variable, other value: %v", got)
	}
}
