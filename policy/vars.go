package policy

import (
	"strings"
)

// Policy variables (ecs-facts §5.5): ${key}, ${key, 'default'} and the
// escapes ${*} ${?} ${$}. They are compiled into a template only for
// Version 2012-10-17 documents; elsewhere the text is literal.

type tmplPart struct {
	text string // literal text; wildcards active unless lit
	lit  bool   // text is an escape (${*} ${?} ${$}): never a wildcard
	// For a variable: key (lower-case) and as written, and the default.
	key     string
	written string
	def     string
	hasDef  bool
}

func (p *tmplPart) isVar() bool { return p.key != "" }

type template struct {
	parts []tmplPart
	// wild is the template with every variable replaced by * (escapes by
	// their character): as a whole-string glob it matches a superset of
	// every expansion, so a subject it does not match is rejected without
	// expanding.
	wild      string
	wildLower string
	wildRes   resourcePattern
	// res6 is the part of the template after the fifth colon, when the
	// first five ARN parts hold no variable: once wildRes has matched, only
	// res6 needs expanding.
	res6 *template
}

// parseTemplate returns nil when s has no ${. Malformed references are kept
// as literal text and reported through warn.
func parseTemplate(s string, warn func(string)) *template {
	if !strings.Contains(s, "${") {
		return nil
	}
	t := &template{}
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tmplPart{text: rest})
			}
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{text: rest[:i]})
		}
		body, n, ok := scanVar(rest[i:])
		if !ok {
			warn("unterminated policy variable in " + quote(s) + "; treated as literal text")
			t.parts = append(t.parts, tmplPart{text: rest[i:]})
			break
		}
		rest = rest[i+n:]
		switch body {
		case "*", "?", "$":
			t.parts = append(t.parts, tmplPart{text: body, lit: true})
			continue
		}
		key, def, hasDef, ok := splitVarBody(body)
		if !ok || !validConditionKey(key) {
			warn("policy variable ${" + body + "} does not name a condition key; treated as literal text")
			// Literal and with no wildcard meaning.
			t.parts = append(t.parts, tmplPart{text: "${" + body + "}", lit: true})
			continue
		}
		t.parts = append(t.parts, tmplPart{key: strings.ToLower(key), written: key, def: def, hasDef: hasDef})
	}
	t.setWild()
	if t.res6 = t.resourceTail(); t.res6 != nil {
		t.res6.setWild()
	}
	return t
}

func (t *template) setWild() {
	var w strings.Builder
	for _, p := range t.parts {
		if p.isVar() {
			w.WriteByte('*')
		} else {
			w.WriteString(p.text)
		}
	}
	t.wild = w.String()
	t.wildLower = toLowerASCII(t.wild)
	t.wildRes = compileResourceLiteral(t.wild)
}

// resourceTail returns the parts after the fifth colon when those colons
// all lie in literal text before the first variable or escape.
func (t *template) resourceTail() *template {
	colons := 0
	for k, p := range t.parts {
		if p.isVar() || p.lit {
			return nil
		}
		text := p.text
		for colons < 5 {
			i := strings.IndexByte(text, ':')
			if i < 0 {
				break
			}
			colons++
			text = text[i+1:]
		}
		if colons == 5 {
			tail := &template{parts: append([]tmplPart{{text: text}}, t.parts[k+1:]...)}
			if text == "" {
				tail.parts = tail.parts[1:]
			}
			return tail
		}
	}
	return nil
}

// scanVar reads "${...}" at the start of s, honouring a quoted default that
// may contain }. It returns the body, the length consumed and ok.
func scanVar(s string) (body string, n int, ok bool) {
	inQuote := false
	for i := 2; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQuote = !inQuote
		case '}':
			if !inQuote {
				return s[2:i], i + 1, true
			}
		}
	}
	return "", 0, false
}

func splitVarBody(body string) (key, def string, hasDef, ok bool) {
	c := strings.IndexByte(body, ',')
	if c < 0 {
		key = strings.TrimSpace(body)
		return key, "", false, key != ""
	}
	key = strings.TrimSpace(body[:c])
	d := strings.TrimSpace(body[c+1:])
	if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
		return "", "", false, false
	}
	return key, d[1 : len(d)-1], true, key != ""
}

// keys returns the variable keys as written, in order of appearance.
func (t *template) keys() []string {
	var out []string
	for _, p := range t.parts {
		if p.isVar() {
			out = append(out, p.written)
		}
	}
	return out
}

// maxExpansions bounds the combinations tried for multi-valued variables;
// beyond it the multi-valued variables are treated as unknown.
const maxExpansions = 64

