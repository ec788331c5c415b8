package policy

import (
	"math/rand"
	"strings"
	"testing"
)

// Sources cited in the tables below:
//   - ecs-facts §1.6: a Secrets Manager secret ARN ends in the name, a hyphen
//     and 6 random alphanumeric characters; a partial ARN (no suffix) is
//     evaluated by IAM as the real full ARN; Secrets Manager recommends
//     NAME-?????? (permissions_grant-limited-resources), and NAME-* also
//     matches longer names such as NAME-foo-AbCdEf.
//   - ecs-facts §1.4: an awslogs stream with a prefix is
//     prefix/container/task-id, without one the Docker container ID.
//   - ecs-facts §5.3: * any run (spanning / and, in the resource part, :),
//     ? exactly one character, case-sensitive, ARN parts matched one by one,
//     NotResource matches everything but the listed ARNs.
//   - ecs-facts §5.1: an explicit Deny in any layer wins; every SCP/RCP
//     level needs an Allow; cross-account needs the resource policy too.

const (
	smPrefix = "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-"
	smSecret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
	lgStream = "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:"
)

func TestUnknownSegmentValidate(t *testing.T) {
	for _, c := range []struct {
		u   UnknownSegment
		err string
	}{
		{UnknownSegment{Alphabet: "A-Za-z0-9", MinLength: 6, MaxLength: 6}, ""},
		{UnknownSegment{Alphabet: "0-9a-f-", MinLength: 32, MaxLength: 36}, ""},
		{UnknownSegment{Alphabet: "-", MinLength: 0, MaxLength: 0}, ""},
		{UnknownSegment{Alphabet: "", MinLength: 1, MaxLength: 1}, "empty alphabet"},
		{UnknownSegment{Alphabet: "z-a", MinLength: 1, MaxLength: 1}, "reversed"},
		{UnknownSegment{Alphabet: "é", MinLength: 1, MaxLength: 1}, "printable ASCII"},
		{UnknownSegment{Alphabet: "a", MinLength: -1, MaxLength: 1}, "negative"},
		{UnknownSegment{Alphabet: "a", MinLength: 3, MaxLength: 2}, "below the minimum"},
		{UnknownSegment{Alphabet: "a", MinLength: 0, MaxLength: MaxUnknownLength + 1}, "above"},
	} {
		err := c.u.Validate()
		if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%+v: error %v, want %q", c.u, err, c.err)
		}
	}
	a, _ := parseAlphabet("0-9a-f-")
	if got := string(a.runes()); got != "-0123456789abcdef" {
		t.Errorf("alphabet %q", got)
	}
	for name, want := range map[string]string{"secrets-manager": "??????", "secrets-manager-suffix": "??????", "ecs-task-id": "<task-id>", "docker-container-id": "<container-id>"} {
		u, ok := UnknownSegmentPreset(name)
		if !ok || u.Placeholder() != want || u.Validate() != nil {
			t.Errorf("preset %s: %+v %v", name, u, ok)
		}
	}
	if p := (&UnknownSegment{Alphabet: "0-9", MinLength: 2, MaxLength: 12}).Placeholder(); p != "<2-12 of [0-9]>" {
		t.Errorf("placeholder %q", p)
	}
}

