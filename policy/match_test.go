package policy

import "testing"

func TestMatchAction(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
		rule            string
	}{
		{"ecr:GetAuthorizationToken", "ecr:GetAuthorizationToken", true, "ecs-facts §5.2 exact"},
		{"iam:ListAccessKeys", "IAM:listaccesskeys", true, "ecs-facts §5.2: service prefix and action name are case-insensitive"},
		{"IAM:LISTACCESSKEYS", "iam:ListAccessKeys", true, "ecs-facts §5.2 case-insensitive, pattern side"},
		{"iam:*AccessKey*", "iam:ListAccessKeys", true, "ecs-facts §5.2: wildcards anywhere in the name (iam:*AccessKey*)"},
		{"iam:*AccessKey*", "iam:ListUsers", false, "ecs-facts §5.2 wildcard does not match other names"},
		{"ecr:Get*", "ecr:GetAuthorizationToken", true, "ecs-facts §5.2 trailing *"},
		{"ecr:Get*", "ecr:BatchGetImage", false, "ecs-facts §5.2 * is anchored at the start of the name"},
		{"ecr:Get*", "ecrpublic:GetAuthorizationToken", false, "ecs-facts §5.2 the service must match"},
		{"s3:?etObject", "s3:GetObject", true, "ecs-facts §5.2 ? is one character"},
		{"s3:?etObject", "s3:GGetObject", false, "ecs-facts §5.2 ? is exactly one character"},
		{"*", "kms:Decrypt", true, "ecs-facts §5.2: * matches every action"},
		{"s3*:Get*", "s3:GetObject", true, "ecs-facts §5.2 wildcard in the service part: whole-string glob"},
		{"s3*:Get*", "s3express:GetObject", true, "ecs-facts §5.2 wildcard in the service part spans services"},
		{"logs:CreateLogStream", "logs:CreateLogGroup", false, "ecs-facts §3.1: CreateLogStream does not grant CreateLogGroup"},
		{"ecr:*", "ecr", false, "ecs-facts §5.2: an action has the form service:Action"},
	}
	for _, tt := range tests {
		if got := MatchAction(tt.pattern, tt.action); got != tt.want {
			t.Errorf("MatchAction(%q, %q) = %v, want %v (%s)", tt.pattern, tt.action, got, tt.want, tt.rule)
		}
	}
}

