package findings

import "github.com/ecs-audit/audit/policy"

// evaluateReadings decides a need with the policy engine: its resource
// (with the unknown run when it is known only in part) and, for an
// ambiguous resource, its second reading too. req is completed with the
// first reading's resource. ambiguous is true when the answer is
// Indeterminate because the two readings differ.
func evaluateReadings(in *policy.Input, req *policy.Request, n *Need) (r policy.Result, ambiguous bool) {
	req.Resource, req.ResourceUnknown = n.request()
	r = policy.Evaluate(in, *req)
	if n.req != nil && r.UnknownResource != nil {
		r.Reason += "; " + n.req.why
	}
	if n.alt != nil {
		return bothReadings(in, *req, r, n)
	}
	return r, false
}

// bothReadings decides an ambiguous resource (an unresolved secret name that
// ends like the 6-character suffix: a full ARN as written, or the partial
// ARN of a longer name) under its second reading too. The same decision
// under both is that decision; otherwise the need is Indeterminate, unless
// neither reading can be allowed (then the more favourable denial, as the
// engine does for unknown conditions).
func bothReadings(in *policy.Input, req policy.Request, first policy.Result, n *Need) (policy.Result, bool) {
	alt := req
	alt.Resource, alt.ResourceUnknown = n.alt.prefix, n.alt.unknown
	second := policy.Evaluate(in, alt)
	if second.UnknownResource != nil {
		second.Reason += "; " + n.alt.why
	}
	if first.Decision == second.Decision && first.Decision != policy.Indeterminate {
		return first, false
	}
	o1, o2 := outcomes(first), outcomes(second)
	best, worst := o1.BestCase, o1.WorstCase
	if rank(o2.BestCase) > rank(best) {
		best = o2.BestCase
	}
	if rank(o2.WorstCase) < rank(worst) {
		worst = o2.WorstCase
	}
	if best != policy.Allowed {
		if rank(second.Decision) > rank(first.Decision) {
			return second, false
		}
		return first, false
	}
	res := policy.Result{Decision: policy.Indeterminate, DecidingLayer: first.DecidingLayer, Level: first.Level,
		Reason: "the secret was not resolved, and its name ends like the 6-character suffix: read as the full ARN " + req.Resource +
			" the decision is " + string(first.Decision) + " (" + first.Reason + "); read as a partial ARN (" + n.alt.display() + ") it is " +
			string(second.Decision) + " (" + second.Reason + ")",
		Statements:      append(append([]policy.StatementRef(nil), first.Statements...), second.Statements...),
		UnknownKeys:     append(append([]policy.UnknownKey(nil), first.UnknownKeys...), second.UnknownKeys...),
		UnknownResource: second.UnknownResource,
		Outcomes:        &policy.Outcomes{BestCase: best, WorstCase: worst},
	}
	if first.Decision == policy.Allowed {
		res.DecidingLayer, res.Level = second.DecidingLayer, second.Level
	}
	return res, true
}

// outcomes is the best and the worst case of a result.
func outcomes(r policy.Result) policy.Outcomes {
	if r.Outcomes != nil {
		return *r.Outcomes
	}
	return policy.Outcomes{BestCase: r.Decision, WorstCase: r.Decision}
}

// rank orders decisions from the requester's point of view.
func rank(d policy.Decision) int {
	switch d {
	case policy.Allowed:
		return 3
	case policy.Indeterminate:
		return 2
	case policy.ImplicitDeny:
		return 1
	}
	return 0
}