// MatchResourceUnknown: the three-valued match of one pattern.
func TestMatchResourceUnknown(t *testing.T) {
	sm := SecretsManagerSuffix()
	task := ECSTaskID()
	ctr := DockerContainerID()
	for _, c := range []struct {
		pattern, prefix string
		u               *UnknownSegment
		want            Tri
		rule            string
	}{
		{smSecret + "db-??????", smPrefix, sm, TriTrue, "§1.6 recommended NAME-?????? covers every suffix"},
		{smSecret + "db-*", smPrefix, sm, TriTrue, "§1.6 NAME-* covers every suffix"},
		{smSecret + "d*", smPrefix, sm, TriTrue, "§5.3 * spans"},
		{smSecret + "*", smPrefix, sm, TriTrue, "§5.3"},
		{"*", smPrefix, sm, TriTrue, "§5.3 Resource * matches everything"},
		{"arn:aws:secretsmanager:*:*:secret:db-??????", smPrefix, sm, TriTrue, "§5.3 wildcards in region/account"},
		{"arn:aws:secretsmanager:us-east-1:111122223333:*", smPrefix, sm, TriTrue, "§5.3 * spans : in the resource part"},
		{"arn:aws:*", smPrefix, sm, TriTrue, "§5.3 fewer than six parts: whole-string glob"},
		{smSecret + "db-Ab????", smPrefix, sm, TriUnknown, "issue 8: one fixed part of the suffix"},
		{smSecret + "db-Zz9Yx8", smPrefix, sm, TriUnknown, "issue 8: one exact suffix"},
		{smSecret + "db-?????", smPrefix, sm, TriFalse, "§5.3 ? is exactly one character: 5 never match 6"},
		{smSecret + "db-???????", smPrefix, sm, TriFalse, "§5.3: 7 never match 6"},
		{smSecret + "db", smPrefix, sm, TriFalse, "§1.6: the real ARN always has the suffix"},
		{smSecret + "db-??????-*", smPrefix, sm, TriFalse, "§1.6 nothing follows the suffix"},
		{smSecret + "db-*-??????", smPrefix, sm, TriFalse, "§1.6 NAME-*-?????? needs a longer name"},
		{smSecret + "db-*-*", smPrefix, sm, TriFalse, "the suffix holds no hyphen"},
		{smSecret + "db-*a*", smPrefix, sm, TriUnknown, "only suffixes with an a"},
		{smSecret + "DB-??????", smPrefix, sm, TriFalse, "§5.3 case-sensitive"},
		{"arn:aws:secretsmanager:us-west-2:111122223333:secret:db-??????", smPrefix, sm, TriFalse, "§5.3 region part"},
		{"arn:aws:secretsmanager:us-east-1:444455556666:secret:*", smPrefix, sm, TriFalse, "§5.3 account part"},
		{lgStream + "web/c/*", lgStream + "web/c/", task, TriTrue, "§1.4 prefix/container/*"},
		{"arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:*", lgStream + "web/c/", task, TriTrue, "§1.4 log-group:G:*"},
		{lgStream + "web/c/" + strings.Repeat("?", 32), lgStream + "web/c/", task, TriUnknown, "32-character IDs only: the 36-character old format is not covered"},
		{lgStream + "web/c/*-*", lgStream + "web/c/", task, TriUnknown, "only old-format IDs hold a hyphen"},
		{lgStream + "web/c/*/*", lgStream + "web/c/", task, TriFalse, "a task ID holds no /"},
		{"arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app", lgStream + "web/c/", task, TriFalse, "§1.4 the bare group ARN is not a stream"},
		{lgStream + "*", lgStream, ctr, TriTrue, "§1.4 container ID stream"},
		{lgStream + strings.Repeat("?", 64), lgStream, ctr, TriTrue, "64 characters exactly"},
		{lgStream + "0*", lgStream, ctr, TriUnknown, "IDs starting with 0"},
		{lgStream + "g*", lgStream, ctr, TriFalse, "not hexadecimal"},
		// A run inside the first five parts: an in-part wildcard never
		// consumes ':'.
		{"arn:aws:secretsmanager:*:111122223333:secret:x", "arn:aws:secretsmanager:", &UnknownSegment{Alphabet: "a-z0-9:-", MinLength: 1, MaxLength: 12, Tail: ":111122223333:secret:x"}, TriUnknown, "§5.3 parts: a region holding ':' shifts the parts"},
		{"arn:aws:secretsmanager:*:111122223333:secret:x", "arn:aws:secretsmanager:", &UnknownSegment{Alphabet: "a-z0-9-", MinLength: 1, MaxLength: 12, Tail: ":111122223333:secret:x"}, TriTrue, "§5.3 any region"},
		{"arn:aws:secretsmanager:us-*:111122223333:secret:x", "arn:aws:secretsmanager:", &UnknownSegment{Alphabet: "a-z0-9-", MinLength: 1, MaxLength: 12, Tail: ":111122223333:secret:x"}, TriUnknown, "§5.3 some regions"},
	} {
		got, err := MatchResourceUnknown(c.pattern, c.prefix, c.u)
		if err != nil || got != c.want {
			t.Errorf("MatchResourceUnknown(%q, %q+%s) = %v, %v; want %v (%s)", c.pattern, c.prefix, c.u.Placeholder(), got, err, c.want, c.rule)
		}
	}
	if _, err := MatchResourceUnknown("*", "x", &UnknownSegment{Alphabet: "z-a", MaxLength: 1}); err == nil {
		t.Error("invalid segment accepted")
	}
}

