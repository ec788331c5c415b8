package policy

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A request resource may be only partly known: a known prefix, then a run of
// characters whose value is unknown but whose alphabet and length are known,
// then optionally a known tail. A Secrets Manager secret named without its
// suffix is "arn:…:secret:NAME-" followed by 6 characters of [A-Za-z0-9]; an
// awslogs stream of a task not yet started ends in the ECS task ID.
//
// Resource and NotResource then match three-valued and exactly: TriTrue when
// the patterns match every value of the unknown run, TriFalse when they match
// none, TriUnknown when they match some. "Every" and "none" are decided by
// running the patterns' automaton over the whole set of strings: the known
// prefix is read character by character, the unknown run by subset
// construction over the classes of the alphabet that the patterns cannot
// tell apart, one layer per length, and the tail again character by
// character from every reachable subset.

// UnknownSegment describes the unknown run of a request resource. The
// request's Resource holds the known text before the run.
type UnknownSegment struct {
	// Alphabet lists the characters the run is drawn from, written like a
	// regular-expression character class without the brackets: single
	// characters and ranges, e.g. "A-Za-z0-9" or "0-9a-f-" (a '-' that is
	// first or last is the character itself). Printable ASCII only.
	Alphabet string `json:"alphabet"`
	// MinLength and MaxLength bound the run's length in characters
	// (0 ≤ MinLength ≤ MaxLength ≤ MaxUnknownLength).
	MinLength int `json:"minLength"`
	MaxLength int `json:"maxLength"`
	// Tail is the known text after the run, "" when the run ends the
	// resource.
	Tail string `json:"tail,omitempty"`
	// Label names the run where the resource is displayed, as "<label>"
	// (e.g. "task-id"). Without a label a run of fixed length up to 8 is
	// shown as that many '?', anything else as "<6-8 of [alphabet]>".
	Label string `json:"label,omitempty"`
}

// MaxUnknownLength bounds UnknownSegment.MaxLength, so that deciding a
// match stays cheap.
const MaxUnknownLength = 1024

// maxDFAStates bounds the subsets kept per length while deciding whether
// every value matches. Patterns that exceed it (adversarial ones such as
// "*a????????????????????" over a long run) are decided conservatively: a
// match for some value is still exact, "for every value" is then reported
// as "for some" (an Indeterminate decision, never a wrong certainty).
const maxDFAStates = 4096

// Presets of partly known resources met when checking ECS task definitions.

// SecretsManagerSuffix is the 6 random characters Secrets Manager appends to
// a secret's name in its ARN, after a hyphen (ecs-facts §1.6: "the name, a
// hyphen and 6 random alphanumeric characters"). The resource prefix must
// end with "NAME-".
func SecretsManagerSuffix() *UnknownSegment {
	return &UnknownSegment{Alphabet: "A-Za-z0-9", MinLength: 6, MaxLength: 6}
}

// ECSTaskID is the ID of an ECS task, the last part of an awslogs stream
// name with a stream prefix (prefix/container/task-id, ecs-facts §1.4).
// Task IDs in the current format are 32 lower-case hexadecimal characters;
// tasks in the old ARN format had 36-character IDs with hyphens (UUIDs).
// Both are allowed: [0-9a-f-], 32 to 36 characters.
func ECSTaskID() *UnknownSegment {
	return &UnknownSegment{Alphabet: "0-9a-f-", MinLength: 32, MaxLength: 36, Label: "task-id"}
}

// DockerContainerID is the full Docker container ID, 64 lower-case
// hexadecimal characters: the awslogs stream name when no stream prefix is
// set (EC2 only, ecs-facts §1.4).
func DockerContainerID() *UnknownSegment {
	return &UnknownSegment{Alphabet: "0-9a-f", MinLength: 64, MaxLength: 64, Label: "container-id"}
}

// UnknownSegmentPresets lists the names UnknownSegmentPreset accepts.
var UnknownSegmentPresets = []string{"secrets-manager-suffix", "ecs-task-id", "docker-container-id"}