func TestMatchResource(t *testing.T) {
	const (
		grp    = "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app"
		stream = "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:app/web/0123"
		secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
	)
	tests := []struct {
		pattern, resource string
		want              bool
		rule              string
	}{
		// ecs-facts §5.3 / IAMUG reference_policies_elements_resource: "Resource": "*" matches everything.
		{"*", stream, true, "ecs-facts §5.3 Resource * matches everything"},
		{"*", "*", true, "ecs-facts §5.3 Resource * matches the resource-less *"},
		// ecs-facts §5.3: actions without a resource type are only granted by patterns matching "*".
		{"arn:aws:ecr:*:*:*", "*", false, "ecs-facts §5.3: arn:aws:ecr:*:*:* does not cover GetAuthorizationToken's *"},
		{"arn:*", "*", false, "ecs-facts §5.3: only patterns that glob-match the literal * cover it"},
		{"**", "*", true, "ecs-facts §5.3: a pattern that glob-matches * covers it"},
		// ecs-facts §4 logs ARNs, §5.3 matching.
		{grp + ":*", stream, true, "ecs-facts §5.3: log-group:G:* covers the group's streams (* spans : in the resource part)"},
		{grp + ":*", grp, false, "ecs-facts §5.3: log-group:G:* does not cover the bare log-group ARN"},
		{grp, stream, false, "ecs-facts §5.3: a literal pattern matches only itself"},
		{grp, grp, true, "ecs-facts §5.3 literal match"},
		{"arn:aws:logs:us-east-1:111122223333:log-group:/ecs/*", stream, true, "IAMUG reference_policies_elements_resource: * spans / and : in the resource part"},
		// ecs-facts §4 Secrets Manager: name plus 6 random characters.
		{secret + "db-??????", secret + "db-AbCdEf", true, "ecs-facts §4: secret:db-?????? matches the 6-character suffix"},
		{secret + "db-??????", secret + "db-prod-AbCdEf", false, "ecs-facts §4: ?????? is exactly six characters"},
		{secret + "db-*", secret + "db-AbCdEf", true, "ecs-facts §4: db-* matches db-AbCdEf"},
		{secret + "db-*", secret + "db-prod-AbCdEf", true, "ecs-facts §4: db-* matches db-prod-AbCdEf"},
		// IAMUG reference_policies_elements_resource example.
		{"arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1/2/test/3/x.jpg", true, "IAMUG reference_policies_elements_resource: bucket/*/test/* spans /"},
		{"arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1/2/prod/3/x.jpg", false, "IAMUG reference_policies_elements_resource: literal parts must match"},
		// ecs-facts §5.3: segment-by-segment for partition, service, region, account.
		{"arn:aws:ssm:*:111122223333:parameter/app/*", "arn:aws:ssm:eu-west-1:111122223333:parameter/app/db", true, "ecs-facts §5.3 region wildcard within its segment"},
		{"arn:aws:ssm:*:111122223333:parameter/app/*", "arn:aws:ssm:eu-west-1:444455556666:parameter/app/db", false, "ecs-facts §5.3 account segment must match"},
		{"arn:aws:ssm:us-*:*:parameter/x", "arn:aws:ssm:us-east-1:1:parameter/x", true, "ecs-facts §5.3 several wildcards, several segments"},
		{"arn:aws:ssm:us-east-1:*:parameter/x", "arn:aws:ssm:us-east-1:1:extra:parameter/x", false, "ecs-facts §5.3: the first five colons split; parts compared separately"},
		{"arn:aws:*:us-east-1:1:x", "arn:aws:ssm:us-east-1:1:x", true, "ecs-facts §5.3 (service wildcard is invalid in IAM but matched as a glob; Parse warns)"},
		{"arn:aws:s3:::b", "arn:aws:s3:::B", false, "ecs-facts §5.3: resource matching is case-sensitive"},
		{"arn:aws:iam::111122223333:role/App", "arn:aws:iam::111122223333:role/app", false, "ecs-facts §5.3 case-sensitive"},
		// ecs-facts §5.3: fewer than six parts → whole-string glob, a trailing * extends past :.
		{"arn:aws:logs:us-east-1:*", stream, true, "ecs-facts §5.3: a pattern with fewer parts is a whole-string glob; * extends past :"},
		{"arn:aws:*", "arn:aws:s3:::b/k", true, "ecs-facts §5.3 whole-string fallback"},
		{"arn:aws-cn:*", "arn:aws:s3:::b/k", false, "ecs-facts §4 partitions differ"},
		{"arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/${aws:username}", true, "ecs-facts §5.5: MatchResource does not expand variables"},
		{"arn:aws:s3:::b/a?c", "arn:aws:s3:::b/aéc", true, "IAMUG reference_policies_elements_resource: ? is one character (not one byte)"},
	}
	for _, tt := range tests {
		if got := MatchResource(tt.pattern, tt.resource); got != tt.want {
			t.Errorf("MatchResource(%q, %q) = %v, want %v (%s)", tt.pattern, tt.resource, got, tt.want, tt.rule)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"?", "", false},
		{"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false}, {"a*", "a", true},
		{"*a", "bba", true}, {"*a", "bab", false}, {"a**b", "ab", true},
		{"ab*ab", "ababab", true}, {"?*?", "ab", true}, {"?*?", "a", false},
	}
	for _, tt := range tests {
		// IAMUG reference_policies_elements_resource: * any run, ? one character.
		if got := glob(tt.p, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
		if got := refGlobString(tt.p, tt.s); got != tt.want {
			t.Errorf("refGlob(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

func TestGlobPrefix(t *testing.T) {
	tests := []struct {
		p, prefix string
		want      Tri
		rule      string
	}{
		{"arn:aws:ecs:*:111122223333:*", "arn:aws:ecs:us-east-1:111122223333:", TriTrue, "brief: every extension of the prefix matches"},
		{"arn:aws:ecs:*:444455556666:*", "arn:aws:ecs:us-east-1:111122223333:", TriUnknown, "as a whole-string glob * spans :, so it could still match (ARN matching decides false, below)"},
		{"arn:aws:ecs:us-east-1:111122223333:task/*", "arn:aws:ecs:us-east-1:111122223333:", TriUnknown, "brief: a pattern narrower than the prefix is unknown"},
		{"abc", "abc", TriUnknown, "the value may be abc or longer"},
		{"abc", "abd", TriFalse, "no extension matches"},
		{"a*", "", TriUnknown, "empty prefix: anything"},
		{"*", "", TriTrue, "* matches everything"},
	}
	for _, tt := range tests {
		if got := globPrefix(tt.p, nil, tt.prefix, false); got != tt.want {
			t.Errorf("globPrefix(%q, %q) = %v, want %v (%s)", tt.p, tt.prefix, got, tt.want, tt.rule)
		}
	}
	// ecs-facts §5.4: ArnLike matches each of the six parts separately, so
	// with a known prefix the account part decides.
	arnTests := []struct {
		p, prefix string
		want      Tri
	}{
		{"arn:aws:ecs:*:111122223333:*", "arn:aws:ecs:us-east-1:111122223333:", TriTrue},
		{"arn:aws:ecs:*:444455556666:*", "arn:aws:ecs:us-east-1:111122223333:", TriFalse},
		{"arn:aws:ecs:us-east-1:111122223333:task/*", "arn:aws:ecs:us-east-1:111122223333:", TriUnknown},
		{"arn:aws:ecs:*:111122223333:*", "arn:aws:ecs:us-east-1:1111", TriUnknown},
		{"arn:aws:ecs:*:111122223333:*", "arn:aws:ecs:us-east-1:2222", TriFalse},
		{"arn:aws:ecs:*:*:*", "arn:aws:", TriUnknown},
		{"arn:aws:s3:*", "arn:aws:s3:", TriTrue},
	}
	for _, tt := range arnTests {
		if got := arnPrefixMatch(tt.p, nil, tt.prefix); got != tt.want {
			t.Errorf("arnPrefixMatch(%q, %q) = %v, want %v", tt.p, tt.prefix, got, tt.want)
		}
	}
	// StringEqualsIgnoreCase with a known prefix folds case.
	if got := globPrefix("ABC", allTrue(3), "ab", true); got != TriUnknown {
		t.Errorf("fold: got %v", got)
	}
	if got := globPrefix("A*", allTrue(2), "a*x", true); got != TriFalse {
		t.Errorf("masked * is literal: got %v", got)
	}
}

func TestARNHelpers(t *testing.T) {
	// ecs-facts §4: the session form has no role path.
	if got := RoleSessionARN("arn:aws:iam::111122223333:role/service-role/exec", "task-1"); got != "arn:aws:sts::111122223333:assumed-role/exec/task-1" {
		t.Errorf("RoleSessionARN = %q", got)
	}
	if got := RoleSessionARN("arn:aws-cn:iam::111122223333:role/exec", "s"); got != "arn:aws-cn:sts::111122223333:assumed-role/exec/s" {
		t.Errorf("RoleSessionARN partition = %q", got)
	}
	if got := RoleSessionARN("arn:aws:iam::111122223333:user/u", "s"); got != "" {
		t.Errorf("RoleSessionARN of a user = %q", got)
	}
	if r, s, ok := RoleNameOfSession("arn:aws:sts::111122223333:assumed-role/exec/task/with/slash"); !ok || r != "exec" || s != "task/with/slash" {
		t.Errorf("RoleNameOfSession = %q %q %v", r, s, ok)
	}
	if _, _, ok := RoleNameOfSession("arn:aws:iam::111122223333:role/exec"); ok {
		t.Error("RoleNameOfSession accepted a role ARN")
	}
	for in, want := range map[string]string{
		"arn:aws:iam::111122223333:role/x":           "111122223333",
		"arn:aws:sts::111122223333:assumed-role/x/y": "111122223333",
		"111122223333":            "111122223333",
		"arn:aws:s3:::bucket":     "",
		"ecs-tasks.amazonaws.com": "",
		"*":                       "",
		"arn:aws:logs:us-east-1:444455556666:log-group:g:*": "444455556666",
	} {
		if got := AccountOf(in); got != want {
			t.Errorf("AccountOf(%q) = %q, want %q", in, got, want)
		}
	}
	a, ok := ParseARN("arn:aws:secretsmanager:us-east-1:111122223333:secret:db:SecretString:pw::")
	if !ok || a.Resource != "secret:db:SecretString:pw::" || a.String() != "arn:aws:secretsmanager:us-east-1:111122223333:secret:db:SecretString:pw::" {
		t.Errorf("ParseARN = %+v %v", a, ok)
	}
	if _, ok := ParseARN("arn:aws:s3"); ok {
		t.Error("ParseARN accepted three parts")
	}
}

func TestTri(t *testing.T) {
	// Kleene logic used for three-valued conditions (ecs-facts §5.4 AND/OR).
	vals := []Tri{TriFalse, TriTrue, TriUnknown}
	for _, a := range vals {
		for _, b := range vals {
			and, or := a.and(b), a.or(b)
			if a == TriFalse || b == TriFalse {
				if and != TriFalse {
					t.Errorf("%v and %v = %v", a, b, and)
				}
			}
			if a == TriTrue || b == TriTrue {
				if or != TriTrue {
					t.Errorf("%v or %v = %v", a, b, or)
				}
			}
			if a.not().not() != a {
				t.Errorf("not not %v", a)
			}
		}
	}
	if TriUnknown.String() != "unknown" || TriTrue.String() != "true" || TriFalse.String() != "false" {
		t.Error("Tri.String")
	}
}