// bruteMatch decides a pattern over every value of a small run by
// enumeration, with MatchResource (or a statement) as the oracle.
func bruteMatch(match func(resource string) bool, prefix string, u *UnknownSegment) Tri {
	a, err := parseAlphabet(u.Alphabet)
	if err != nil {
		panic(err)
	}
	chars := a.runes()
	yes, no := false, false
	var walk func(s []rune, left int)
	walk = func(s []rune, left int) {
		if len(s) >= u.MinLength {
			if match(prefix + string(s) + u.Tail) {
				yes = true
			} else {
				no = true
			}
		}
		if left == 0 {
			return
		}
		for _, c := range chars {
			walk(append(s, c), left-1)
		}
	}
	walk(nil, u.MaxLength)
	return triOfSet(yes, no)
}

// The automaton agrees with enumeration on random small cases, including
// colons in the run, runs inside the first five ARN parts and tails.
func TestMatchResourceUnknownBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	pieces := []string{"arn", ":", "a", "b", "*", "?", "/", "-", "x:", "arn:aws:s:r:1:", "ab"}
	alphabets := []string{"ab", "a:", "b/", "*?a", ":-", "ab:/"}
	for i := 0; i < 20000; i++ {
		gen := func(n int) string {
			var b strings.Builder
			for j := rng.Intn(n); j > 0; j-- {
				b.WriteString(pieces[rng.Intn(len(pieces))])
			}
			return b.String()
		}
		pattern, prefix := gen(6), gen(4)
		lo := rng.Intn(3)
		u := &UnknownSegment{Alphabet: alphabets[rng.Intn(len(alphabets))], MinLength: lo, MaxLength: lo + rng.Intn(3), Tail: gen(3)}
		got, err := MatchResourceUnknown(pattern, prefix, u)
		if err != nil {
			t.Fatal(err)
		}
		want := bruteMatch(func(r string) bool { return MatchResource(pattern, r) }, prefix, u)
		if got != want {
			t.Fatalf("MatchResourceUnknown(%q, %q + %d..%d of [%s] + %q) = %v, enumeration says %v", pattern, prefix, u.MinLength, u.MaxLength, u.Alphabet, u.Tail, got, want)
		}
	}
}

