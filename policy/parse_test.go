package policy

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, name, doc string) *Policy {
	t.Helper()
	p, err := ParseString(name, doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p
}

// The ECS docs show a policy that maps ARNs to ARNs inside StringEquals
// (brief); it must be rejected with a message naming policy, statement,
// Sid, operator and key.
func TestParseErrorMessageExample(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ecr:*","Resource":"*"},
		{"Effect":"Allow","Action":"ssm:*","Resource":"*"},
		{"Sid":"Logs","Effect":"Allow","Action":"logs:*","Resource":"*",
		 "Condition":{"StringEquals":{"arn:aws:iam::1:role/x":"arn:aws:iam::1:role/y"}}}]}`
	_, err := ParseString("inline:app", doc)
	want := `policy "inline:app": statement 2 (Sid "Logs"): Condition.StringEquals: key "arn:aws:iam::1:role/x" is not a condition key (expected service:name)`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Policy != "inline:app" || pe.Statement != 2 || pe.Sid != "Logs" || pe.Field != "Condition.StringEquals" {
		t.Fatalf("ParseError fields: %+v", pe)
	}
	if pe.Detail() != strings.TrimPrefix(want, `policy "inline:app": `) {
		t.Fatalf("Detail() = %q", pe.Detail())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// want: substrings of the message, in order.
		want []string
		rule string
	}{
		{"unknown top-level key", `{"Version":"2012-10-17","Statment":[]}`,
			[]string{`policy "p": `, `unknown element "Statment"`}, "brief: strict, unknown top-level keys; ecs-facts §5.6 grammar"},
		{"missing Statement", `{"Version":"2012-10-17"}`, []string{"missing Statement"}, "ecs-facts §5.6 grammar: Statement is required"},
		{"unknown statement key", `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"*","Resource":"*","Resources":"*"}]}`,
			[]string{`statement 0 (Sid "S"): `, `unknown element "Resources"`}, "brief: strict, unknown statement keys"},
		{"lower-case effect", `{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`,
			[]string{"statement 0: Effect: ", `not "allow"`}, "ecs-facts §5.6: Effect values Allow/Deny are case-sensitive"},
		{"effect not a string", `{"Statement":[{"Effect":true,"Action":"*","Resource":"*"}]}`,
			[]string{"Effect: ", "not a boolean"}, "ecs-facts §5.6 Effect is Allow or Deny"},
		{"missing effect", `{"Statement":[{"Action":"*","Resource":"*"}]}`, []string{"statement 0: missing Effect"}, "ecs-facts §5.6 grammar"},
		{"Action and NotAction", `{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]}`,
			[]string{"both Action and NotAction"}, "IAMUG reference_policies_grammar: action_block is Action or NotAction"},
		{"neither Action nor NotAction", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`,
			[]string{"neither Action nor NotAction"}, "IAMUG reference_policies_grammar"},
		{"Resource and NotResource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]}`,
			[]string{"both Resource and NotResource"}, "IAMUG reference_policies_grammar: resource_block is Resource or NotResource"},
		{"Principal and NotPrincipal", `{"Statement":[{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"*"}]}`,
			[]string{"both Principal and NotPrincipal"}, "IAMUG reference_policies_grammar"},
		{"non-string action", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject",3],"Resource":"*"}]}`,
			[]string{`statement 0 (Sid "A"): Action[1]: must be a string, not a number`}, "brief: non-string action entries"},
		{"non-string resource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":[null]}]}`,
			[]string{"Resource[0]: must be a string, not null"}, "brief: non-string resource entries"},
		{"empty action list", `{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`,
			[]string{"Action: empty list"}, "brief: an empty Action list is an error"},
		{"action object", `{"Statement":[{"Effect":"Allow","Action":{"a":"b"},"Resource":"*"}]}`,
			[]string{"Action: must be a string or an array of strings, not an object"}, "ecs-facts §5.6: string or array"},
		{"empty action", `{"Statement":[{"Effect":"Allow","Action":"","Resource":"*"}]}`, []string{"Action[0]: empty action"}, "ecs-facts §5.2 form service:Action"},
		{"condition operator value not an object", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}}]}`,
			[]string{"Condition.StringEquals: must be an object, not a string"}, "brief: operator value is an object of key → values"},
		{"condition not an object", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":["x"]}]}`,
			[]string{"Condition: must be an object, not an array"}, "IAMUG reference_policies_grammar condition_block"},
		{"condition value object", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:x":{"a":1}}}}]}`,
			[]string{"Condition.StringEquals.aws:x: condition value must be a string, number or boolean, not an object"}, "brief: string|number|bool|list of those"},
		{"condition value null in list", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:x":["a",null]}}}]}`,
			[]string{"Condition.StringEquals.aws:x[1]: ", "not null"}, "brief: list of string|number|bool"},
		{"unknown operator", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:x":"a"}}}]}`,
			[]string{`Condition: unknown condition operator "StringEqualz"`}, "ecs-facts §5.4 operator list"},
		{"unknown set prefix", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForEachValue:StringEquals":{"aws:x":"a"}}}]}`,
			[]string{`unknown condition operator "ForEachValue:StringEquals"`}, "ecs-facts §5.4: only ForAllValues:/ForAnyValue:"},
		{"Null has no IfExists", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:x":"true"}}}]}`,
			[]string{"Null has no IfExists form"}, "brief: Null has no IfExists"},
		{"ForAllValues:Null", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:Null":{"aws:x":"true"}}}]}`,
			[]string{"Null cannot be used with ForAllValues:"}, "ecs-facts §5.4: Null tests presence; set operators are for multi-valued keys"},
		{"key without prefix", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"SourceVpce":"a"}}}]}`,
			[]string{`key "SourceVpce" is not a condition key (expected service:name)`}, "brief: keys are prefix:name"},
		{"key with bad prefix", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws x:y":"a"}}}]}`,
			[]string{`key "aws x:y" is not a condition key`}, "brief: prefix [A-Za-z0-9-]+"},
		{"key with empty name", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:":"a"}}}]}`,
			[]string{`key "aws:" is not a condition key`}, "brief: prefix:name"},
		{"duplicate top-level key", `{"Version":"2012-10-17","Statement":[],"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			[]string{`duplicate key "Statement"`}, "ecs-facts §5.6: duplicate keys in one element are invalid"},
		{"duplicate statement key", `{"Statement":[{"Sid":"D","Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}]}`,
			[]string{`statement 0 (Sid "D"): duplicate key "Effect"`}, "ecs-facts §5.6 duplicate keys"},
		{"duplicate condition operator", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:a":"true"},"Bool":{"aws:b":"true"}}}]}`,
			[]string{`Condition: duplicate key "Bool"`}, "ecs-facts §5.6 duplicate keys"},
		{"duplicate condition key", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:a":"x","aws:a":"y"}}}]}`,
			[]string{`Condition.StringEquals: duplicate key "aws:a"`}, "ecs-facts §5.6 duplicate keys (encoding/json would keep the last)"},
		{"duplicate principal type", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"1","AWS":"2"},"Action":"*"}]}`,
			[]string{`Principal: duplicate key "AWS"`}, "ecs-facts §5.6 duplicate keys"},
		{"bad version", `{"Version":"2012-10-18","Statement":[]}`, []string{`Version: "2012-10-18" is not a policy language version`}, "ecs-facts §5.6 Version values"},
		{"version not a string", `{"Version":2012,"Statement":[]}`, []string{"Version: must be a string"}, "ecs-facts §5.6 Version values"},
		{"statement a string", `{"Statement":"x"}`, []string{"Statement: must be an object or an array"}, "ecs-facts §5.6: Statement is an array or a single object"},
		{"statement entry not an object", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},"x"]}`,
			[]string{"statement 1: must be an object, not a string"}, "ecs-facts §5.6"},
		{"trailing data", `{"Statement":[]} {"x":1}`, []string{"trailing data after the policy document"}, "brief: trailing data is an error"},
		{"trailing garbage", `{"Statement":[]}]`, []string{`policy "p": `}, "brief: trailing data is an error"},
		{"principal string other than *", `{"Statement":[{"Effect":"Allow","Principal":"arn:aws:iam::1:root","Action":"*"}]}`,
			[]string{`Principal: must be "*" or an object`}, "ecs-facts §5.6: Principal is * or a map"},
		{"principal unknown type", `{"Statement":[{"Effect":"Allow","Principal":{"User":"x"},"Action":"*"}]}`,
			[]string{`Principal: unknown principal type "User"`}, "ecs-facts §5.6: keys AWS, Service, Federated, CanonicalUser"},
		{"principal empty object", `{"Statement":[{"Effect":"Allow","Principal":{},"Action":"*"}]}`, []string{"Principal: empty principal object"}, "ecs-facts §5.6"},
		{"principal empty list", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":[]},"Action":"*"}]}`, []string{"Principal.AWS: empty list"}, "ecs-facts §5.6"},
		{"invalid JSON", `{"Statement":[}`, []string{"invalid JSON"}, "brief: never panic; clear error"},
		{"truncated JSON", `{"Statement":[`, []string{"invalid JSON"}, "brief: never panic"},
		{"not JSON", `hello`, []string{"not a JSON object"}, "ecs-facts §5.6 URL-decoding fallback"},
		{"bad URL encoding", `%ZZ`, []string{"neither JSON nor URL-encoded JSON"}, "ecs-facts §5.6 URL-decoding fallback"},
		{"empty", "  ", []string{"empty policy document"}, "brief"},
		{"top-level array", `[{"Statement":[]}]`, []string{"not a JSON object"}, "ecs-facts §5.6 a policy is an object"},
		{"sid not a string", `{"Statement":[{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{"statement 0: Sid: must be a string"}, "IAMUG reference_policies_grammar sid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseString("p", tt.doc)
			if err == nil {
				t.Fatalf("parsed: %+v (%s)", p, tt.rule)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *ParseError", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, `policy "p": `) {
				t.Errorf("message %q does not name the policy", msg)
			}
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("message %q lacks %q (%s)", msg, w, tt.rule)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestParseShapes(t *testing.T) {
	// ecs-facts §5.6: Statement as a single object; Action/Resource as
	// string or list; Principal "*" or a map with string or list values.
	p := mustParse(t, "p", `{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"One","Effect":"Deny","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/r"],"Service":"ecs-tasks.amazonaws.com"},"NotAction":"iam:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":false},"StringEquals":{"aws:TagKeys":["a","b"]}}}}`)
	if p.Version != "2012-10-17" || p.ID != "x" || len(p.Statements) != 1 {
		t.Fatalf("policy %+v", p)
	}
	st := p.Statements[0]
	if st.Sid != "One" || st.Effect != "Deny" || st.Actions != nil || !reflect.DeepEqual(st.NotActions, []string{"iam:*"}) ||
		!reflect.DeepEqual(st.NotResources, []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"}) || st.Resources != nil {
		t.Fatalf("statement %+v", st)
	}
	if st.Principal == nil || st.Principal.Wildcard || !reflect.DeepEqual(st.Principal.Values["AWS"], []string{"111122223333", "arn:aws:iam::444455556666:role/r"}) ||
		!reflect.DeepEqual(st.Principal.Values["Service"], []string{"ecs-tasks.amazonaws.com"}) {
		t.Fatalf("principal %+v", st.Principal)
	}
	// Numbers and booleans become their text (brief).
	want := []Condition{
		{Operator: "NumericLessThan", Key: "s3:max-keys", Values: []string{"10"}},
		{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}},
		{Operator: "StringEquals", Key: "aws:TagKeys", Values: []string{"a", "b"}},
	}
	if !reflect.DeepEqual(st.Conditions, want) {
		t.Fatalf("conditions %+v", st.Conditions)
	}
	if got := st.ConditionKeys(); !reflect.DeepEqual(got, []string{"aws:SecureTransport", "aws:TagKeys", "s3:max-keys"}) {
		t.Fatalf("ConditionKeys = %v", got)
	}

	// "Principal": "*".
	p = mustParse(t, "p", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":"*"}]}`)
	if !p.Statements[0].Principal.Wildcard || p.Version != "" {
		t.Fatalf("wildcard principal: %+v", p.Statements[0].Principal)
	}
	// ecs-facts §5.6 Version 2008-10-17 is valid.
	mustParse(t, "p", `{"Version":"2008-10-17","Statement":[]}`)
	// Blocks in any order (ecs-facts §5.6).
	mustParse(t, "p", `{"Statement":[{"Resource":"*","Action":"*","Effect":"Allow","Sid":"late"}],"Version":"2012-10-17"}`)
	// A colon in the name after a slash (brief: aws:ResourceTag/aws:cloudformation:stack-name).
	mustParse(t, "p", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/aws:cloudformation:stack-name":"s"}}}]}`)
}