// UnknownSegmentPreset returns a preset by name ("secrets-manager" is
// accepted for "secrets-manager-suffix").
func UnknownSegmentPreset(name string) (*UnknownSegment, bool) {
	switch name {
	case "secrets-manager-suffix", "secrets-manager":
		return SecretsManagerSuffix(), true
	case "ecs-task-id":
		return ECSTaskID(), true
	case "docker-container-id":
		return DockerContainerID(), true
	}
	return nil, false
}

// Validate checks the alphabet and the lengths.
func (u *UnknownSegment) Validate() error {
	if _, err := parseAlphabet(u.Alphabet); err != nil {
		return err
	}
	switch {
	case u.MinLength < 0:
		return fmt.Errorf("minimum length %d is negative", u.MinLength)
	case u.MaxLength < u.MinLength:
		return fmt.Errorf("maximum length %d is below the minimum length %d", u.MaxLength, u.MinLength)
	case u.MaxLength > MaxUnknownLength:
		return fmt.Errorf("maximum length %d is above %d", u.MaxLength, MaxUnknownLength)
	}
	return nil
}

// Placeholder is how the run is shown in a resource: "<label>", "??????" for
// a fixed length up to 8 without a label, else "<32-36 of [0-9a-f-]>".
func (u *UnknownSegment) Placeholder() string {
	switch {
	case u.Label != "":
		return "<" + u.Label + ">"
	case u.MinLength == u.MaxLength && u.MaxLength <= 8:
		return strings.Repeat("?", u.MaxLength)
	}
	n := strconv.Itoa(u.MinLength)
	if u.MaxLength != u.MinLength {
		n += "-" + strconv.Itoa(u.MaxLength)
	}
	return "<" + n + " of [" + u.Alphabet + "]>"
}

// Describe says in words what the run is, e.g. "6 characters of
// [A-Za-z0-9]".
func (u *UnknownSegment) Describe() string {
	n := strconv.Itoa(u.MinLength)
	if u.MaxLength != u.MinLength {
		n += " to " + strconv.Itoa(u.MaxLength)
	}
	s := n + " characters of [" + u.Alphabet + "]"
	if u.Label != "" {
		s = "the " + u.Label + ", " + s
	}
	return s
}

// DisplayResource is the resource as a person reads it: the known prefix,
// the placeholder of the run, the tail. With u nil it is prefix.
func DisplayResource(prefix string, u *UnknownSegment) string {
	if u == nil {
		return prefix
	}
	return prefix + u.Placeholder() + u.Tail
}

// alphabet is a set of ASCII characters.
type alphabet [2]uint64

func (a *alphabet) add(c byte)      { a[c>>6] |= 1 << (c & 63) }
func (a *alphabet) has(r rune) bool { return r >= 0 && r < 128 && a[r>>6]&(1<<(r&63)) != 0 }
func (a *alphabet) runes() (out []rune) {
	for c := rune(0); c < 128; c++ {
		if a.has(c) {
			out = append(out, c)
		}
	}
	return out
}

// parseAlphabet reads a character class body: characters and ranges x-y of
// printable ASCII (space to ~); '-' first or last is literal.
func parseAlphabet(s string) (alphabet, error) {
	var a alphabet
	if s == "" {
		return a, errors.New("empty alphabet")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return a, fmt.Errorf("alphabet %s: only printable ASCII characters are allowed", strconv.Quote(s))
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i+2 < len(s) && s[i+1] == '-' {
			hi := s[i+2]
			if hi < c {
				return a, fmt.Errorf("alphabet %s: range %c-%c is reversed", strconv.Quote(s), c, hi)
			}
			for x := int(c); x <= int(hi); x++ {
				a.add(byte(x))
			}
			i += 2
			continue
		}
		a.add(c)
	}
	return a, nil
}

// ---- the automaton ----

// Pattern characters become tokens. Within the first five parts of a
// six-part ARN pattern a wildcard cannot consume ':' (the request is split on
// its first five colons and each part matched separately, MatchResource);
// in the resource part and in patterns of fewer parts it can.
type gkind uint8