// Statements: the Resource list is one union (two patterns that together
// cover every value cover it), NotResource is its complement, and policy
// variables expand before matching.
func TestStatementMatchesResourceUnknown(t *testing.T) {
	ab := &UnknownSegment{Alphabet: "ab", MinLength: 1, MaxLength: 1}
	ctx := NewContext().Set("aws:PrincipalTag/team", "db").Set("aws:PrincipalTag/multi", "db", "other")
	for _, c := range []struct {
		stmt   string
		prefix string
		u      *UnknownSegment
		want   Tri
		rule   string
	}{
		{`{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/a","arn:aws:s3:::b/b"]}`, "arn:aws:s3:::b/", ab, TriTrue, "§5.3 a list of resources is a union"},
		{`{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/a"]}`, "arn:aws:s3:::b/", ab, TriUnknown, "one of two values"},
		{`{"Effect":"Allow","Action":"s3:GetObject","NotResource":["arn:aws:s3:::b/a","arn:aws:s3:::b/b"]}`, "arn:aws:s3:::b/", ab, TriFalse, "§5.3 NotResource: every value is listed"},
		{`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/a"}`, "arn:aws:s3:::b/", ab, TriUnknown, "NotResource: one value listed"},
		{`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::other/*"}`, "arn:aws:s3:::b/", ab, TriTrue, "NotResource: no value listed"},
		{`{"Effect":"Allow","Action":"s3:GetObject"}`, "arn:aws:s3:::b/", ab, TriTrue, "no Resource element matches every resource"},
		{`{"Effect":"Allow","Action":"*","Resource":"` + smSecret + `${aws:PrincipalTag/team}-??????"}`, smPrefix, SecretsManagerSuffix(), TriTrue, "§5.5 variable expanded, then NAME-??????"},
		{`{"Effect":"Allow","Action":"*","Resource":"` + smSecret + `${aws:PrincipalTag/multi}-??????"}`, smPrefix, SecretsManagerSuffix(), TriTrue, "§5.5 multi-valued: one value covers"},
		{`{"Effect":"Allow","Action":"*","Resource":"` + smSecret + `${aws:PrincipalTag/absent}-??????"}`, smPrefix, SecretsManagerSuffix(), TriUnknown, "§5.5 unknown variable"},
		{`{"Effect":"Allow","Action":"*","Resource":"` + smSecret + `x${aws:PrincipalTag/absent}-??????"}`, smPrefix, SecretsManagerSuffix(), TriFalse, "even a wildcard cannot match"},
		{`{"Effect":"Allow","Action":"*","Resource":"` + smSecret + `db-${*}?????"}`, smPrefix, SecretsManagerSuffix(), TriFalse, "§5.5 ${*} is a literal *, never in a suffix"},
	} {
		p := mustParse(t, "p", stmts(c.stmt))
		if got := p.Statements[0].MatchesResourceUnknown(c.prefix, c.u, ctx); got != c.want {
			t.Errorf("%s: %v, want %v (%s)", c.stmt, got, c.want, c.rule)
		}
	}
}

