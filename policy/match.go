package policy

import (
	"strings"
	"unicode/utf8"
)

// This file holds the string matchers: glob matching for actions, resources
// and StringLike/ArnLike values, ARN splitting, and the three-valued "value
// known only by its prefix" matcher.

// Tri is a three-valued truth value: a match or condition can be true, false,
// or unknown because it depends on context the caller did not provide.
type Tri int8

const (
	TriFalse Tri = iota
	TriTrue
	TriUnknown
)

func (t Tri) String() string {
	switch t {
	case TriFalse:
		return "false"
	case TriTrue:
		return "true"
	default:
		return "unknown"
	}
}

func triOf(b bool) Tri {
	if b {
		return TriTrue
	}
	return TriFalse
}

// and is Kleene conjunction.
func (t Tri) and(u Tri) Tri {
	if t == TriFalse || u == TriFalse {
		return TriFalse
	}
	if t == TriTrue && u == TriTrue {
		return TriTrue
	}
	return TriUnknown
}

// or is Kleene disjunction.
func (t Tri) or(u Tri) Tri {
	if t == TriTrue || u == TriTrue {
		return TriTrue
	}
	if t == TriFalse && u == TriFalse {
		return TriFalse
	}
	return TriUnknown
}

func (t Tri) not() Tri {
	switch t {
	case TriTrue:
		return TriFalse
	case TriFalse:
		return TriTrue
	}
	return TriUnknown
}

// hasWildcard reports whether s contains * or ?.
func hasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?")
}