const (
	gLit    gkind = iota
	gAny          // ? any character
	gAnyNC        // ? any character but ':'
	gStar         // * any run
	gStarNC       // * any run without ':'
	gEnd          // after the last token: accepting
)

type gtok struct {
	kind gkind
	r    rune
}

// runeOf maps the bytes at s[i:] to one character the way glob steps over
// them: a valid UTF-8 sequence is its rune, an invalid byte is a character
// of its own (above the Unicode range, so it equals nothing else).
func runeOf(s string, i int) (rune, int) {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		return utf8.MaxRune + 1 + rune(s[i]), 1
	}
	return r, n
}

func toRunes(s string) []rune {
	out := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, n := runeOf(s, i)
		out = append(out, r)
		i += n
	}
	return out
}

// nfa is the union of several patterns: state g is "before token g"; the
// tokens of each pattern end with a gEnd state.
type nfa struct {
	toks   []gtok
	starts []int
	// known[g] is false for the states of patterns that came from a policy
	// variable with an unknown value (as a wildcard): a subset accepts
	// "surely" only through known states.
	known []bool
}

// add appends a pattern given as text with a literal mask (mask[i] true:
// byte i is never a wildcard; nil: no literals).
func (m *nfa) add(p string, mask []bool, known bool) {
	arn := strings.Count(p, ":") >= 5
	colons := 0
	m.starts = append(m.starts, len(m.toks))
	for i := 0; i < len(p); {
		r, n := runeOf(p, i)
		lit := mask != nil && mask[i]
		inPart := arn && colons < 5
		var t gtok
		switch {
		case r == '*' && !lit && inPart:
			t = gtok{kind: gStarNC}
		case r == '*' && !lit:
			t = gtok{kind: gStar}
		case r == '?' && !lit && inPart:
			t = gtok{kind: gAnyNC}
		case r == '?' && !lit:
			t = gtok{kind: gAny}
		default:
			t = gtok{kind: gLit, r: r}
			if r == ':' && arn {
				colons++
			}
		}
		m.toks = append(m.toks, t)
		m.known = append(m.known, known)
		i += n
	}
	m.toks = append(m.toks, gtok{kind: gEnd})
	m.known = append(m.known, known)
}

// stateSet is a set of NFA states.
type stateSet []uint64

func (m *nfa) newSet() stateSet   { return make(stateSet, (len(m.toks)+63)/64) }
func (b stateSet) has(g int) bool { return b[g>>6]&(1<<(uint(g)&63)) != 0 }
func (b stateSet) set(g int)      { b[g>>6] |= 1 << (uint(g) & 63) }
func (b stateSet) key() string {
	buf := make([]byte, 0, len(b)*8)
	for _, w := range b {
		for k := 0; k < 8; k++ {
			buf = append(buf, byte(w>>(8*k)))
		}
	}
	return string(buf)
}
func (b stateSet) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// close adds the states reachable by letting a star match nothing.
func (m *nfa) close(b stateSet) {
	for g := range m.toks {
		if b.has(g) && (m.toks[g].kind == gStar || m.toks[g].kind == gStarNC) {
			b.set(g + 1)
		}
	}
}

func (m *nfa) start() stateSet {
	b := m.newSet()
	for _, s := range m.starts {
		b.set(s)
	}
	m.close(b)
	return b
}

// step reads one character.
func (m *nfa) step(b stateSet, c rune) stateSet {
	return m.stepInto(m.newSet(), b, c)
}

// stepInto is step writing into out (cleared first), which must not be b.
func (m *nfa) stepInto(out, b stateSet, c rune) stateSet {
	clear(out)
	for w, word := range b {
		for word != 0 {
			k := bits.TrailingZeros64(word)
			word &= word - 1
			g := w*64 + k
			t := m.toks[g]
			switch t.kind {
			case gLit:
				if t.r == c {
					out.set(g + 1)
				}
			case gAny:
				out.set(g + 1)
			case gAnyNC:
				if c != ':' {
					out.set(g + 1)
				}
			case gStar:
				out.set(g)
			case gStarNC:
				if c != ':' {
					out.set(g)
				}
			}
		}
	}
	m.close(out)
	return out
}