// The acceptance table of issue 8: (grant, deny, resolved or not) →
// decision. "resolved" evaluates the real full ARN, "unresolved" the
// partial ARN with the unknown 6-character suffix.
func TestEvaluateUnknownSuffix(t *testing.T) {
	const real = smPrefix + "Zz9Yx8"
	const other = smPrefix + "AbCdEf"
	act := "secretsmanager:GetSecretValue"
	idp := func(grant, deny string) *Input {
		s := []string{grant}
		if deny != "" {
			s = append(s, deny)
		}
		return &Input{Identity: []NamedPolicy{np(t, "inline:p", stmts(s...))}}
	}
	allow := func(r string) string {
		return `{"Sid":"Grant","Effect":"Allow","Action":"` + act + `","Resource":"` + r + `"}`
	}
	deny := func(r string) string {
		return `{"Sid":"Block","Effect":"Deny","Action":"` + act + `","Resource":"` + r + `"}`
	}
	unresolved := Request{Principal: sessARN, Action: act, Resource: smPrefix, ResourceUnknown: SecretsManagerSuffix(), Context: NewContext()}
	resolved := func(arn string) Request {
		return Request{Principal: sessARN, Action: act, Resource: arn, Context: NewContext()}
	}
	ind := func(best, worst Decision) *Outcomes { return &Outcomes{BestCase: best, WorstCase: worst} }
	runEvalCases(t, []evalCase{
		{name: "NAME-?????? unresolved", in: idp(allow(smSecret+"db-??????"), ""), req: unresolved, want: Allowed, stmts: []string{"identity:inline:p#0"},
			rule: "§1.6 Secrets Manager recommends NAME-??????: it covers every suffix"},
		{name: "NAME-?????? resolved", in: idp(allow(smSecret+"db-??????"), ""), req: resolved(real), want: Allowed, rule: "§1.6, §5.3 ? one character"},
		{name: "NAME-* unresolved", in: idp(allow(smSecret+"db-*"), ""), req: unresolved, want: Allowed, rule: "§1.6 NAME-* matches every suffix (and longer names)"},
		{name: "NAME-Ab???? unresolved", in: idp(allow(smSecret+"db-Ab????"), ""), req: unresolved, want: Indeterminate, layer: LayerIdentity,
			outcomes: ind(Allowed, ImplicitDeny), reason: []string{"the unknown part of the resource " + smPrefix + "??????", "6 characters of [A-Za-z0-9]", "statement 0 \"Grant\"", "matches only for some values"},
			rule: "issue 8 example 1 (was a certain ER004): the grant covers suffixes starting Ab only"},
		{name: "NAME-Ab???? resolved to another suffix", in: idp(allow(smSecret+"db-Ab????"), ""), req: resolved(real), want: ImplicitDeny, rule: "§5.3 literal characters must match"},
		{name: "NAME-Ab???? resolved to a matching suffix", in: idp(allow(smSecret+"db-Ab????"), ""), req: resolved(other), want: Allowed, rule: "§5.3"},
		{name: "exact Deny unresolved", in: idp(allow(smSecret+"db-??????"), deny(real)), req: unresolved, want: Indeterminate,
			outcomes: ind(Allowed, ExplicitDeny), reason: []string{"statement 1 \"Block\""},
			rule: "issue 8 example 2 (was silently Allowed): the Deny names one exact suffix, which may be the real one"},
		{name: "exact Deny resolved to it", in: idp(allow(smSecret+"db-??????"), deny(real)), req: resolved(real), want: ExplicitDeny, rule: "§5.1 explicit deny wins"},
		{name: "exact Deny resolved to another", in: idp(allow(smSecret+"db-??????"), deny(real)), req: resolved(other), want: Allowed, rule: "§5.3 the Deny does not match"},
		{name: "Deny NAME-* unresolved", in: idp(allow(smSecret+"*"), deny(smSecret+"db-*")), req: unresolved, want: ExplicitDeny, stmts: []string{"identity:inline:p#1"},
			rule: "§1.6 NAME-* covers every suffix; §5.1 explicit deny wins"},
		{name: "grant without suffix unresolved", in: idp(allow(smSecret+"db"), ""), req: unresolved, want: ImplicitDeny,
			rule: "§1.6: IAM evaluates the real full ARN, which always ends in -XXXXXX"},
		{name: "grant of 5 ? unresolved", in: idp(allow(smSecret+"db-?????"), ""), req: unresolved, want: ImplicitDeny, rule: "§5.3 ? is exactly one character"},
		{name: "grant of a longer name unresolved", in: idp(allow(smSecret+"db-*-??????"), ""), req: unresolved, want: ImplicitDeny, rule: "§1.6 NAME-*-?????? is another secret's name"},
		{name: "Deny a longer name, Allow NAME-*", in: idp(allow(smSecret+"db-*"), deny(smSecret+"db-prod-*")), req: unresolved, want: Allowed,
			rule: "§1.6 NAME-* also matches longer names; the Deny needs a hyphen the suffix never holds"},
		{name: "Deny NotResource NAME-??????", in: idp(allow("*"), `{"Effect":"Deny","Action":"`+act+`","NotResource":"`+smSecret+`db-??????"}`), req: unresolved, want: Allowed,
			rule: "§5.3 NotResource: every suffix is excepted, so the Deny never applies"},
		{name: "Deny NotResource NAME-Ab????", in: idp(allow("*"), `{"Effect":"Deny","Action":"`+act+`","NotResource":"`+smSecret+`db-Ab????"}`), req: unresolved, want: Indeterminate,
			outcomes: ind(Allowed, ExplicitDeny), rule: "§5.3 NotResource: the Deny applies to every suffix not starting Ab"},
		{name: "Allow NotResource of another secret", in: idp(`{"Effect":"Allow","Action":"`+act+`","NotResource":"`+smSecret+`other-*"}`, ""), req: unresolved, want: Allowed,
			rule: "§5.3 NotResource with Allow grants everything not listed"},
		{name: "* spanning the resource part", in: idp(allow("arn:aws:secretsmanager:us-east-1:111122223333:*"), ""), req: unresolved, want: Allowed, rule: "§5.3 * spans : in the resource part"},
		{name: "conditional grant and a partial one", in: idp(`{"Effect":"Allow","Action":"`+act+`","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}`, deny(real)), req: unresolved,
			want: Indeterminate, keys: []string{"aws:SourceVpce"}, reason: []string{"unknown part of the resource", "and on the unknown condition key aws:SourceVpce"}, rule: "both unknowns are named"},
	})
}

