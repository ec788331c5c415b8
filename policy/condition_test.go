package policy

import "testing"

// condHolds parses a statement with the given Condition block and evaluates
// the block against ctx.
func condHolds(t *testing.T, cond string, ctx *Context) Tri {
	t.Helper()
	p := mustParse(t, "c", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+cond+`}]}`)
	return p.Statements[0].ConditionsHold(ctx)
}

type condCase struct {
	name string
	cond string
	ctx  *Context
	want Tri
	rule string
}

func runCondCases(t *testing.T, cases []condCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := condHolds(t, c.cond, c.ctx); got != c.want {
				t.Errorf("%s with %v: got %v, want %v (%s)", c.cond, c.ctx.Keys(), got, c.want, c.rule)
			}
		})
	}
}

func ctxWith(kv ...string) *Context {
	c := NewContext()
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

func TestConditionString(t *testing.T) {
	runCondCases(t, []condCase{
		{"equals", `{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`, ctxWith("aws:PrincipalTag/team", "payments"), TriTrue, "ecs-facts §5.4 StringEquals exact"},
		{"equals is case-sensitive", `{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`, ctxWith("aws:PrincipalTag/team", "Payments"), TriFalse, "ecs-facts §5.4: StringEquals values are case-sensitive"},
		{"equals missing key", `{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`, NewContext().SetAbsent("aws:PrincipalTag/team"), TriFalse, "ecs-facts §5.4: a missing key is false for normal operators"},
		{"equals unknown key", `{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`, NewContext(), TriUnknown, "brief: every key not set is unknown"},
		{"equals nil context", `{"StringEquals":{"aws:PrincipalTag/team":"payments"}}`, nil, TriUnknown, "brief: every key not set is unknown"},
		{"not-equals missing key", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, NewContext().SetAbsent("aws:SourceVpce"), TriTrue, "ecs-facts §5.4: a missing key is true for negated operators"},
		{"not-equals differs", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, ctxWith("aws:SourceVpce", "vpce-2"), TriTrue, "ecs-facts §5.4 negation"},
		{"not-equals same", `{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, ctxWith("aws:SourceVpce", "vpce-1"), TriFalse, "ecs-facts §5.4 negation"},
		{"ignore case", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"PAYMENTS"}}`, ctxWith("aws:PrincipalTag/team", "payments"), TriTrue, "ecs-facts §5.4: StringEqualsIgnoreCase is not case-sensitive"},
		{"not-equals ignore case", `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"PAYMENTS"}}`, ctxWith("aws:PrincipalTag/team", "payments"), TriFalse, "IAMUG condition_operators StringNotEqualsIgnoreCase"},
		{"like star", `{"StringLike":{"aws:ResourceTag/owner":"team-*"}}`, ctxWith("aws:ResourceTag/owner", "team-a"), TriTrue, "ecs-facts §5.4: StringLike * and ?"},
		{"like question", `{"StringLike":{"aws:ResourceTag/owner":"team-?"}}`, ctxWith("aws:ResourceTag/owner", "team-ab"), TriFalse, "ecs-facts §5.4: ? is one character"},
		{"like case-sensitive", `{"StringLike":{"aws:ResourceTag/owner":"team-*"}}`, ctxWith("aws:ResourceTag/owner", "TEAM-a"), TriFalse, "ecs-facts §5.4: StringLike is case-sensitive"},
		{"not like", `{"StringNotLike":{"aws:ResourceTag/owner":"team-*"}}`, ctxWith("aws:ResourceTag/owner", "other"), TriTrue, "IAMUG condition_operators StringNotLike"},
		{"not like missing", `{"StringNotLike":{"aws:ResourceTag/owner":"team-*"}}`, NewContext().SetAbsent("aws:ResourceTag/owner"), TriTrue, "ecs-facts §5.4: missing key, negated → true"},
		{"values OR", `{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, ctxWith("aws:RequestedRegion", "eu-west-1"), TriTrue, "ecs-facts §5.4: several values of one key → OR"},
		{"negated values: none may match", `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, ctxWith("aws:RequestedRegion", "eu-west-1"), TriFalse, "ecs-facts §5.4: negated operators with several values: the key must match none"},
		{"negated values: none matches", `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, ctxWith("aws:RequestedRegion", "ap-south-1"), TriTrue, "ecs-facts §5.4 negated multi-value"},
		{"negated like values", `{"StringNotLike":{"aws:RequestedRegion":["us-*","eu-*"]}}`, ctxWith("aws:RequestedRegion", "eu-west-1"), TriFalse, "ecs-facts §5.4 negated multi-value"},
		{"keys AND: both hold", `{"StringEquals":{"aws:a":"1","aws:b":"2"}}`, ctxWith("aws:a", "1", "aws:b", "2"), TriTrue, "ecs-facts §5.4: several keys under one operator → AND"},
		{"keys AND: one fails", `{"StringEquals":{"aws:a":"1","aws:b":"2"}}`, ctxWith("aws:a", "1", "aws:b", "3"), TriFalse, "ecs-facts §5.4 AND"},
		{"operators AND", `{"StringEquals":{"aws:a":"1"},"StringLike":{"aws:b":"x*"}}`, ctxWith("aws:a", "1", "aws:b", "y"), TriFalse, "ecs-facts §5.4: several operators → AND"},
		{"AND with unknown", `{"StringEquals":{"aws:a":"1","aws:b":"2"}}`, ctxWith("aws:a", "1"), TriUnknown, "three-valued AND: true ∧ unknown = unknown"},
		{"AND false beats unknown", `{"StringEquals":{"aws:a":"1","aws:b":"2"}}`, ctxWith("aws:a", "0"), TriFalse, "three-valued AND: false ∧ unknown = false"},
		{"number value as text", `{"StringEquals":{"aws:a":5}}`, ctxWith("aws:a", "5"), TriTrue, "brief: numbers become their text"},
	})
}

func TestConditionKeysCaseInsensitive(t *testing.T) {
	runCondCases(t, []condCase{
		{"key case", `{"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, ctxWith("AWS:SOURCEVPCE", "vpce-1"), TriTrue, "ecs-facts §5.4: condition key names are case-insensitive"},
		{"tag part case", `{"StringEquals":{"aws:ResourceTag/Owner":"a"}}`, ctxWith("aws:resourcetag/owner", "a"), TriTrue, "ecs-facts §5.4: including the tag-key part of aws:ResourceTag/…"},
		{"tag part case, absent", `{"StringEquals":{"aws:ResourceTag/Owner":"a"}}`, NewContext().SetAbsent("AWS:RESOURCETAG/OWNER"), TriFalse, "ecs-facts §5.4 case-insensitive keys"},
	})
}

func TestConditionNumeric(t *testing.T) {
	c := func(v string) *Context { return ctxWith("s3:max-keys", v) }
	runCondCases(t, []condCase{
		{"equals", `{"NumericEquals":{"s3:max-keys":"10"}}`, c("10.0"), TriTrue, "IAMUG condition_operators: NumericEquals compares numbers"},
		{"equals number literal", `{"NumericEquals":{"s3:max-keys":10}}`, c("10"), TriTrue, "IAMUG condition_operators Numeric"},
		{"not equals", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, c("11"), TriTrue, "IAMUG condition_operators NumericNotEquals"},
		{"not equals same", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, c("10"), TriFalse, "IAMUG condition_operators NumericNotEquals"},
		{"less than", `{"NumericLessThan":{"s3:max-keys":"10"}}`, c("9.5"), TriTrue, "IAMUG condition_operators NumericLessThan"},
		{"less than equal boundary", `{"NumericLessThan":{"s3:max-keys":"10"}}`, c("10"), TriFalse, "IAMUG condition_operators NumericLessThan is strict"},
		{"less than equals", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, c("10"), TriTrue, "IAMUG condition_operators NumericLessThanEquals"},
		{"greater than", `{"NumericGreaterThan":{"s3:max-keys":"10"}}`, c("-3"), TriFalse, "IAMUG condition_operators NumericGreaterThan"},
		{"greater than equals", `{"NumericGreaterThanEquals":{"s3:max-keys":"1e1"}}`, c("10"), TriTrue, "IAMUG condition_operators NumericGreaterThanEquals"},
		{"context not a number", `{"NumericLessThan":{"s3:max-keys":"10"}}`, c("five"), TriFalse, "brief: a value that is not a number does not match"},
		{"policy value not a number", `{"NumericLessThan":{"s3:max-keys":"ten"}}`, c("5"), TriFalse, "brief: unparseable condition values → the condition is false"},
		{"policy value not a number, negated", `{"NumericNotEquals":{"s3:max-keys":"ten"}}`, c("5"), TriFalse, "brief: unparseable condition values → the condition is false"},
		{"missing", `{"NumericLessThan":{"s3:max-keys":"10"}}`, NewContext().SetAbsent("s3:max-keys"), TriFalse, "ecs-facts §5.4 missing key"},
		{"variables not substituted", `{"NumericEquals":{"s3:max-keys":"${aws:x}"}}`, c("5").Set("aws:x", "5"), TriFalse, "ecs-facts §5.5: no variables in Numeric*"},
	})
}

func TestConditionDate(t *testing.T) {
	now := func(v string) *Context { return ctxWith("aws:CurrentTime", v) }
	runCondCases(t, []condCase{
		{"less than", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, now("2026-11-29T12:00:00Z"), TriTrue, "IAMUG condition_operators DateLessThan, ISO 8601"},
		{"greater than", `{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, now("2026-11-29T12:00:00Z"), TriFalse, "IAMUG condition_operators DateGreaterThan"},
		{"equals across formats", `{"DateEquals":{"aws:EpochTime":"2020-01-01T00:00:00Z"}}`, ctxWith("aws:EpochTime", "1577836800"), TriTrue, "IAMUG condition_operators: dates as ISO 8601 or epoch seconds"},
		{"epoch in policy", `{"DateLessThanEquals":{"aws:CurrentTime":1577836800}}`, now("2020-01-01T00:00:00Z"), TriTrue, "IAMUG condition_operators Date, epoch"},
		{"zone offset", `{"DateEquals":{"aws:CurrentTime":"2020-01-01T01:00:00+01:00"}}`, now("2020-01-01T00:00:00Z"), TriTrue, "ISO 8601 offsets denote the same instant"},
		{"date only", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01"}}`, now("2020-01-01T00:00:01Z"), TriTrue, "ISO 8601 date"},
		{"not equals", `{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, now("2020-01-02T00:00:00Z"), TriTrue, "IAMUG condition_operators DateNotEquals"},
		{"context not a date", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, now("yesterday"), TriFalse, "a context value that is not a date does not match"},
		{"policy not a date", `{"DateLessThan":{"aws:CurrentTime":"someday"}}`, now("2020-01-01T00:00:00Z"), TriFalse, "brief: unparseable condition values → false"},
	})
}

func TestConditionBoolBinaryNull(t *testing.T) {
	runCondCases(t, []condCase{
		{"bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, ctxWith("aws:SecureTransport", "true"), TriTrue, "IAMUG condition_operators Bool"},
		{"bool json literal", `{"Bool":{"aws:SecureTransport":true}}`, ctxWith("aws:SecureTransport", "TRUE"), TriTrue, "IAMUG condition_operators Bool; brief: booleans become their text"},
		{"bool false", `{"Bool":{"aws:SecureTransport":"true"}}`, ctxWith("aws:SecureTransport", "false"), TriFalse, "IAMUG condition_operators Bool"},
		{"bool missing", `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`, NewContext().SetAbsent("aws:MultiFactorAuthPresent"), TriFalse, "ecs-facts §5.4 missing key → false"},
		{"bool IfExists missing", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, NewContext().SetAbsent("aws:MultiFactorAuthPresent"), TriTrue, "ecs-facts §5.4 IfExists missing → true"},
		{"binary equal", `{"BinaryEquals":{"x:blob":"QmluYXJ5VmFsdWU="}}`, ctxWith("x:blob", "QmluYXJ5VmFsdWU="), TriTrue, "IAMUG condition_operators BinaryEquals: base-64 compare"},
		{"binary raw padding", `{"BinaryEquals":{"x:blob":"QmluYXJ5VmFsdWU"}}`, ctxWith("x:blob", "QmluYXJ5VmFsdWU="), TriTrue, "base64 with and without padding decode alike"},
		{"binary different", `{"BinaryEquals":{"x:blob":"QmluYXJ5VmFsdWU="}}`, ctxWith("x:blob", "T3RoZXI="), TriFalse, "IAMUG condition_operators BinaryEquals"},
		{"null true, absent", `{"Null":{"aws:SourceVpce":"true"}}`, NewContext().SetAbsent("aws:SourceVpce"), TriTrue, "ecs-facts §5.4: Null true means absent"},
		{"null true, present", `{"Null":{"aws:SourceVpce":"true"}}`, ctxWith("aws:SourceVpce", "vpce-1"), TriFalse, "ecs-facts §5.4 Null"},
		{"null false, present", `{"Null":{"aws:SourceVpce":"false"}}`, ctxWith("aws:SourceVpce", "vpce-1"), TriTrue, "ecs-facts §5.4 Null false = present"},
		{"null false, absent", `{"Null":{"aws:SourceVpce":false}}`, NewContext().SetAbsent("aws:SourceVpce"), TriFalse, "ecs-facts §5.4 Null"},
		{"null unknown", `{"Null":{"aws:SourceVpce":"true"}}`, NewContext(), TriUnknown, "brief: keys not set are unknown"},
		{"null prefix-known is present", `{"Null":{"aws:SourceArn":"false"}}`, NewContext().SetPrefix("aws:SourceArn", "arn:aws:ecs:"), TriTrue, "brief: a prefix-known value is present"},
		{"null empty set is absent", `{"Null":{"aws:TagKeys":"true"}}`, NewContext().Set("aws:TagKeys"), TriTrue, "Context.Set with no values records absence"},
	})
}

func TestConditionIP(t *testing.T) {
	ip := func(v string) *Context { return ctxWith("aws:SourceIp", v) }
	runCondCases(t, []condCase{
		{"v4 in", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ip("10.1.2.3"), TriTrue, "IAMUG condition_operators IpAddress CIDR"},
		{"v4 out", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ip("192.168.0.1"), TriFalse, "IAMUG condition_operators IpAddress"},
		{"v6 in", `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, ip("2001:db8:1234:5678::1"), TriTrue, "IAMUG condition_operators: IPv6 CIDR"},
		{"v6 out", `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, ip("2001:db8:1234:5679::1"), TriFalse, "IAMUG condition_operators IPv6"},
		{"single address", `{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}`, ip("203.0.113.5"), TriTrue, "IAMUG condition_operators: a single address is a /32"},
		{"v4 vs v6 range", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ip("10.0.0.1"), TriFalse, "families differ"},
		{"v4-mapped v6 context", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ip("::ffff:10.0.0.1"), TriTrue, "an IPv4-mapped IPv6 address is the IPv4 address"},
		{"list OR", `{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","10.0.0.0/8"]}}`, ip("10.9.9.9"), TriTrue, "ecs-facts §5.4 values OR"},
		{"not ip in range", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","10.0.0.0/8"]}}`, ip("10.9.9.9"), TriFalse, "ecs-facts §5.4 negated: match none"},
		{"not ip out of range", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","10.0.0.0/8"]}}`, ip("172.16.0.1"), TriTrue, "IAMUG condition_operators NotIpAddress"},
		{"not ip missing", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, NewContext().SetAbsent("aws:SourceIp"), TriTrue, "ecs-facts §5.4: missing key, negated → true"},
		{"context not an IP", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ip("vpce"), TriFalse, "a non-address does not match"},
	})
}

func TestConditionARN(t *testing.T) {
	src := func(v string) *Context { return ctxWith("aws:SourceArn", v) }
	const task = "arn:aws:ecs:us-west-2:111122223333:task/cluster/0123"
	runCondCases(t, []condCase{
		{"like", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-west-2:111122223333:*"}}`, src(task), TriTrue, "ecs-facts §3.3 confused-deputy example"},
		{"like other account", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:444455556666:*"}}`, src(task), TriFalse, "ecs-facts §5.4: each ARN part matched separately"},
		{"equals behaves as like", `{"ArnEquals":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:task/*"}}`, src(task), TriTrue, "ecs-facts §5.4: ArnEquals and ArnLike behave identically"},
		{"case-sensitive", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:TASK/*"}}`, src(task), TriFalse, "ecs-facts §5.4: Arn operators are case-sensitive"},
		{"part-wise: * stays in its part", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:task/*"}}`, src("arn:aws:ecs:us-west-2:x:111122223333:task/1"), TriFalse, "ecs-facts §5.4: each of the 6 parts matched separately (a whole-string glob would match)"},
		{"not like", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin-*"}}`, ctxWith("aws:PrincipalArn", "arn:aws:iam::111122223333:role/exec"), TriTrue, "IAMUG condition_operators ArnNotLike"},
		{"not equals missing", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:ecs:*:1:*"}}`, NewContext().SetAbsent("aws:SourceArn"), TriTrue, "ecs-facts §5.4 missing key, negated"},
		{"not a 6-part context value", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:1:*"}}`, src("not-an-arn"), TriFalse, "an ARN pattern does not match a non-ARN"},
	})
}

func TestConditionIfExists(t *testing.T) {
	runCondCases(t, []condCase{
		{"absent", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, NewContext().SetAbsent("aws:SourceVpce"), TriTrue, "ecs-facts §5.4: …IfExists is true when the key is absent"},
		{"present match", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, ctxWith("aws:SourceVpce", "vpce-1"), TriTrue, "ecs-facts §5.4 IfExists"},
		{"present mismatch", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, ctxWith("aws:SourceVpce", "vpce-2"), TriFalse, "ecs-facts §5.4 IfExists compares when present"},
		{"unknown", `{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, NewContext(), TriUnknown, "brief: unknown keys"},
		{"numeric", `{"NumericLessThanIfExists":{"s3:max-keys":"10"}}`, NewContext().SetAbsent("s3:max-keys"), TriTrue, "ecs-facts §5.4 IfExists on every family"},
		{"negated IfExists absent", `{"StringNotEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}`, NewContext().SetAbsent("aws:RequestedRegion"), TriTrue, "ecs-facts §5.4 IfExists"},
		{"ip IfExists present", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxWith("aws:SourceIp", "11.0.0.1"), TriFalse, "ecs-facts §5.4 IfExists"},
		{"arn IfExists absent", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:ecs:*:1:*"}}`, NewContext().SetAbsent("aws:SourceArn"), TriTrue, "ecs-facts §5.4 IfExists"},
	})
}

func TestConditionSetOperators(t *testing.T) {
	tags := func(v ...string) *Context { return NewContext().Set("aws:TagKeys", v...) }
	runCondCases(t, []condCase{
		{"all: subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, tags("team"), TriTrue, "ecs-facts §5.4: ForAllValues — every context value matches some policy value"},
		{"all: one outside", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, tags("team", "cost"), TriFalse, "ecs-facts §5.4 ForAllValues"},
		{"all: absent", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, NewContext().SetAbsent("aws:TagKeys"), TriTrue, "brief: ForAllValues with an absent key is true"},
		{"all: empty", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, tags(), TriTrue, "brief: ForAllValues with an empty key is true"},
		{"all: unknown", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, NewContext(), TriUnknown, "brief: unknown keys"},
		{"all: like", `{"ForAllValues:StringLike":{"aws:TagKeys":["app-*"]}}`, tags("app-a", "app-b"), TriTrue, "ecs-facts §5.4 ForAllValues with StringLike"},
		{"any: one matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, tags("cost", "team"), TriTrue, "ecs-facts §5.4: ForAnyValue — some context value matches"},
		{"any: none", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, tags("cost"), TriFalse, "ecs-facts §5.4 ForAnyValue"},
		{"any: absent", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`, NewContext().SetAbsent("aws:TagKeys"), TriFalse, "brief: ForAnyValue with an absent key is false"},
		{"any: negated", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, tags("team", "cost"), TriTrue, "IAMUG multi-value conditions: some value matches none of the policy values"},
		{"any: negated, all listed", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, tags("team", "env"), TriFalse, "IAMUG multi-value conditions"},
		{"all: negated", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, tags("team", "aws:x"), TriFalse, "IAMUG multi-value conditions: every value matches none"},
		{"all IfExists absent", `{"ForAllValues:StringEqualsIfExists":{"aws:TagKeys":["env"]}}`, NewContext().SetAbsent("aws:TagKeys"), TriTrue, "ecs-facts §5.4 IfExists"},
		{"single-valued operator on multi-valued key", `{"StringEquals":{"aws:TagKeys":"team"}}`, tags("cost", "team"), TriTrue, "doc.go: a single-valued operator on a multi-valued key matches when any value matches"},
		{"negated single-valued operator on multi-valued key", `{"StringNotEquals":{"aws:TagKeys":"team"}}`, tags("cost", "team"), TriFalse, "doc.go: negated — when none matches"},
	})
}

func TestConditionPrefix(t *testing.T) {
	// brief: SetPrefix — String*/Arn* operators decide where they can.
	pre := NewContext().SetPrefix("aws:SourceArn", "arn:aws:ecs:us-east-1:111122223333:")
	runCondCases(t, []condCase{
		{"arn like covers", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:*"}}`, pre, TriTrue, "brief: ArnLike arn:aws:ecs:*:ACCT:* with known prefix is true"},
		{"arn like other account", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:444455556666:*"}}`, pre, TriFalse, "brief: a pattern naming another account is false"},
		{"arn like narrower", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:111122223333:task/*"}}`, pre, TriUnknown, "brief: a pattern narrower than the prefix is unknown"},
		{"arn not like covers", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:*"}}`, pre, TriFalse, "negation of a decided match"},
		{"arn not like other account", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:ecs:*:444455556666:*"}}`, pre, TriTrue, "negation of a decided match"},
		{"string like", `{"StringLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:*"}}`, pre, TriTrue, "brief: String* decide where they can"},
		{"string equals other", `{"StringEquals":{"aws:SourceArn":"arn:aws:s3:::b"}}`, pre, TriFalse, "no value with that prefix equals it"},
		{"string equals longer", `{"StringEquals":{"aws:SourceArn":"arn:aws:ecs:us-east-1:111122223333:task/x"}}`, pre, TriUnknown, "some value with that prefix equals it"},
		{"string equals, literal * not a wildcard", `{"StringEquals":{"aws:SourceArn":"arn:aws:ecs:us-east-1:111122223333:*"}}`, pre, TriUnknown, "StringEquals has no wildcards"},
		{"ignore case", `{"StringEqualsIgnoreCase":{"aws:SourceArn":"ARN:AWS:S3:::B"}}`, pre, TriFalse, "case folded before deciding"},
		{"numeric unknown", `{"NumericEquals":{"aws:SourceArn":"1"}}`, pre, TriUnknown, "brief: other operators → unknown"},
		{"for any value", `{"ForAnyValue:ArnLike":{"aws:SourceArn":["arn:aws:ecs:*:111122223333:*"]}}`, pre, TriTrue, "a prefix value is one value"},
	})
}

func TestConditionPrefixWithVariables(t *testing.T) {
	// A prefix-known value compared with values holding policy variables
	// (brief SetPrefix; ecs-facts §5.5 variables in ARN and string conditions).
	pre := func() *Context {
		return NewContext().SetPrefix("aws:SourceArn", "arn:aws:ecs:us-east-1:111122223333:")
	}
	runCondCases(t, []condCase{
		{"arn like, variable known", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:${aws:RequestedRegion}:111122223333:*"}}`, pre().Set("aws:RequestedRegion", "us-east-1"), TriTrue, "expansion covers the prefix"},
		{"arn like, variable other", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:${aws:RequestedRegion}:111122223333:*"}}`, pre().Set("aws:RequestedRegion", "eu-west-1"), TriFalse, "expansion excludes the prefix"},
		{"arn like, variable unknown", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:${aws:RequestedRegion}:111122223333:*"}}`, pre(), TriUnknown, "unknown variable"},
		{"arn like, variable absent", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:${aws:RequestedRegion}:111122223333:*"}}`, pre().SetAbsent("aws:RequestedRegion"), TriFalse, "ecs-facts §5.5 missing variable"},
		{"string like, variable", `{"StringLike":{"aws:SourceArn":"arn:aws:ecs:${aws:RequestedRegion}:*"}}`, pre().Set("aws:RequestedRegion", "us-east-1"), TriTrue, "StringLike expansion"},
		{"string equals, variable", `{"StringEquals":{"aws:SourceArn":"arn:aws:ecs:${aws:RequestedRegion}:111122223333:task/x"}}`, pre().Set("aws:RequestedRegion", "us-east-1"), TriUnknown, "some value with the prefix equals it"},
		{"ignore case, variable", `{"StringEqualsIgnoreCase":{"aws:SourceArn":"ARN:AWS:S3:::${aws:RequestedRegion}"}}`, pre().Set("aws:RequestedRegion", "x"), TriFalse, "no value with the prefix equals it"},
		{"multi-valued variable", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:${aws:RequestedRegion}:111122223333:*"}}`, pre().Set("aws:RequestedRegion", "eu-west-1", "us-east-1"), TriTrue, "several values: any"},
	})
	if !IsConditionKey("aws:ResourceTag/aws:cloudformation:stack-name") || IsConditionKey("arn:aws:iam::1:role/x") {
		t.Error("IsConditionKey")
	}
}
