package policy

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics; when it succeeds, Evaluate of fixed
// requests on the policy in every layer never panics either, and a
// failure is always a *ParseError naming the policy.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::b/*","Condition":{"StringNotEqualsIfExists":{"aws:RequestedRegion":["us-east-1",1,true]}}}}`,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r"],"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/${aws:PrincipalTag/team, 'x'}*"},"Null":{"aws:SourceVpce":"false"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/${*}${?}${$}","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericLessThanEquals":{"s3:max-keys":"10"},"BinaryEquals":{"x:y":"QmluYXJ5"},"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:111122223333:*"},"Bool":{"aws:SecureTransport":"true"}}}]}`,
		`%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22ecr%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D`,
		`{"Statement":[],"Statement":[]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"arn:aws:iam::1:role/x":"arn:aws:iam::1:role/y"}}}]}`,
		`{"Version":"2012-10-17","Statement":[]} trailing`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:sts::1:assumed-role/r/s"},"Action":"*","Resource":"*"}]}`,
		`[`, `{`, `{"a":`, `null`, `"x"`, `%ZZ`, "\ufeff{}",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	reqs := []Request{
		{Principal: "arn:aws:sts::111122223333:assumed-role/r/s", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/alice/x", Context: NewContext().Set("aws:username", "alice").SetPrefix("aws:SourceArn", "arn:aws:ecs:us-east-1:111122223333:")},
		{Principal: "ecs-tasks.amazonaws.com", Action: "sts:AssumeRole", Resource: "*"},
		{Principal: "arn:aws:iam::444455556666:role/x", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/k", Context: NewContext().Set("aws:SourceIp", "10.0.0.1").Set("aws:TagKeys", "a", "b").SetAbsent("aws:SourceVpce")},
	}
	// Partly known resources: the answer for the unknown run must hold for
	// every value of it (checked against each value below).
	unknownReqs := []Request{
		{Principal: "arn:aws:sts::111122223333:assumed-role/r/s", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/", ResourceUnknown: &UnknownSegment{Alphabet: "a/", MinLength: 0, MaxLength: 2}, Context: NewContext().Set("aws:username", "a")},
		{Principal: "arn:aws:iam::444455556666:role/x", Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-", ResourceUnknown: &UnknownSegment{Alphabet: "Ab", MinLength: 1, MaxLength: 2}},
		{Principal: "arn:aws:sts::111122223333:assumed-role/r/s", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:", ResourceUnknown: &UnknownSegment{Alphabet: "1:", MinLength: 0, MaxLength: 3, Tail: ":key/k"}},
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ParseString("fuzz", doc)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Policy != "fuzz" {
				t.Fatalf("error is not a *ParseError naming the policy: %v", err)
			}
			if !strings.HasPrefix(err.Error(), `policy "fuzz": `) {
				t.Fatalf("message does not start with the policy: %q", err.Error())
			}
			return
		}
		np := NamedPolicy{Name: "fuzz", Policy: p}
		for _, kind := range []ResourcePolicyKind{ResourcePolicyOrdinary, ResourcePolicyKMSKey, ResourcePolicyTrust} {
			in := &Input{Identity: []NamedPolicy{np}, Boundary: []NamedPolicy{np}, SCPLevels: [][]NamedPolicy{{np}}, RCPLevels: [][]NamedPolicy{{np}}, ResourcePolicy: &np, ResourcePolicyKind: kind}
			for _, r := range reqs {
				res := Evaluate(in, r)
				switch res.Decision {
				case Allowed, ImplicitDeny, ExplicitDeny, Indeterminate:
				default:
					t.Fatalf("decision %q", res.Decision)
				}
				if res.Reason == "" {
					t.Fatal("empty reason")
				}
				if (res.Decision == Indeterminate) != (res.Outcomes != nil) {
					t.Fatalf("outcomes %v for %s", res.Outcomes, res.Decision)
				}
			}
			for _, r := range unknownReqs {
				res := Evaluate(in, r)
				if res.Reason == "" || (res.Decision == Indeterminate) != (res.Outcomes != nil) {
					t.Fatalf("result %+v", res)
				}
				forEachValue(r.ResourceUnknown, func(v string) {
					known := r
					known.Resource, known.ResourceUnknown = r.Resource+v+r.ResourceUnknown.Tail, nil
					d := Evaluate(in, known).Decision
					switch {
					case res.Decision == Allowed && d != Allowed,
						(res.Decision == ImplicitDeny || res.Decision == ExplicitDeny) && d != ImplicitDeny && d != ExplicitDeny:
						t.Fatalf("kind %q: %s on %s is %s, but %s for the value %q", kind, r.Action, DisplayResource(r.Resource, r.ResourceUnknown), res.Decision, d, v)
					}
				})
			}
		}
		for _, st := range p.Statements {
			st.ConditionKeys()
			st.VariableKeys()
			st.MatchesAction("s3:GetObject")
			st.MatchesResource("arn:aws:s3:::b/k", nil)
			st.MatchesPrincipal("arn:aws:iam::111122223333:root")
		}
	})
}

// forEachValue calls fn with every value of a (small) unknown run.
func forEachValue(u *UnknownSegment, fn func(string)) {
	a, err := parseAlphabet(u.Alphabet)
	if err != nil {
		panic(err)
	}
	chars := a.runes()
	var walk func(s []rune)
	walk = func(s []rune) {
		if len(s) >= u.MinLength {
			fn(string(s))
		}
		if len(s) == u.MaxLength {
			return
		}
		for _, c := range chars {
			walk(append(s[:len(s):len(s)], c))
		}
	}
	walk(nil)
}

// FuzzMatchResourceUnknown: the three-valued match of a pattern against a
// partly known resource agrees with MatchResource over every value of a
// small run (alphabet of up to 3 characters from the input, length up to
// 4): TriTrue when every value matches, TriFalse when none, TriUnknown when
// some do.
func FuzzMatchResourceUnknown(f *testing.F) {
	for _, s := range []struct {
		pattern, prefix, tail, alpha string
		lo, hi                       uint8
	}{
		{"arn:aws:secretsmanager:us-east-1:1:secret:db-??????", "arn:aws:secretsmanager:us-east-1:1:secret:db-", "", "aZ9", 6, 6},
		{"arn:aws:secretsmanager:us-east-1:1:secret:db-Ab????", "arn:aws:secretsmanager:us-east-1:1:secret:db-", "", "Ab", 4, 4},
		{"arn:aws:secretsmanager:us-east-1:1:secret:db-Zz9Yx8", "arn:aws:secretsmanager:us-east-1:1:secret:db-Zz9Y", "", "x8", 2, 2},
		{"arn:aws:secretsmanager:us-east-1:1:secret:db-*", "arn:aws:secretsmanager:us-east-1:1:secret:db-", "", "a-", 1, 3},
		{"arn:aws:secretsmanager:us-east-1:1:secret:db-*-??", "arn:aws:secretsmanager:us-east-1:1:secret:db-", "", "a-", 2, 4},
		{"arn:aws:logs:us-east-1:1:log-group:g:log-stream:p/c/*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:p/c/", "", "0f-", 2, 4},
		{"arn:aws:logs:*:1:log-group:g:*", "arn:aws:logs:", ":1:log-group:g:log-stream:x", "a:-", 0, 3},
		{"arn:aws:s*:*:*:x", "arn:aws:s", "", "3:x", 1, 4},
		{"*a?*", "", "", "a?*", 0, 4},
		{"a:b:c:d:e:f", "a", "e:f", ":bc", 4, 4},
	} {
		f.Add(s.pattern, s.prefix, s.tail, s.alpha, s.lo, s.hi)
	}
	f.Fuzz(func(t *testing.T, pattern, prefix, tail, alpha string, lo, hi uint8) {
		// Patterns from Parse are valid UTF-8 (JSON strings); for invalid
		// ones glob's byte-wise literals and rune-wise ? differ from any
		// character-level automaton.
		if len(pattern) > 64 || len(prefix) > 64 || len(tail) > 16 || !utf8.ValidString(pattern) {
			return
		}
		// Up to 3 distinct printable characters, '-' last (so no range).
		var chars []byte
		dash := false
		for i := 0; i < len(alpha) && len(chars)+btoi(dash) < 3; i++ {
			c := alpha[i]
			switch {
			case c < 0x20 || c > 0x7e:
			case c == '-':
				dash = true
			case bytes.IndexByte(chars, c) < 0:
				chars = append(chars, c)
			}
		}
		if dash {
			chars = append(chars, '-')
		}
		if len(chars) == 0 {
			return
		}
		u := &UnknownSegment{Alphabet: string(chars), MinLength: int(lo % 4), Tail: tail}
		u.MaxLength = u.MinLength + int(hi%3)
		if u.MaxLength > 4 {
			u.MaxLength = 4
		}
		got, err := MatchResourceUnknown(pattern, prefix, u)
		if err != nil {
			t.Fatalf("segment %+v: %v", u, err)
		}
		yes, no := false, false
		forEachValue(u, func(v string) {
			if MatchResource(pattern, prefix+v+tail) {
				yes = true
			} else {
				no = true
			}
		})
		if want := triOfSet(yes, no); got != want {
			t.Fatalf("MatchResourceUnknown(%q, %q + %d..%d of [%s] + %q) = %v, every value says %v", pattern, prefix, u.MinLength, u.MaxLength, u.Alphabet, tail, got, want)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// refGlob is a plain dynamic-programming glob over runes, the reference the
// fast matchers are checked against: * any run of characters, ? exactly one
// character. m[i][j]: p[:i] matches s[:j].
func refGlob(p, s []rune) bool {
	m := make([][]bool, len(p)+1)
	for i := range m {
		m[i] = make([]bool, len(s)+1)
	}
	m[0][0] = true
	for i := 1; i <= len(p); i++ {
		for j := 0; j <= len(s); j++ {
			switch p[i-1] {
			case '*':
				m[i][j] = m[i-1][j] || (j > 0 && m[i][j-1])
			case '?':
				m[i][j] = j > 0 && m[i-1][j-1]
			default:
				m[i][j] = j > 0 && m[i-1][j-1] && p[i-1] == s[j-1]
			}
		}
	}
	return m[len(p)][len(s)]
}

func refGlobString(p, s string) bool {
	return refGlob([]rune(p), []rune(s))
}

// FuzzMatchResource: never panics; a pattern without wildcards matches only
// itself (ARN parts compared exactly); "*" matches everything; for patterns
// of fewer than six parts, agreement with the reference glob.
func FuzzMatchResource(f *testing.F) {
	for _, s := range [][2]string{
		{"arn:aws:logs:us-east-1:1:log-group:G:*", "arn:aws:logs:us-east-1:1:log-group:G:log-stream:x"},
		{"arn:aws:logs:us-east-1:1:log-group:G:*", "arn:aws:logs:us-east-1:1:log-group:G"},
		{"arn:aws:secretsmanager:*:1:secret:db-??????", "arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf"},
		{"arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1/2/test/3/x.jpg"},
		{"arn:aws:ecr:*:*:*", "*"},
		{"*", "*"},
		{"arn:aws:*", "arn:aws:s3:::b"},
		{"a?c", "aéc"},
		{"arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/${aws:username}"},
		{"**?*", "x"},
		{"", ""},
		{"arn:aws:secretsmanager:us-east-1:1:secret:db-Ab????", "arn:aws:secretsmanager:us-east-1:1:secret:db-??????"},
		{"arn:aws:secretsmanager:us-east-1:1:secret:db-Zz9Yx8", "arn:aws:secretsmanager:us-east-1:1:secret:db-Zz9Yx8"},
		{"arn:aws:logs:us-east-1:1:log-group:g:log-stream:p/c/*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:p/c/<task-id>"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, resource string) {
		got := MatchResource(pattern, resource)
		if !strings.ContainsAny(pattern, "*?") {
			// No wildcard: matches only itself.
			if got != (pattern == resource) {
				t.Fatalf("MatchResource(%q, %q) = %v without wildcards", pattern, resource, got)
			}
		}
		if pattern == "*" && !got {
			t.Fatalf("* did not match %q", resource)
		}
		if !MatchResource(resource, resource) && !strings.ContainsAny(resource, "*?") {
			t.Fatalf("%q does not match itself", resource)
		}
		if strings.Count(pattern, ":") < 5 && utf8.ValidString(pattern) && utf8.ValidString(resource) {
			if want := refGlobString(pattern, resource); got != want {
				t.Fatalf("MatchResource(%q, %q) = %v, reference glob %v", pattern, resource, got, want)
			}
		}
		if strings.Count(pattern, ":") >= 5 && got && utf8.ValidString(pattern) && utf8.ValidString(resource) {
			// Part-wise matching is stricter than a whole-string glob.
			if !refGlobString(pattern, resource) {
				t.Fatalf("MatchResource(%q, %q) = true but the whole-string glob says no", pattern, resource)
			}
		}
		// The masked and pieces matchers agree with the plain one.
		if got != matchARNPieces([]vpiece{{pattern, false}}, resource) {
			t.Fatalf("matchARNPieces disagrees on (%q, %q)", pattern, resource)
		}
	})
}

// FuzzMatchAction: never panics; case-insensitive; a pattern without
// wildcards matches only itself (ignoring ASCII case); "*" matches
// everything; agreement with the reference glob on lower-cased ASCII.
func FuzzMatchAction(f *testing.F) {
	for _, s := range [][2]string{
		{"ecr:Get*", "ecr:GetAuthorizationToken"},
		{"iam:*AccessKey*", "IAM:listaccesskeys"},
		{"*", "s3:GetObject"},
		{"s3:?etObject", "s3:GetObject"},
		{"s3*:Get", "s3:Get"},
		{"ecr", "ecr"},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, action string) {
		got := MatchAction(pattern, action)
		if pattern == "*" && !got {
			t.Fatalf("* did not match %q", action)
		}
		if got != MatchAction(strings.ToUpper(pattern), action) && isASCII(pattern) {
			t.Fatalf("case matters for pattern %q vs %q", pattern, action)
		}
		if !strings.ContainsAny(pattern, "*?") && isASCII(pattern) && isASCII(action) {
			if got != strings.EqualFold(pattern, action) {
				t.Fatalf("MatchAction(%q, %q) = %v without wildcards", pattern, action, got)
			}
		}
		if isASCII(pattern) && isASCII(action) {
			if want := refGlobString(strings.ToLower(pattern), strings.ToLower(action)); got != want {
				t.Fatalf("MatchAction(%q, %q) = %v, reference %v", pattern, action, got, want)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzGlobPrefix: the three-valued prefix matcher is consistent with the
// plain glob: TriTrue means prefix+x matches for sample extensions x,
// TriFalse means none of them does.
func FuzzGlobPrefix(f *testing.F) {
	f.Add("arn:aws:ecs:*:1:*", "arn:aws:ecs:us-east-1:1:", "task/x")
	f.Add("a?c*", "ab", "cd")
	f.Add("abc", "abc", "")
	f.Fuzz(func(t *testing.T, p, prefix, ext string) {
		if !utf8.ValidString(p) || !utf8.ValidString(prefix) || !utf8.ValidString(ext) || len(p) > 64 {
			return
		}
		r := globPrefix(p, nil, prefix, false)
		m := glob(p, prefix+ext)
		if r == TriTrue && !m {
			t.Fatalf("globPrefix(%q, %q) = true but %q does not match", p, prefix, prefix+ext)
		}
		if r == TriFalse && m {
			t.Fatalf("globPrefix(%q, %q) = false but %q matches", p, prefix, prefix+ext)
		}
	})
}