// feed reads s; b is not modified.
func (m *nfa) feed(b stateSet, s []rune) stateSet {
	if len(s) == 0 {
		return b
	}
	x, y := m.newSet(), m.newSet()
	for _, c := range s {
		if b.empty() {
			return b
		}
		b = m.stepInto(x, b, c)
		x, y = y, x
	}
	return b
}

// universal reports whether the subset holds a state of a known pattern
// from which only unrestricted stars remain: every continuation matches.
func (m *nfa) universal(b stateSet) bool {
	for g := len(m.toks) - 1; g >= 0; g-- {
		if m.toks[g].kind != gEnd {
			continue
		}
		// The trailing unrestricted stars of this pattern.
		for k := g - 1; k >= 0 && m.toks[k].kind == gStar && m.known[k]; k-- {
			if b.has(k) {
				return true
			}
		}
	}
	return false
}

// accepts says whether the subset accepts through any pattern, and through
// a known one.
func (m *nfa) accepts(b stateSet) (any, known bool) {
	for g, t := range m.toks {
		if t.kind == gEnd && b.has(g) {
			any = true
			if m.known[g] {
				return true, true
			}
		}
	}
	return any, false
}

// unknownSet is a compiled partly known resource.
type unknownSet struct {
	seg *UnknownSegment
	// prefix and tail as characters; joined is prefix+tail, the value with
	// an empty run, decoded as one string (an incomplete UTF-8 sequence at
	// the end of the prefix may complete with the tail; the run's ASCII
	// characters never join with their neighbours).
	prefix   []rune
	tail     []rune
	joined   []rune
	alpha    alphabet
	alphaRun []rune
}

func newUnknownSet(prefix string, u *UnknownSegment) (*unknownSet, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	a, _ := parseAlphabet(u.Alphabet)
	return &unknownSet{seg: u, prefix: toRunes(prefix), tail: toRunes(u.Tail), joined: toRunes(prefix + u.Tail), alpha: a, alphaRun: a.runes()}, nil
}

// account returns the account part of the partly known resource, or
// unknown true when the unknown run may lie in it (or decide where it is).
func (u *unknownSet) account(prefix string) (acct string, unknown bool) {
	if strings.Count(prefix, ":") >= 5 {
		return AccountOf(prefix), false
	}
	if !strings.HasPrefix(prefix, "arn:") && !strings.HasPrefix("arn:", prefix) {
		return "", false // not an ARN whatever the run is
	}
	k := strings.Count(prefix, ":") // the run lies in ARN part k
	if u.alpha.has(':') || k < 1 || k == 4 {
		return "", true
	}
	// The run is inside part 1 ≤ k ≤ 3 and holds no colon: part 4 is in the
	// tail, after 4-k of its colons.
	fields := strings.Split(u.seg.Tail, ":")
	if len(fields) < 6-k {
		return "", false // fewer than six parts: not an ARN with an account
	}
	return fields[4-k], false
}

// setMatch is the answer of a union of patterns over the set of strings:
// whether some string matches, whether some does not, through every
// pattern (any) and through the known patterns only (known).
type setMatch struct {
	anyYes, anyNo     bool
	knownYes, knownNo bool
}

// classes returns one character of each class of the alphabet that the
// automaton cannot tell apart from the states in b on: every literal of the
// patterns at or after the first state of b (states only move forward) that
// is in the alphabet, ':' (which the in-part wildcards refuse), and one of
// the rest.
func (u *unknownSet) classes(m *nfa, b stateSet) []rune {
	var special alphabet
	var out []rune
	mark := func(r rune) {
		if u.alpha.has(r) && !special.has(r) {
			special.add(byte(r))
			out = append(out, r)
		}
	}
	first := len(m.toks)
	for w, x := range b {
		if x != 0 {
			first = w*64 + bits.TrailingZeros64(x)
			break
		}
	}
	for _, t := range m.toks[first:] {
		if t.kind == gLit {
			mark(t.r)
		}
	}
	mark(':')
	for _, r := range u.alphaRun {
		if !special.has(r) {
			out = append(out, r)
			break
		}
	}
	return out
}