// The same table across the other layers: SCP levels, the resource policy
// (cross-account), RCP levels and the permissions boundary.
func TestEvaluateUnknownSuffixLayers(t *testing.T) {
	act := "secretsmanager:GetSecretValue"
	full := np(t, "FullAWSAccess", fullAccess)
	doc := func(effect, r string) string {
		return stmts(`{"Effect":"` + effect + `","Action":"` + act + `","Resource":"` + r + `"}`)
	}
	xPrefix := "arn:aws:secretsmanager:us-east-1:444455556666:secret:db-"
	rp := func(r string) *NamedPolicy {
		p := np(t, "secret-policy", stmts(`{"Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":"`+act+`","Resource":"`+r+`"}`))
		return &p
	}
	rcpDeny := np(t, "rcp-deny", stmts(`{"Effect":"Deny","Principal":"*","Action":"`+act+`","Resource":"`+smSecret+`db-Zz9Yx8"}`))
	unresolved := Request{Principal: sessARN, Action: act, Resource: smPrefix, ResourceUnknown: SecretsManagerSuffix(), Context: NewContext()}
	cross := Request{Principal: sessARN, Action: act, Resource: xPrefix, ResourceUnknown: SecretsManagerSuffix(), Context: NewContext()}
	ident := []NamedPolicy{full}
	runEvalCases(t, []evalCase{
		{name: "SCP denies one exact suffix", in: &Input{Identity: ident, SCPLevels: [][]NamedPolicy{{full}, {full, np(t, "deny-one", doc("Deny", smSecret+"db-Zz9Yx8"))}}},
			req: unresolved, want: Indeterminate, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny}, layer: LayerSCP, level: 1,
			reason: []string{"SCP level 1"}, rule: "§5.1 an SCP Deny wins; it may name the real suffix"},
		{name: "SCP denies NAME-*", in: &Input{Identity: ident, SCPLevels: [][]NamedPolicy{{full}, {np(t, "deny-all", doc("Deny", smSecret+"db-*")), full}}},
			req: unresolved, want: ExplicitDeny, layer: LayerSCP, level: 1, rule: "§5.1 an SCP Deny covering every suffix"},
		{name: "SCP level allows part of the suffixes", in: &Input{Identity: ident, SCPLevels: [][]NamedPolicy{{full}, {np(t, "allow-some", doc("Allow", smSecret+"db-A*"))}}},
			req: unresolved, want: Indeterminate, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny}, layer: LayerSCP, level: 1,
			rule: "§5.1 every SCP level needs an Allow; this one allows suffixes starting A only"},
		{name: "boundary allows part of the suffixes", in: &Input{Identity: ident, Boundary: []NamedPolicy{np(t, "boundary", doc("Allow", smSecret+"db-A*"))}},
			req: unresolved, want: Indeterminate, layer: LayerBoundary, rule: "§5.1 the boundary must allow too"},
		{name: "cross-account resource policy covers every suffix", in: &Input{Identity: ident, ResourcePolicy: rp("*")}, req: cross, want: Allowed,
			rule: "§5.1 cross-account: both sides allow for every suffix"},
		{name: "cross-account resource policy names one suffix", in: &Input{Identity: ident, ResourcePolicy: rp(xPrefix + "Zz9Yx8")}, req: cross, want: Indeterminate,
			layer: LayerResourcePolicy, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny}, rule: "§5.1 cross-account: the resource policy allows one suffix"},
		{name: "cross-account resource policy names another secret", in: &Input{Identity: ident, ResourcePolicy: rp(xPrefix[:len(xPrefix)-3] + "other-??????")}, req: cross, want: ImplicitDeny,
			layer: LayerResourcePolicy, rule: "§5.1 cross-account: no suffix is allowed by the resource policy"},
		{name: "resource policy Deny of one suffix", in: &Input{Identity: ident, ResourcePolicy: func() *NamedPolicy {
			p := np(t, "secret-policy", stmts(`{"Effect":"Deny","Principal":"*","Action":"`+act+`","Resource":"`+smSecret+`db-Zz9Yx8"}`))
			return &p
		}()}, req: unresolved, want: Indeterminate, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny}, rule: "§5.1 a resource-policy Deny wins"},
		{name: "RCP denies one exact suffix", in: &Input{Identity: ident, RCPLevels: [][]NamedPolicy{{full, rcpDeny}}}, req: unresolved, want: Indeterminate,
			outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny}, layer: LayerRCP, rule: "§5.1 an RCP Deny wins"},
	})
	// The note names the partial statements.
	r := Evaluate(&Input{Identity: ident, SCPLevels: [][]NamedPolicy{{full}, {full, np(t, "deny-one", doc("Deny", smSecret+"db-Zz9Yx8"))}}}, unresolved)
	if r.UnknownResource == nil || r.UnknownResource.Resource != smPrefix+"??????" || len(r.UnknownResource.Statements) != 1 ||
		r.UnknownResource.Statements[0].Policy != "deny-one" || !r.UnknownResource.Statements[0].PartialResource || r.UnknownResource.Unknown.MaxLength != 6 {
		t.Errorf("unknown resource note: %+v", r.UnknownResource)
	}
}