func TestParseEmptyStatementList(t *testing.T) {
	// brief: an empty Statement list is valid JSON and grants nothing.
	p := mustParse(t, "empty", `{"Version":"2012-10-17","Statement":[]}`)
	if len(p.Statements) != 0 || len(p.Warnings) != 1 {
		t.Fatalf("%+v", p)
	}
	r := Evaluate(&Input{Identity: []NamedPolicy{{"empty", p}}}, Request{Action: "s3:GetObject", Resource: "*"})
	if r.Decision != ImplicitDeny {
		t.Fatalf("decision %v", r.Decision)
	}
}

func TestParseURLEncoded(t *testing.T) {
	// ecs-facts §5.6: GetAccountAuthorizationDetails returns URL-encoded
	// documents (RFC 3986); decode with PathUnescape, which leaves + alone.
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"A B+C","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`
	enc := url.PathEscape(doc)
	if strings.HasPrefix(enc, "{") {
		t.Fatal("test setup: not encoded")
	}
	p := mustParse(t, "enc", "  "+enc+"\n")
	if p.Statements[0].Sid != "A B+C" {
		t.Fatalf("Sid %q: + must stay +", p.Statements[0].Sid)
	}
	// The form IAM actually returns (%7B...%22...).
	p = mustParse(t, "enc", `%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22logs%3ACreateLogStream%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D`)
	if !p.Statements[0].MatchesAction("logs:CreateLogStream") {
		t.Fatal("decoded policy does not match")
	}
	// Errors in an encoded document still name statement and field.
	_, err := ParseString("enc", url.PathEscape(`{"Statement":[{"Effect":"Permit","Action":"*","Resource":"*"}]}`))
	if err == nil || !strings.Contains(err.Error(), `statement 0: Effect: must be "Allow" or "Deny", not "Permit"`) {
		t.Fatalf("err %v", err)
	}
	// A byte-order mark is ignored.
	mustParse(t, "bom", "\ufeff"+doc)
}