// glob matches s against pattern p, where * matches any run of characters
// (including / and :) and ? exactly one character. Case-sensitive.
func glob(p, s string) bool {
	// Fast path: compare the literal prefix directly.
	i := 0
	for i < len(p) && i < len(s) {
		c := p[i]
		if c == '*' || c == '?' {
			break
		}
		if c != s[i] {
			return false
		}
		i++
	}
	if i == len(p) {
		return i == len(s)
	}
	p, s = p[i:], s[i:]
	if p == "*" {
		return true
	}
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				px++
				sx += runeLen(s, sx)
				continue
			default:
				if c == s[sx] {
					px++
					sx++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		px = starP + 1
		starS += runeLen(s, starS)
		sx = starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

// globFold is glob with ASCII case folding; p must already be lower-case.
// Action names are ASCII, so ASCII folding is all IAM needs there.
func globFold(p, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				px++
				sx += runeLen(s, sx)
				continue
			default:
				if c == lowerASCII(s[sx]) {
					px++
					sx++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		px = starP + 1
		starS += runeLen(s, starS)
		sx = starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

// globMask is glob where mask[i] true makes p[i] a literal byte even if it
// is * or ? (escapes such as ${*} and substituted policy-variable values).
// A nil mask means no literals.
func globMask(p string, mask []bool, s string) bool {
	if mask == nil {
		return glob(p, s)
	}
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(p) {
			c := p[px]
			switch {
			case c == '*' && !mask[px]:
				starP, starS = px, sx
				px++
				continue
			case c == '?' && !mask[px]:
				px++
				sx += runeLen(s, sx)
				continue
			case c == s[sx]:
				px++
				sx++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		px = starP + 1
		starS += runeLen(s, starS)
		sx = starS
	}
	for px < len(p) && p[px] == '*' && !mask[px] {
		px++
	}
	return px == len(p)
}

func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	return runeLenSlow(s, i)
}

func runeLenSlow(s string, i int) int {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// eqFoldASCII compares a (already lower-case) with b, folding ASCII case in b.
func eqFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func toLowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

// MatchAction reports whether the action pattern of a policy (e.g.
// "ecr:Get*", "*") matches the action of a request (e.g.
// "ecr:GetAuthorizationToken"). Matching is case-insensitive and supports the
// * and ? wildcards (ecs-facts §5.2).
func MatchAction(pattern, action string) bool {
	a := compileAction(pattern)
	var r preparedAction
	r.set(action)
	return a.match(&r)
}

// MatchResource reports whether a Resource pattern matches a request
// resource, with the rules of ecs-facts §5.3: both are split into six parts
// on the first five colons; partition, service, region and account are
// matched segment by segment, the resource part as a whole (so * spans / and
// :); a pattern with fewer than six parts is matched as one string. Matching
// is case-sensitive. "*" matches everything; a request resource of "*" (an
// action without a resource type) is matched only by patterns that match the
// literal string "*". Policy variables are not expanded here.
func MatchResource(pattern, resource string) bool {
	rp := compileResourceLiteral(pattern)
	var parts arnParts
	parts.split(resource)
	return rp.matchParts(&parts, resource)
}

// arnParts is a string split into at most six parts on its first five
// colons, without allocating.
type arnParts struct {
	p [6]string
	n int
}

func (a *arnParts) split(s string) {
	a.n = 0
	for a.n < 5 {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			break
		}
		a.p[a.n] = s[:i]
		a.n++
		s = s[i+1:]
	}
	a.p[a.n] = s
	a.n++
}

// ARN is an Amazon Resource Name split into its parts.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits s into its six parts. ok is false when s does not start
// with "arn:" or has fewer than six parts.
func ParseARN(s string) (a ARN, ok bool) {
	var p arnParts
	p.split(s)
	if p.n != 6 || p.p[0] != "arn" {
		return ARN{}, false
	}
	return ARN{Partition: p.p[1], Service: p.p[2], Region: p.p[3], Account: p.p[4], Resource: p.p[5]}, true
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// AccountOf returns the account ID of an ARN (the fifth part), or s itself
// when s is a bare 12-digit account ID, or "" (service principals, S3 ARNs,
// "*", anything else).
func AccountOf(s string) string {
	if isAccountID(s) {
		return s
	}
	a, ok := ParseARN(s)
	if !ok {
		return ""
	}
	return a.Account
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// RoleSessionARN returns the assumed-role session ARN for a role ARN and a
// session name: arn:aws:iam::A:role/path/Name → arn:aws:sts::A:assumed-role/Name/session.
// The session form carries no role path (ecs-facts §4). It returns "" when
// roleARN is not a role ARN.
func RoleSessionARN(roleARN, session string) string {
	a, ok := ParseARN(roleARN)
	if !ok || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return ""
	}
	name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
	if name == "" {
		return ""
	}
	return "arn:" + a.Partition + ":sts::" + a.Account + ":assumed-role/" + name + "/" + session
}

// RoleNameOfSession returns the role name and session name of an
// assumed-role session ARN, and ok false for anything else.
func RoleNameOfSession(sessionARN string) (role, session string, ok bool) {
	a, ok := ParseARN(sessionARN)
	if !ok || a.Service != "sts" || !strings.HasPrefix(a.Resource, "assumed-role/") {
		return "", "", false
	}
	rest := a.Resource[len("assumed-role/"):]
	i := strings.IndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// globPrefix decides a glob match for a value that is known only to start
// with prefix: TriTrue when every string starting with prefix matches
// (the pattern can reach a tail of only stars), TriFalse when none can, and
// TriUnknown otherwise. fold compares with Unicode case folding (both sides
// are lowered first). mask as for globMask.
func globPrefix(p string, mask []bool, prefix string, fold bool) Tri {
	if fold {
		// Lowering can change byte lengths, so rebuild the mask per rune.
		var nm []bool
		var b strings.Builder
		for i, r := range p {
			n := b.Len()
			b.WriteString(strings.ToLower(string(r)))
			for j := n; j < b.Len(); j++ {
				nm = append(nm, mask != nil && mask[i])
			}
		}
		p, mask, prefix = b.String(), nm, strings.ToLower(prefix)
	}
	type tok struct {
		r    rune
		star bool
		any  bool
	}
	toks := make([]tok, 0, len(p))
	for i, r := range p {
		lit := mask != nil && mask[i]
		switch {
		case r == '*' && !lit:
			toks = append(toks, tok{star: true})
		case r == '?' && !lit:
			toks = append(toks, tok{any: true})
		default:
			toks = append(toks, tok{r: r})
		}
	}
	n := len(toks)
	cur := make([]bool, n+1)
	next := make([]bool, n+1)
	closeStars := func(set []bool) {
		for i := 0; i < n; i++ {
			if set[i] && toks[i].star {
				set[i+1] = true
			}
		}
	}
	cur[0] = true
	closeStars(cur)
	for _, c := range prefix {
		for i := range next {
			next[i] = false
		}
		alive := false
		for i := 0; i < n; i++ {
			if !cur[i] {
				continue
			}
			t := toks[i]
			switch {
			case t.star:
				next[i] = true
				alive = true
			case t.any || t.r == c:
				next[i+1] = true
				alive = true
			}
		}
		if !alive {
			return TriFalse
		}
		closeStars(next)
		cur, next = next, cur
	}
	// Any state from which only stars remain accepts every extension.
	allStars := n > 0 && toks[n-1].star
	for i := n - 1; i >= 0 && allStars; i-- {
		if !toks[i].star {
			break
		}
		if cur[i] {
			return TriTrue
		}
	}
	for _, s := range cur {
		if s {
			return TriUnknown
		}
	}
	return TriFalse
}