// vpiece is a piece of an expanded pattern: text whose * and ? are
// wildcards unless lit is set.
type vpiece struct {
	s   string
	lit bool
}

// stackParts is the template size handled without allocating.
const stackParts = 8

// matchKind selects how an expansion is compared with the subject.
type matchKind uint8

const (
	kindARN        matchKind = iota // Resource, ArnLike/ArnEquals
	kindGlob                        // StringEquals, StringLike (case-sensitive)
	kindGlobFold                    // StringEqualsIgnoreCase (ASCII case folding)
	kindPrefix                      // value known by prefix, String operators
	kindPrefixFold                  // value known by prefix, StringEqualsIgnoreCase
	kindPrefixARN                   // value known by prefix, Arn operators
)

// match expands the template against ctx and compares each expansion with
// subject. likeMode says whether literal text keeps its wildcards
// (Resource, StringLike, ArnLike) or not (StringEquals, ...). A variable
// whose key is unknown is replaced by a wildcard: if even that does not
// match, the answer is false; otherwise it is unknown. A variable whose key
// is absent makes the element match nothing unless it has a default. Values
// of variables are always literal. The common case (single-valued
// variables) does not allocate.
func (t *template) match(ctx *Context, likeMode bool, kind matchKind, subject string) Tri {
	switch kind {
	case kindARN:
		// Only when the first five colons are literal does the wild pattern
		// split like every expansion (a value may contain colons).
		if t.res6 != nil {
			var a arnParts
			a.split(subject)
			if !t.wildRes.matchParts(&a, subject) {
				return TriFalse
			}
			// The first five parts are literal and matched.
			return t.res6.expand(ctx, true, kindGlob, a.p[5])
		}
	case kindGlob:
		if !glob(t.wild, subject) {
			return TriFalse
		}
	case kindGlobFold:
		if !globFold(t.wildLower, toLowerASCII(subject)) {
			return TriFalse
		}
	}
	return t.expand(ctx, likeMode, kind, subject)
}

// expand is match without the quick reject.
func (t *template) expand(ctx *Context, likeMode bool, kind matchKind, subject string) Tri {
	// Fast path: every variable has exactly one value (or a default).
	if len(t.parts) <= stackParts {
		var psBuf [stackParts]vpiece
		ps := psBuf[:0]
	parts:
		for i := range t.parts {
			p := &t.parts[i]
			if !p.isVar() {
				ps = append(ps, vpiece{p.text, p.lit || !likeMode})
				continue
			}
			e := ctx.lookup(p.key)
			switch {
			case e == nil || e.state == KeyUnknown || e.state == KeyPrefix:
				ps = nil
				break parts
			case e.state == KeyAbsent:
				if !p.hasDef {
					return TriFalse
				}
				ps = append(ps, vpiece{p.def, true})
			case len(e.strings) == 1:
				ps = append(ps, vpiece{e.strings[0], true})
			default:
				ps = nil
				break parts
			}
		}
		if ps != nil || len(t.parts) == 0 {
			return testPieces(ps, kind, subject)
		}
	}
	return t.expandAll(ctx, likeMode, kind, subject)
}

// testPieces compares one expansion with the subject.
func testPieces(ps []vpiece, kind matchKind, subject string) Tri {
	switch kind {
	case kindARN:
		return triOf(matchARNPieces(ps, subject))
	case kindGlob:
		return triOf(globPieces(ps, subject, false))
	case kindGlobFold:
		return triOf(globPieces(ps, subject, true))
	}
	pat, mask := materialize(ps)
	if kind == kindPrefixARN {
		return arnPrefixMatch(pat, mask, subject)
	}
	return globPrefix(pat, mask, subject, kind == kindPrefixFold)
}