// Log streams whose task or container ID is unknown (ecs-facts §1.4).
func TestEvaluateUnknownLogStream(t *testing.T) {
	act := "logs:CreateLogStream"
	idp := func(r string) *Input {
		return &Input{Identity: []NamedPolicy{np(t, "inline:logs", stmts(allowStmt(act, r)))}}
	}
	task := Request{Principal: sessARN, Action: act, Resource: lgStream + "web/c/", ResourceUnknown: ECSTaskID(), Context: NewContext()}
	ctr := Request{Principal: sessARN, Action: act, Resource: lgStream, ResourceUnknown: DockerContainerID(), Context: NewContext()}
	runEvalCases(t, []evalCase{
		{name: "group:*", in: idp("arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:*"), req: task, want: Allowed, rule: "§1.4 log-group:G:* covers every stream"},
		{name: "stream prefix", in: idp(lgStream + "web/*"), req: task, want: Allowed, rule: "§1.4 prefix/container/task-id"},
		{name: "bare group", in: idp("arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app"), req: task, want: ImplicitDeny, rule: "§1.4 the group ARN is not a stream ARN"},
		{name: "one task ID", in: idp(lgStream + "web/c/0123456789abcdef0123456789abcdef"), req: task, want: Indeterminate,
			reason: []string{"resource " + lgStream + "web/c/<task-id>", "the task-id, 32 to 36 characters of [0-9a-f-]"}, rule: "one task's stream only"},
		{name: "container stream", in: idp(lgStream + "*"), req: ctr, want: Allowed, rule: "§1.4 no prefix: the container ID"},
	})
}