// run decides the union of patterns in m over every string
// prefix + x + tail with x drawn from the unknown run.
func (u *unknownSet) run(m *nfa) setMatch {
	var res setMatch
	b := m.feed(m.start(), u.prefix)
	if b.empty() && u.seg.MinLength > 0 {
		return setMatch{anyNo: true, knownNo: true}
	}
	if m.universal(b) && (u.seg.MinLength > 0 || slices.Equal(u.joined, append(u.prefix[:len(u.prefix):len(u.prefix)], u.tail...))) {
		return setMatch{anyYes: true, knownYes: true}
	}
	classes := u.classes(m, b)
	record := func(d stateSet, l int) {
		var any, known bool
		if l == 0 {
			any, known = m.accepts(m.feed(m.start(), u.joined))
		} else {
			any, known = m.accepts(m.feed(d, u.tail))
		}
		if any {
			res.anyYes = true
		} else {
			res.anyNo = true
		}
		if known {
			res.knownYes = true
		} else {
			res.knownNo = true
		}
	}
	done := func() bool { return res.anyYes && res.anyNo && res.knownYes && res.knownNo }
	layer := []stateSet{b}
	exact := true
	for l := 0; ; l++ {
		if l >= u.seg.MinLength {
			for _, d := range layer {
				record(d, l)
			}
			if done() {
				return res
			}
		}
		if l == u.seg.MaxLength {
			break
		}
		if !exact {
			// One subset: the union of the reachable states (exact for
			// "some string matches").
			d := m.newSet()
			for _, c := range classes {
				for w, x := range m.step(layer[0], c) {
					d[w] |= x
				}
			}
			layer[0] = d
			continue
		}
		seen := map[string]bool{}
		var next []stateSet
		for _, d := range layer {
			for _, c := range classes {
				x := m.step(d, c)
				if k := x.key(); !seen[k] {
					seen[k] = true
					next = append(next, x)
				}
			}
		}
		layer = next
		if len(layer) > maxDFAStates {
			exact = false
			d := m.newSet()
			for _, x := range layer {
				for w, v := range x {
					d[w] |= v
				}
			}
			layer = []stateSet{d}
		}
	}
	if !exact {
		// What the union does not say: whether some string fails. Claim it
		// may, so that "every value matches" is never claimed unproven.
		res.anyNo, res.knownNo = true, true
	}
	return res
}

// tri turns a setMatch into the three-valued match of the union.
func triOfSet(yes, no bool) Tri {
	switch {
	case yes && no:
		return TriUnknown
	case yes:
		return TriTrue
	}
	return TriFalse
}

// MatchResourceUnknown decides a Resource pattern (as MatchResource, without
// policy variables) against the partly known resource prefix + run + tail:
// TriTrue when it matches for every value of the run, TriFalse for none,
// TriUnknown for some. It returns an error when u is invalid. The pattern
// must be valid UTF-8 (as every pattern from Parse is); the resource parts
// may hold any bytes.
func MatchResourceUnknown(pattern, prefix string, u *UnknownSegment) (Tri, error) {
	us, err := newUnknownSet(prefix, u)
	if err != nil {
		return TriFalse, err
	}
	if pattern == "*" {
		return TriTrue, nil
	}
	var m nfa
	m.add(pattern, nil, true)
	r := us.run(&m)
	return triOfSet(r.anyYes, r.anyNo), nil
}