// expandAll tries every combination of the variables' values.
func (t *template) expandAll(ctx *Context, likeMode bool, kind matchKind, subject string) Tri {
	type choice struct {
		one  string   // the single value (or the default)
		vals []string // several values
		wild bool
	}
	var chBuf [stackParts]choice
	var idxBuf [stackParts]int
	var psBuf [stackParts]vpiece
	n := len(t.parts)
	var choices []choice
	var idx []int
	ps := psBuf[:0]
	if n <= stackParts {
		choices, idx = chBuf[:n], idxBuf[:n]
	} else {
		choices, idx, ps = make([]choice, n), make([]int, n), make([]vpiece, 0, n)
	}
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
				return TriFalse
			}
			choices[i].one = p.def
		case len(e.strings) == 1:
			choices[i].one = e.strings[0]
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
	result := TriFalse
	for {
		ps = ps[:0]
		wild := false
		for i := range t.parts {
			p := &t.parts[i]
			c := &choices[i]
			switch {
			case !p.isVar():
				ps = append(ps, vpiece{p.text, p.lit || !likeMode})
			case c.wild:
				wild = true
				ps = append(ps, vpiece{"*", false})
			case c.vals != nil:
				ps = append(ps, vpiece{c.vals[idx[i]], true})
			default:
				ps = append(ps, vpiece{c.one, true})
			}
		}
		r := testPieces(ps, kind, subject)
		switch {
		case r == TriTrue && !wild:
			return TriTrue
		case r != TriFalse:
			result = TriUnknown
		}
		// Next combination.
		i := n - 1
		for ; i >= 0; i-- {
			if c := &choices[i]; c.vals != nil {
				idx[i]++
				if idx[i] < len(c.vals) {
					break
				}
				idx[i] = 0
			}
		}
		if i < 0 {
			return result
		}
	}
}

// globPieces is glob over a pattern given as pieces. fold compares with
// ASCII case folding on both sides.
func globPieces(ps []vpiece, s string, fold bool) bool {
	pi, po := 0, 0
	starPi, starPo, starS := -1, 0, 0
	sx := 0
	for sx < len(s) {
		for pi < len(ps) && po >= len(ps[pi].s) {
			pi, po = pi+1, 0
		}
		if pi < len(ps) {
			c, lit := ps[pi].s[po], ps[pi].lit
			switch {
			case c == '*' && !lit:
				starPi, starPo, starS = pi, po+1, sx
				po++
				continue
			case c == '?' && !lit:
				po++
				sx += runeLen(s, sx)
				continue
			case c == s[sx] || (fold && lowerASCII(c) == lowerASCII(s[sx])):
				po++
				sx++
				continue
			}
		}
		if starPi < 0 {
			return false
		}
		pi, po = starPi, starPo
		starS += runeLen(s, starS)
		sx = starS
	}
	for {
		for pi < len(ps) && po >= len(ps[pi].s) {
			pi, po = pi+1, 0
		}
		if pi >= len(ps) {
			return true
		}
		if ps[pi].s[po] != '*' || ps[pi].lit {
			return false
		}
		po++
	}
}

// matchARNPieces applies the Resource/ARN matching rules of MatchResource
// to a pattern given as pieces: split both on the first five colons and
// match part by part, or as a whole when the pattern has fewer parts.
func matchARNPieces(ps []vpiece, subject string) bool {
	if len(ps) == 1 && ps[0].s == "*" && !ps[0].lit {
		return true
	}
	colons := 0
	for _, p := range ps {
		colons += strings.Count(p.s, ":")
	}
	if colons < 5 {
		return globPieces(ps, subject, false)
	}
	var sub arnParts
	sub.split(subject)
	if sub.n != 6 {
		return false
	}
	var segBuf [stackParts]vpiece
	seg := segBuf[:0]
	part := 0
	for _, p := range ps {
		text := p.s
		for part < 5 {
			i := strings.IndexByte(text, ':')
			if i < 0 {
				break
			}
			if i > 0 {
				seg = append(seg, vpiece{text[:i], p.lit})
			}
			if !globPieces(seg, sub.p[part], false) {
				return false
			}
			seg = seg[:0]
			part++
			text = text[i+1:]
		}
		if text != "" {
			seg = append(seg, vpiece{text, p.lit})
		}
	}
	return globPieces(seg, sub.p[5], false)
}

// materialize turns pieces into a string and a literal mask.
func materialize(ps []vpiece) (string, []bool) {
	var b strings.Builder
	var mask []bool
	for _, p := range ps {
		b.WriteString(p.s)
		for range len(p.s) {
			mask = append(mask, p.lit)
		}
	}
	return b.String(), mask
}

// unknownKeys appends the written keys of variables whose value is unknown
// in ctx.
func (t *template) unknownKeys(ctx *Context, add func(string)) {
	combos := 1
	for _, p := range t.parts {
		if !p.isVar() {
			continue
		}
		e := ctx.lookup(p.key)
		if e == nil || e.state == KeyUnknown || e.state == KeyPrefix {
			add(p.written)
		} else if e.state == KeyPresent {
			combos = min(combos*len(e.strings), maxExpansions+1)
		}
	}
	if combos <= maxExpansions {
		return
	}
	for _, p := range t.parts {
		if e := ctx.lookup(p.key); p.isVar() && e != nil && e.state == KeyPresent && len(e.strings) > 1 {
			add(p.written)
		}
	}
}
