package policy

import (
	"bytes"
	"strings"
)

// Condition evaluation, three-valued (ecs-facts §5.4):
//   - operators and keys of one block: AND; values of one key: OR; negated
//     operators: the key must match none of the values;
//   - a missing key: false for normal operators, true for negated ones,
//     true for ...IfExists; Null "true" means absent;
//   - ForAllValues: true for an absent or empty key, else every context
//     value must match some policy value; ForAnyValue: false for an absent
//     key, else some context value must match some policy value;
//   - an unknown key: unknown (for Null too).
//
// A single-valued operator applied to a multi-valued key is true when any
// context value matches any policy value (negated: when none does).

func (c *compiledCond) eval(ctx *Context) Tri {
	if c.broken {
		return TriFalse
	}
	e := ctx.lookup(c.key)
	if e == nil || e.state == KeyUnknown {
		return TriUnknown
	}
	if c.fam == famNull {
		present := e.state != KeyAbsent
		return triOf(present != c.nullWant)
	}
	switch e.state {
	case KeyAbsent:
		switch {
		case c.ifExists:
			return TriTrue
		case c.set == setForAll:
			return TriTrue
		case c.set == setForAny:
			return TriFalse
		}
		return triOf(c.negated)
	case KeyPrefix:
		// One value, known by its prefix: every set mode reduces to the
		// single-value test.
		r := c.anyValuePrefix(e.prefix, ctx)
		if c.negated {
			return r.not()
		}
		return r
	}
	switch c.set {
	case setForAll:
		res := TriTrue
		for i := range e.vals {
			res = res.and(c.single(&e.vals[i], ctx))
			if res == TriFalse {
				return res
			}
		}
		return res
	case setForAny:
		res := TriFalse
		for i := range e.vals {
			res = res.or(c.single(&e.vals[i], ctx))
			if res == TriTrue {
				return res
			}
		}
		return res
	}
	any := TriFalse
	for i := range e.vals {
		any = any.or(c.anyValue(&e.vals[i], ctx))
		if any == TriTrue {
			break
		}
	}
	if c.negated {
		return any.not()
	}
	return any
}

// single is the test of one context value: it matches some policy value,
// or for a negated operator, none.
func (c *compiledCond) single(v *ctxVal, ctx *Context) Tri {
	r := c.anyValue(v, ctx)
	if c.negated {
		return r.not()
	}
	return r
}

// anyValue: does context value v match any of the policy values under the
// positive form of the operator?
func (c *compiledCond) anyValue(v *ctxVal, ctx *Context) Tri {
	res := TriFalse
	for i := range c.vals {
		res = res.or(c.pos(v, &c.vals[i], ctx))
		if res == TriTrue {
			return res
		}
	}
	return res
}

// pos compares one context value with one policy value under the positive
// operator.
func (c *compiledCond) pos(v *ctxVal, p *condVal, ctx *Context) Tri {
	switch c.fam {
	case famString:
		if p.tmpl != nil {
			if c.cmp == cmpEqIC {
				return p.tmpl.match(ctx, false, kindGlobFold, v.s)
			}
			return p.tmpl.match(ctx, c.cmp == cmpLike, kindGlob, v.s)
		}
		switch c.cmp {
		case cmpEqIC:
			return triOf(strings.EqualFold(p.s, v.s))
		case cmpLike:
			return triOf(glob(p.s, v.s))
		}
		return triOf(p.s == v.s)
	case famARN:
		if p.tmpl != nil {
			return p.tmpl.match(ctx, true, kindARN, v.s)
		}
		var a arnParts
		a.split(v.s)
		return triOf(p.arn.matchParts(&a, v.s))
	case famNumeric:
		tv := v.typedForms()
		if !tv.numOK {
			return TriFalse
		}
		return triOf(compare(c.cmp, cmp3(tv.num, p.num)))
	case famDate:
		tv := v.typedForms()
		if !tv.tOK {
			return TriFalse
		}
		return triOf(compare(c.cmp, tv.t.Compare(p.t)))
	case famBool:
		tv := v.typedForms()
		return triOf(tv.bOK && tv.b == p.b)
	case famBinary:
		tv := v.typedForms()
		return triOf(tv.binOK && bytes.Equal(tv.bin, p.bin))
	case famIP:
		tv := v.typedForms()
		return triOf(tv.ip.IsValid() && p.pfx.Contains(tv.ip))
	}
	return TriFalse
}

func cmp3(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare applies the operator to the sign of context value - policy value.
func compare(op condCmp, sign int) bool {
	switch op {
	case cmpLT:
		return sign < 0
	case cmpLTE:
		return sign <= 0
	case cmpGT:
		return sign > 0
	case cmpGTE:
		return sign >= 0
	}
	return sign == 0
}

// anyValuePrefix: does a value known only to start with prefix match any
// policy value under the positive operator?
func (c *compiledCond) anyValuePrefix(prefix string, ctx *Context) Tri {
	res := TriFalse
	for i := range c.vals {
		p := &c.vals[i]
		var r Tri
		switch c.fam {
		case famString, famARN:
			like := c.cmp == cmpLike
			switch {
			case p.tmpl != nil:
				kind := kindPrefix
				if c.fam == famARN {
					kind = kindPrefixARN
				} else if c.cmp == cmpEqIC {
					kind = kindPrefixFold
				}
				r = p.tmpl.match(ctx, like, kind, prefix)
			case c.fam == famARN:
				r = arnPrefixMatch(p.s, nil, prefix)
			case like:
				r = globPrefix(p.s, nil, prefix, false)
			default:
				r = globPrefix(p.s, allTrue(len(p.s)), prefix, c.cmp == cmpEqIC)
			}
		default:
			r = TriUnknown
		}
		res = res.or(r)
		if res == TriTrue {
			return res
		}
	}
	return res
}

func allTrue(n int) []bool {
	m := make([]bool, n)
	for i := range m {
		m[i] = true
	}
	return m
}

// unknownKeys appends the keys that make this condition unknown in ctx: the
// condition key itself when it is unknown or known only by prefix, and the
// keys of unknown policy variables in its values.
func (c *compiledCond) unknownKeys(ctx *Context, add func(string)) {
	e := ctx.lookup(c.key)
	if e == nil || e.state == KeyUnknown || e.state == KeyPrefix {
		add(c.written)
	}
	for i := range c.vals {
		if t := c.vals[i].tmpl; t != nil {
			t.unknownKeys(ctx, add)
		}
	}
}
