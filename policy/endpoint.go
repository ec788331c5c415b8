package policy

// The VPC endpoint policy layer.
//
// A request that goes through a VPC endpoint is evaluated against the
// endpoint's policy too (docs/facts.md §1.11): the endpoint policy is a
// resource-based policy attached to the endpoint, evaluated in addition to
// the other layers and replacing none of them. It grants nothing by
// itself: the request must be allowed as it would be without the endpoint,
// and the endpoint policy must allow it as well. An explicit Deny in it
// denies. Its statements name principals like any resource-based policy
// (a statement without Principal matches nobody); a statement that names
// the principal's account covers every principal of the account, since
// the endpoint policy only filters and delegates nothing.

// LayerVPCEndpoint is the layer of a VPC endpoint policy
// (Input.VPCEndpointPolicy).
const LayerVPCEndpoint Layer = "vpc-endpoint"

// Reasons of the endpoint layer (the why values of evaluate.go end well
// below these).
const (
	whyEndpointNoGrant why = 100 + iota // the endpoint policy does not allow
	whyAllowEndpoint                    // EvaluateEndpointPolicy: the endpoint policy allows
)

// endpointState is the endpoint layer of one evaluation.
type endpointState struct {
	flags
	// has: a policy was given; only: EvaluateEndpointPolicy, which decides
	// on the endpoint policy alone.
	has, only bool
}

// scanEndpoint records the endpoint policy's statements that apply.
func (e *evaluator) scanEndpoint() {
	if !e.ep.has {
		return
	}
	pol := e.in.VPCEndpointPolicy
	for _, st := range pol.Policy.Statements {
		c := &st.compiled
		t, pk, partial := c.applies(&e.r, principalRequired)
		if t == TriFalse {
			continue
		}
		e.ep.add(c.deny, t)
		e.record(hit{pol, st, 0, lidEP, t, pk, partial})
	}
}

// decide is decideLayers with the endpoint layer: an explicit Deny in the
// endpoint policy denies unless another layer already denies explicitly,
// and a request the other layers allow is allowed only if the endpoint
// policy allows it too.
func (e *evaluator) decide(best bool) outcome {
	var o outcome
	if e.ep.only {
		o = outcome{Allowed, LayerVPCEndpoint, 0, whyAllowEndpoint}
	} else {
		o = e.decideLayers(best)
	}
	if !e.ep.has {
		if e.ep.only {
			return outcome{ImplicitDeny, LayerVPCEndpoint, 0, whyEndpointNoGrant}
		}
		return o
	}
	if o.d != ExplicitDeny && e.ep.deny(best) {
		return outcome{ExplicitDeny, LayerVPCEndpoint, 0, whyExplicit}
	}
	if o.d == Allowed && !e.ep.allow(best) {
		return outcome{ImplicitDeny, LayerVPCEndpoint, 0, whyEndpointNoGrant}
	}
	return o
}

// EvaluateEndpointPolicy decides a request on a VPC endpoint policy alone:
// whether the endpoint lets it through, whatever the other layers say. It
// is for requests that no identity of the scan signs, such as the download
// of an image layer through the presigned URL ECR hands out. The principal
// may be "" (unknown): then only statements whose Principal is "*" can
// apply. A nil policy (or one without a document) lets nothing through:
// the caller passes only endpoints whose policy was read.
func EvaluateEndpointPolicy(p *NamedPolicy, req Request) Result {
	in := &Input{VPCEndpointPolicy: p}
	var e evaluator
	if err := e.init(in, &req); err != nil {
		return Result{Decision: Indeterminate, Reason: "the unknown part of the request resource is invalid: " + err.Error(),
			Outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny}}
	}
	e.ep.only = true
	e.scan()
	best, worst := e.decide(true), e.decide(false)
	switch {
	case best.d != Allowed:
		return e.certain(best)
	case worst.d == Allowed:
		return e.certain(worst)
	}
	return e.indeterminate(best, worst)
}

// appendEndpointReason writes the reason of an outcome of the endpoint
// layer.
func (e *evaluator) appendEndpointReason(b []byte, o outcome, refs []StatementRef) []byte {
	name := ""
	if e.ep.has {
		name = e.in.VPCEndpointPolicy.Name
	}
	if o.why == whyAllowEndpoint {
		b = append(b, "allowed by the VPC endpoint policy"...)
		return e.appendFirst(b, refs, LayerVPCEndpoint)
	}
	b = append(b, "the VPC endpoint policy"...)
	if name != "" {
		b = append(b, " (policy "...)
		b = append(b, name...)
		b = append(b, ')')
	}
	b = append(b, " does not allow "...)
	b = e.appendPrincipal(b)
	b = append(b, " to perform "...)
	b = e.appendRequest(b)
	if !e.ep.only {
		b = append(b, " (the request goes through the endpoint, and the endpoint policy must allow it as well as the other policies)"...)
	}
	return b
}