// A run that may hold the account: both answers to "cross-account?" count.
func TestEvaluateUnknownAccount(t *testing.T) {
	act := "secretsmanager:GetSecretValue"
	in := &Input{Identity: []NamedPolicy{np(t, "all", fullAccess)}}
	acct := &UnknownSegment{Alphabet: "0-9", MinLength: 12, MaxLength: 12, Tail: ":secret:db-AbCdEf"}
	req := Request{Principal: sessARN, Action: act, Resource: "arn:aws:secretsmanager:us-east-1:", ResourceUnknown: acct, Context: NewContext()}
	r := checkEval(t, evalCase{in: in, req: req, want: Indeterminate, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny},
		rule: "§5.1: another account needs its resource policy, which was not provided"})
	if !strings.Contains(r.Reason, "not provided") {
		t.Errorf("reason %q", r.Reason)
	}
	in.ResourceAccount = acct12
	checkEval(t, evalCase{in: in, req: req, want: Allowed, rule: "Input.ResourceAccount settles it"})
	// A run in the region: the account is in the tail.
	in.ResourceAccount = ""
	region := &UnknownSegment{Alphabet: "a-z0-9-", MinLength: 9, MaxLength: 14, Tail: ":111122223333:secret:db-AbCdEf"}
	checkEval(t, evalCase{in: in, req: Request{Principal: sessARN, Action: act, Resource: "arn:aws:secretsmanager:", ResourceUnknown: region, Context: NewContext()},
		want: Allowed, rule: "the account part is known from the tail"})
	region.Tail = ":444455556666:secret:db-AbCdEf"
	checkEval(t, evalCase{in: in, req: Request{Principal: sessARN, Action: act, Resource: "arn:aws:secretsmanager:", ResourceUnknown: region, Context: NewContext()},
		want: Indeterminate, rule: "another account from the tail: its resource policy was not provided"})
}

const acct12 = "111122223333"

func TestEvaluateInvalidUnknown(t *testing.T) {
	r := Evaluate(&Input{}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/", ResourceUnknown: &UnknownSegment{Alphabet: "", MaxLength: 1}})
	if r.Decision != Indeterminate || !strings.Contains(r.Reason, "empty alphabet") || r.Outcomes == nil {
		t.Fatalf("%+v", r)
	}
}

// A known resource is evaluated as before: the only allocations are the
// Result's reason and, for Allowed, its statement list.
func TestEvaluateKnownResourceAllocations(t *testing.T) {
	in := &Input{Identity: benchRole(t, 10, 20), SCPLevels: benchSCPs(t)}
	for _, req := range benchRequests() {
		n := testing.AllocsPerRun(50, func() { Evaluate(in, req) })
		if n > 2 {
			t.Errorf("%s on %s: %v allocations", req.Action, req.Resource, n)
		}
	}
}

// Beyond maxDFAStates subsets per length the answer for "every value" is not
// claimed: two patterns that together cover every value of a long run over
// {a,b} (the 21st character from the end is a or b) need more subsets than
// the cap, so the engine answers "some" — Indeterminate, never a wrong
// certainty — while "no value matches" stays exact.
func TestMatchResourceUnknownStateCap(t *testing.T) {
	q := strings.Repeat("?", 20)
	u := &UnknownSegment{Alphabet: "ab", MinLength: 21, MaxLength: 30}
	p := mustParse(t, "p", stmts(`{"Effect":"Deny","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*a`+q+`","arn:aws:s3:::b/*b`+q+`"]}`))
	if got := p.Statements[0].MatchesResourceUnknown("arn:aws:s3:::b/", u, nil); got != TriUnknown {
		t.Errorf("capped: %v, want unknown (conservative)", got)
	}
	// The same shape, short enough to stay under the cap: exact.
	short := mustParse(t, "short", stmts(`{"Effect":"Deny","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*a???","arn:aws:s3:::b/*b???"]}`))
	if got := short.Statements[0].MatchesResourceUnknown("arn:aws:s3:::b/", &UnknownSegment{Alphabet: "ab", MinLength: 4, MaxLength: 9}, nil); got != TriTrue {
		t.Errorf("under the cap: %v, want true", got)
	}
	if got, _ := MatchResourceUnknown("arn:aws:s3:::b/*c"+q, "arn:aws:s3:::b/", u); got != TriFalse {
		t.Errorf("no value: %v, want false (exact even when capped)", got)
	}
	in := &Input{Identity: []NamedPolicy{np(t, "all", fullAccess), {Name: "p", Policy: p}}}
	r := Evaluate(in, Request{Principal: sessARN, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/", ResourceUnknown: u})
	if r.Decision != Indeterminate {
		t.Errorf("decision %s, want Indeterminate", r.Decision)
	}
}