// matchResourceUnknown is compiledStatement.matchResource for a partly known
// request resource: the statement's Resource (or NotResource) list as one
// union. partial is true when the answer is unknown because the patterns
// match only some values of the run; a policy variable whose value is
// unknown also makes it unknown (as for a known resource).
func (c *compiledStatement) matchResourceUnknown(r *evalReq) (t Tri, partial bool) {
	if c.anyResource {
		return TriTrue, false
	}
	var m nfa
	all, wild := false, false
	for i := range c.resources {
		rp := &c.resources[i]
		if rp.tmpl == nil {
			if rp.all {
				all = true
				break
			}
			if literalPrefixFits(rp.raw, nil, r.resource) {
				m.add(rp.raw, nil, true)
			}
			continue
		}
		if !literalPrefixFits(rp.tmpl.wild, nil, r.resource) {
			continue // not even with every variable as a wildcard
		}
		rp.tmpl.eachExpansion(r.ctx, func(p string, mask []bool, w bool) {
			if literalPrefixFits(p, mask, r.resource) {
				m.add(p, mask, !w)
				wild = wild || w
			}
		})
	}
	var res Tri
	switch {
	case all:
		res = TriTrue
	case len(m.starts) == 0:
		res = TriFalse
	default:
		s := r.unk.run(&m)
		known := triOfSet(s.knownYes, s.knownNo)
		switch {
		case known == TriTrue:
			res = TriTrue
		case !s.anyYes:
			res = TriFalse
		default:
			res = TriUnknown
			partial = known == TriUnknown || (wild && s.anyYes && s.anyNo)
		}
	}
	if c.notResource {
		return res.not(), partial
	}
	return res, partial
}

// literalPrefixFits is a quick reject: the pattern's text before its first
// wildcard must agree with the request's known prefix where both have
// characters, or the pattern matches no value.
func literalPrefixFits(p string, mask []bool, prefix string) bool {
	for i := 0; i < len(p) && i < len(prefix); i++ {
		if (p[i] == '*' || p[i] == '?') && (mask == nil || !mask[i]) {
			return true
		}
		if p[i] != prefix[i] {
			return false
		}
	}
	return true
}

// eachExpansion calls fn with every expansion of the template as a pattern
// and its literal mask. A variable whose value is unknown (or a
// multi-valued one beyond maxExpansions combinations) becomes a wildcard *
// and the expansion is marked wild. A variable known to be absent without a
// default makes the element match nothing: fn is not called.
func (t *template) eachExpansion(ctx *Context, fn func(p string, mask []bool, wild bool)) {
	type choice struct {
		vals []string
		wild bool
	}
	choices := make([]choice, len(t.parts))
	combos := 1
	for i := range t.parts {
		p := &t.parts[i]
		if !p.isVar() {
			continue
		}
		e := ctx.lookup(p.key)
		switch {
		case e == nil || e.state == KeyUnknown || e.state == KeyPrefix:
			choices[i].wild = true
		case e.state == KeyAbsent:
			if !p.hasDef {
				return
			}
			choices[i].vals = []string{p.def}
		default:
			choices[i].vals = e.strings
			combos = min(combos*len(e.strings), maxExpansions+1)
		}
	}
	if combos > maxExpansions {
		for i := range choices {
			if len(choices[i].vals) > 1 {
				choices[i].vals, choices[i].wild = nil, true
			}
		}
	}
	idx := make([]int, len(t.parts))
	for {
		ps := make([]vpiece, 0, len(t.parts))
		wild := false
		for i := range t.parts {
			p := &t.parts[i]
			c := &choices[i]
			switch {
			case !p.isVar():
				ps = append(ps, vpiece{p.text, p.lit})
			case c.wild:
				wild = true
				ps = append(ps, vpiece{"*", false})
			default:
				ps = append(ps, vpiece{c.vals[idx[i]], true})
			}
		}
		pat, mask := materialize(ps)
		fn(pat, mask, wild)
		i := len(t.parts) - 1
		for ; i >= 0; i-- {
			if c := &choices[i]; len(c.vals) > 1 {
				idx[i]++
				if idx[i] < len(c.vals) {
					break
				}
				idx[i] = 0
			}
		}
		if i < 0 {
			return
		}
	}
}
