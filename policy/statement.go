package policy

// Statement-level matching, used by Evaluate and exported for callers that
// inspect single statements (least-privilege checks, reports).

// evalReq is one request prepared for matching: split once, reused for
// every statement.
type evalReq struct {
	act      preparedAction
	res      arnParts
	resource string
	prin     requestPrincipal
	ctx      *Context
	// unk is set when the resource is only partly known: resource is then
	// the known prefix.
	unk *unknownSet
}

// set prepares the request; it fails only for an invalid
// Request.ResourceUnknown.
func (r *evalReq) set(req *Request) error {
	r.act.set(req.Action)
	r.resource = req.Resource
	r.res.split(req.Resource)
	r.prin.set(req.Principal)
	r.ctx = req.Context
	r.unk = nil
	if req.ResourceUnknown != nil {
		u, err := newUnknownSet(req.Resource, req.ResourceUnknown)
		if err != nil {
			return err
		}
		r.unk = u
	}
	return nil
}

// display is the request resource as a person reads it.
func (r *evalReq) display() string {
	if r.unk != nil {
		return DisplayResource(r.resource, r.unk.seg)
	}
	return r.resource
}

type principalMode uint8

const (
	principalIgnored  principalMode = iota // identity policies, boundaries, SCPs
	principalRequired                      // resource policies: no Principal → no match
	principalOptional                      // RCPs: no Principal → every principal
)

func (c *compiledStatement) matchAction(r *preparedAction) bool {
	if c.services != nil {
		found := false
		for _, s := range c.services {
			if s == r.lservice {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	m := false
	for i := range c.actions {
		if c.actions[i].match(r) {
			m = true
			break
		}
	}
	return m != c.notAction
}

func (c *compiledStatement) matchResource(r *evalReq) Tri {
	if r.unk != nil {
		t, _ := c.matchResourceUnknown(r)
		return t
	}
	if c.anyResource {
		return TriTrue
	}
	res := TriFalse
	for i := range c.resources {
		res = res.or(c.resources[i].match(&r.res, r.resource, r.ctx))
		if res == TriTrue {
			break
		}
	}
	if c.notResource {
		return res.not()
	}
	return res
}

func (c *compiledStatement) matchPrincipal(r *requestPrincipal, pm principalMode) principalKind {
	if pm == principalIgnored {
		return pkDirect
	}
	switch {
	case c.principal != nil:
		return c.principal.match(r)
	case c.notPrincipal != nil:
		if c.notPrincipal.excludes(r) {
			return pkNone
		}
		return pkDirect
	case pm == principalOptional:
		return pkDirect
	}
	return pkNone
}

func (c *compiledStatement) matchConditions(ctx *Context) Tri {
	res := TriTrue
	for i := range c.conds {
		res = res.and(c.conds[i].eval(ctx))
		if res == TriFalse {
			return res
		}
	}
	return res
}

// applies says whether the statement applies to the request (true, false or
// unknown) and how its Principal names the caller. partial is true when the
// answer is unknown because the statement's Resource matches only some
// values of the request's unknown resource segment.
func (c *compiledStatement) applies(r *evalReq, pm principalMode) (t Tri, pk principalKind, partial bool) {
	if !c.matchAction(&r.act) {
		return TriFalse, pkNone, false
	}
	pk = c.matchPrincipal(&r.prin, pm)
	if pk == pkNone {
		return TriFalse, pkNone, false
	}
	var res Tri
	if r.unk != nil {
		res, partial = c.matchResourceUnknown(r)
	} else {
		res = c.matchResource(r)
	}
	if res == TriFalse {
		return res, pkNone, false
	}
	res = res.and(c.matchConditions(r.ctx))
	if res == TriFalse {
		return res, pkNone, false
	}
	return res, pk, partial
}

// unknownKeys reports the keys that make the statement's resource or
// conditions unknown.
func (c *compiledStatement) unknownKeys(r *evalReq, add func(string)) {
	if !c.anyResource {
		for i := range c.resources {
			if t := c.resources[i].tmpl; t != nil && r.unk != nil {
				t.unknownKeys(r.ctx, add)
			} else if t != nil && c.resources[i].match(&r.res, r.resource, r.ctx) == TriUnknown {
				t.unknownKeys(r.ctx, add)
			}
		}
	}
	for i := range c.conds {
		if c.conds[i].eval(r.ctx) == TriUnknown {
			c.conds[i].unknownKeys(r.ctx, add)
		}
	}
}

// MatchesAction reports whether the statement's Action (or NotAction)
// covers action (case-insensitive, wildcards; ecs-facts §5.2).
func (s *Statement) MatchesAction(action string) bool {
	var r preparedAction
	r.set(action)
	return s.compiled.matchAction(&r)
}

// MatchesResource reports whether the statement's Resource (or
// NotResource) covers resource, expanding policy variables from ctx (nil:
// all unknown). The result is unknown only when a variable's value is
// unknown. A statement with neither element covers every resource.
func (s *Statement) MatchesResource(resource string, ctx *Context) Tri {
	var r evalReq
	r.resource = resource
	r.res.split(resource)
	r.ctx = ctx
	return s.compiled.matchResource(&r)
}

// MatchesResourceUnknown is MatchesResource for a partly known resource:
// the known prefix, then the run u describes. TriTrue: the statement covers
// every value of the run; TriFalse: none; TriUnknown: some (or a policy
// variable's value is unknown). An invalid u gives TriUnknown.
func (s *Statement) MatchesResourceUnknown(prefix string, u *UnknownSegment, ctx *Context) Tri {
	var r evalReq
	if err := r.set(&Request{Resource: prefix, ResourceUnknown: u, Context: ctx}); err != nil {
		return TriUnknown
	}
	t, _ := s.compiled.matchResourceUnknown(&r)
	return t
}

// MatchesPrincipal reports whether the statement's Principal (or
// NotPrincipal) applies to principal, as in a resource-based policy. A
// statement without either element matches no principal.
func (s *Statement) MatchesPrincipal(principal string) bool {
	var r requestPrincipal
	r.set(principal)
	return s.compiled.matchPrincipal(&r, principalRequired) != pkNone
}

// ConditionsHold evaluates the statement's Condition block against ctx
// (nil: every key unknown).
func (s *Statement) ConditionsHold(ctx *Context) Tri {
	return s.compiled.matchConditions(ctx)
}

// Applies evaluates the whole statement (action, resource, conditions;
// Principal is ignored, as for identity policies) for one request.
func (s *Statement) Applies(req Request) Tri {
	var r evalReq
	if err := r.set(&req); err != nil {
		return TriUnknown
	}
	t, _, _ := s.compiled.applies(&r, principalIgnored)
	return t
}

// IsDeny reports whether the statement's Effect is Deny.
func (s *Statement) IsDeny() bool { return s.Effect == "Deny" }