func TestParseWarnings(t *testing.T) {
	tests := []struct {
		doc  string
		want string
		rule string
	}{
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:*:us-east-1:1:x"}]}`, "wildcard in the service segment", "ecs-facts §5.3: no wildcard in the service segment"},
		{`{"Statement":[{"Effect":"Allow","Action":"s3GetObject","Resource":"*"}]}`, "not of the form service:action", "ecs-facts §5.2 form service:Action"},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"stringequals":{"aws:x":"a"}}}]}`, `documented spelling is "StringEquals"`, "ecs-facts §5.4 operator names"},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"aws:x":"ten"}}}]}`, `value "ten" of key "aws:x" is not a number; the condition is always false`, "brief: unparseable values → condition false + warning"},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}`, "not an IP address or CIDR block", "brief: unparseable values"},
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}]}`, "not a date", "brief: unparseable values"},
		{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username}"}]}`, "policy variables are literal text unless Version is 2012-10-17", "ecs-facts §5.5"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username"}]}`, "unterminated policy variable", "ecs-facts §5.5 syntax"},
		{`{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"1"},"Action":"*","Resource":"*"}]}`, "NotPrincipal with Allow", "IAMUG reference_policies_elements_notprincipal: use with Deny"},
	}
	for _, tt := range tests {
		p := mustParse(t, "w", tt.doc)
		found := false
		for _, w := range p.Warnings {
			if strings.Contains(w, tt.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("warnings %q lack %q (%s)", p.Warnings, tt.want, tt.rule)
		}
	}
}

func TestParseNeverPanicsOnOddInput(t *testing.T) {
	// brief: never panic on any input.
	for _, doc := range []string{"{", "}", "{}", `{"Statement":null}`, `{"Statement":[null]}`, `{"Statement":[[]]}`,
		strings.Repeat("[", 20000), `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringLike":{"a:b":"` + strings.Repeat("*", 5000) + `"}}}]}`,
		"%7B", "\x00", `{"Statement":[{"Effect":"Allow","Action":"\xff","Resource":"\xfe"}]}`} {
		_, _ = ParseString("odd", doc)
	}
}
